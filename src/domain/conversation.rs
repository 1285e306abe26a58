//! The survey conversation (DESIGN.md §3): what one customer reply does to a survey, what to
//! send back and which events to publish (§5). Pure: the caller stores the state, the raw
//! reply and the recorded answer, renders the texts and sends them.

use chrono::{DateTime, TimeDelta, Utc};

use super::lifecycle::MessagePurpose;
pub use super::lifecycle::SurveyState;
use super::reply::{self, AnswerValue, Keyword, Reply};
use super::survey::{Metric, Question, SurveyDefinition};

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub question_id: String,
    pub value: AnswerValue,
}

/// A survey as the conversation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// Only `open` takes answers; the conversation moves it to `completed`, `expired` or
    /// `opted_out` (`SurveyState::can_move_to`), and leaves any other state as it is.
    pub status: SurveyState,
    /// Index of the question awaiting an answer; `questions.len()` once completed.
    pub question: usize,
    /// The current question has had its one re-prompt.
    pub reprompted: bool,
    pub answers: Vec<Answer>,
    pub expires_at: DateTime<Utc>,
}

/// What to send next; texts are rendered elsewhere from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing {
    Question(usize),
    Reprompt(usize),
    ThankYou,
    OptOutConfirmation,
    OptInConfirmation,
    Help,
}

impl Outgoing {
    /// Only the first question opens a survey and waits out quiet hours; a later question
    /// or a re-prompt answers the customer's own text.
    pub fn purpose(self) -> MessagePurpose {
        match self {
            Self::Question(0) => MessagePurpose::Question,
            Self::Question(_) | Self::Reprompt(_) => MessagePurpose::FollowUp,
            Self::ThankYou => MessagePurpose::ThankYou,
            Self::OptOutConfirmation => MessagePurpose::OptOutConfirmation,
            Self::OptInConfirmation => MessagePurpose::OptInConfirmation,
            Self::Help => MessagePurpose::Help,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetractorReason {
    Nps,
    Csat,
    Fcr,
}

impl DetractorReason {
    /// As listed in a `survey.detractor` event's `reasons` (DESIGN.md §5).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nps => "nps",
            Self::Csat => "csat",
            Self::Fcr => "fcr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The reasons this one reply added; earlier replies' reasons are not repeated.
    Detractor(Vec<DetractorReason>),
    /// The survey ended: answered to the end, expired, or opted out.
    Completed,
}

impl Event {
    /// The routing key it is published with (DESIGN.md §5).
    pub fn routing_key(&self) -> &'static str {
        match self {
            Self::Detractor(_) => "survey.detractor",
            Self::Completed => "survey.completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub state: Survey,
    /// Recorded by this reply, if any (for a late reply: stored, but not in `state`).
    pub answer: Option<Answer>,
    /// The reply came after the survey ended: stored, changes no score.
    pub late: bool,
    pub send: Vec<Outgoing>,
    pub events: Vec<Event>,
    /// For the caller to record against the phone.
    pub opt_out: bool,
    pub opt_in: bool,
}

/// What a keyword asks for, whether or not the phone has a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordAction {
    pub send: Outgoing,
    pub opt_out: bool,
    pub opt_in: bool,
}

/// NPS detractors are 0–6 (DESIGN.md §5).
const NPS_DETRACTOR_MAX: i32 = 6;
/// "CSAT ≤ 2" on the 1–5 scale (DESIGN.md §5).
const CSAT_DETRACTOR_MAX: i32 = 2;

/// A survey whose first SMS (question 0) has just gone out. The definition is taken so that
/// callers start and advance a survey from the same one.
pub fn start(_def: &SurveyDefinition, now: DateTime<Utc>, expire_after: TimeDelta) -> Survey {
    Survey {
        status: SurveyState::Open,
        question: 0,
        reprompted: false,
        answers: Vec::new(),
        expires_at: now + expire_after,
    }
}

/// The survey after one reply received at `now`.
pub fn advance(def: &SurveyDefinition, state: &Survey, reply: &str, now: DateTime<Utc>) -> Step {
    // The expiry sweep may not have run yet; a survey past its deadline has ended all the
    // same, and its one Completed event is emitted here instead (the sweep then skips it).
    let (state, expired) = match expire(state, now) {
        Some(step) => (step.state, step.events),
        None => (state.clone(), Vec::new()),
    };
    let question = def.questions.get(state.question);
    let parsed = match question {
        Some(q) => reply::parse(reply, &q.kind),
        // Nothing is pending (completed, or a definition shorter than this survey):
        // only a keyword can mean anything.
        None => reply::keyword(reply).map_or(Reply::NotUnderstood, Reply::Keyword),
    };
    let mut step = match question {
        Some(q) if state.status == SurveyState::Open => live(def, state, q, parsed),
        _ => late(state, question, parsed),
    };
    step.events.splice(0..0, expired);
    step
}

/// Some if the survey is open and its deadline has come: it expires, and the answers
/// already given stay.
pub fn expire(state: &Survey, now: DateTime<Utc>) -> Option<Step> {
    if state.status != SurveyState::Open || now < state.expires_at {
        return None;
    }
    let mut step = Step::quiet(state.clone());
    step.state.status = SurveyState::Expired;
    step.events.push(Event::Completed);
    Some(step)
}

/// A message from a phone with no survey at all: stored by the caller, and answered only if
/// it is a keyword. `N` is an opt-out here, as there is no yes/no question it could answer.
pub fn unsolicited(reply: &str) -> Option<KeywordAction> {
    reply::keyword(reply).map(keyword_action)
}

fn keyword_action(keyword: Keyword) -> KeywordAction {
    let (send, opt_out, opt_in) = match keyword {
        Keyword::OptOut => (Outgoing::OptOutConfirmation, true, false),
        Keyword::OptIn => (Outgoing::OptInConfirmation, false, true),
        Keyword::Help => (Outgoing::Help, false, false),
    };
    KeywordAction {
        send,
        opt_out,
        opt_in,
    }
}

/// A reply to the question `q` that an open survey is waiting on.
fn live(def: &SurveyDefinition, state: Survey, q: &Question, parsed: Reply) -> Step {
    match parsed {
        Reply::Keyword(k) => keyword_step(state, k, true),
        Reply::Answer(value) => answered(def, state, q, value),
        Reply::NotUnderstood => not_understood(def, state),
    }
}

/// A reply to a survey that has ended: an answer is kept for the record only, keywords act
/// as they would anywhere (an opt-out is honoured whenever it comes).
fn late(state: Survey, question: Option<&Question>, parsed: Reply) -> Step {
    let mut step = match parsed {
        Reply::Keyword(k) => keyword_step(state, k, false),
        Reply::Answer(value) => {
            let answer = question.map(|q| answer_to(q, value));
            Step {
                answer,
                ..Step::quiet(state)
            }
        }
        Reply::NotUnderstood => Step::quiet(state),
    };
    step.late = true;
    step
}

/// The survey does not move for a keyword, except that an opt-out ends an open one.
fn keyword_step(mut state: Survey, keyword: Keyword, open: bool) -> Step {
    let action = keyword_action(keyword);
    let mut events = Vec::new();
    if action.opt_out && open {
        state.status = SurveyState::OptedOut;
        events.push(Event::Completed);
    }
    Step {
        send: vec![action.send],
        events,
        opt_out: action.opt_out,
        opt_in: action.opt_in,
        ..Step::quiet(state)
    }
}

fn answered(def: &SurveyDefinition, mut state: Survey, q: &Question, value: AnswerValue) -> Step {
    let answer = answer_to(q, value);
    let detractor = detractor_reason(q, &answer.value).map(|r| Event::Detractor(vec![r]));
    state.answers.push(answer.clone());
    let mut step = move_on(def, state);
    // The detractor came first: it is why a callback team is alerted, before the end.
    step.events.splice(0..0, detractor);
    step.answer = Some(answer);
    step
}

/// One re-prompt per question; the second miss skips the question unanswered, so a customer
/// who cannot be understood (or an auto-responder) never keeps the survey going.
fn not_understood(def: &SurveyDefinition, mut state: Survey) -> Step {
    if state.reprompted {
        return move_on(def, state);
    }
    state.reprompted = true;
    let question = state.question;
    Step {
        send: vec![Outgoing::Reprompt(question)],
        ..Step::quiet(state)
    }
}

/// To the next question, or past the last one to the end, which is thanked for however the
/// last question was left (answered or skipped): it tells the customer nothing more is asked.
fn move_on(def: &SurveyDefinition, mut state: Survey) -> Step {
    state.question += 1;
    state.reprompted = false;
    if state.question < def.questions.len() {
        let next = state.question;
        return Step {
            send: vec![Outgoing::Question(next)],
            ..Step::quiet(state)
        };
    }
    state.status = SurveyState::Completed;
    Step {
        send: vec![Outgoing::ThankYou],
        events: vec![Event::Completed],
        ..Step::quiet(state)
    }
}

fn answer_to(q: &Question, value: AnswerValue) -> Answer {
    Answer {
        question_id: q.id.clone(),
        value,
    }
}

/// Thresholds from DESIGN.md §5. A value of the wrong kind for its metric (a misconfigured
/// question) makes no detractor rather than a guess.
fn detractor_reason(q: &Question, value: &AnswerValue) -> Option<DetractorReason> {
    match (q.metric?, value) {
        (Metric::Nps, AnswerValue::Scale(v)) if *v <= NPS_DETRACTOR_MAX => {
            Some(DetractorReason::Nps)
        }
        (Metric::Csat, AnswerValue::Scale(v)) if *v <= CSAT_DETRACTOR_MAX => {
            Some(DetractorReason::Csat)
        }
        (Metric::Fcr, AnswerValue::YesNo(false)) => Some(DetractorReason::Fcr),
        _ => None,
    }
}

impl Step {
    /// The state as given, nothing sent, recorded or published.
    fn quiet(state: Survey) -> Self {
        Step {
            state,
            answer: None,
            late: false,
            send: Vec::new(),
            events: Vec::new(),
            opt_out: false,
            opt_in: false,
        }
    }
}

#[cfg(test)]
mod tests;
