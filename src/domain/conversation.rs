//! The survey conversation (DESIGN.md §3): what one customer reply does to a survey, what to
//! send back and which events to publish (§5). Pure: the caller stores the state, the raw
//! reply and the recorded answer, renders the texts and sends them.

use chrono::{DateTime, TimeDelta, Utc};

use super::lifecycle::MessagePurpose;
pub use super::lifecycle::SurveyState;
use super::reply::{
    self, AnswerValue, Keyword, Labels, Reply,
    compact::{self, Pair, PairReply},
};
use super::survey::{Metric, Question, SurveyDefinition};

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub question_id: String,
    pub value: AnswerValue,
    /// Read past words around it that are not the answer (`4分 等了很久`): the reply's raw
    /// text says more than the value, and the feedback list shows it.
    pub remark: bool,
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
    /// The ids of the questions answered so far: of a pair, the part still awaited is the
    /// one not answered.
    pub answered: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// What to send next; texts are rendered elsewhere from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing {
    Question(usize),
    Reprompt(usize),
    /// The re-prompt of the pair of questions starting at this one, asked together.
    RepromptPair(usize),
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
            Self::Question(_) | Self::Reprompt(_) | Self::RepromptPair(_) => {
                MessagePurpose::FollowUp
            }
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
    /// Recorded by this reply (for a late reply: stored, but not in `state`): one, or two
    /// for a reply to a pair.
    pub answers: Vec<Answer>,
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
        answered: Vec::new(),
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
    let awaited = awaited(def, &state);
    let heard = match awaited {
        Some(a) => hear(def, a, reply),
        // Nothing is pending (completed, or a definition shorter than this survey):
        // only a keyword can mean anything.
        None => reply::keyword(reply).map_or(Heard::NotUnderstood, Heard::Keyword),
    };
    let mut step = match awaited {
        Some(a) if state.status == SurveyState::Open => live(def, state, a, heard),
        _ => late(def, state, heard),
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

/// What an open survey waits on: one question, or a pair asked in one SMS of which
/// neither part is answered yet.
#[derive(Debug, Clone, Copy)]
enum Awaited<'a> {
    One(usize, &'a Question),
    Pair(usize),
}

fn awaited<'a>(def: &'a SurveyDefinition, state: &Survey) -> Option<Awaited<'a>> {
    let i = state.question;
    let q = def.questions.get(i)?;
    let second_answered = || {
        def.questions
            .get(i + 1)
            .is_some_and(|next| state.answered.contains(&next.id))
    };
    Some(if q.with_next && !second_answered() {
        Awaited::Pair(i)
    } else {
        Awaited::One(i, q)
    })
}

/// A reply as read for what the survey waits on.
#[derive(Debug, Clone, PartialEq)]
enum Heard {
    Keyword(Keyword),
    /// One answer, or both of a pair, with the index of the question each answers, and
    /// whether the reply was read past a remark (then both of a pair came with it).
    Answers {
        values: Vec<(usize, AnswerValue)>,
        remark: bool,
    },
    NotUnderstood,
}

fn hear(def: &SurveyDefinition, awaited: Awaited<'_>, text: &str) -> Heard {
    match awaited {
        Awaited::One(i, q) => {
            let read = reply::read(text, &q.kind, &q.labels);
            match read.reply {
                Reply::Keyword(k) => Heard::Keyword(k),
                Reply::Answer(value) => Heard::Answers {
                    values: vec![(i, value)],
                    remark: read.remark,
                },
                Reply::NotUnderstood => Heard::NotUnderstood,
            }
        }
        Awaited::Pair(i) => match compact::read_pair(text, pair_labels(def, i)) {
            (PairReply::Keyword(k), _) => Heard::Keyword(k),
            (
                PairReply::Answer(Pair {
                    resolved,
                    satisfaction,
                }),
                remark,
            ) => {
                debug_assert!(def.questions.len() > i + 1, "config checks a pair has two");
                let first = resolved.map(|r| (i, AnswerValue::YesNo(r)));
                let second = satisfaction.map(|s| (i + 1, AnswerValue::Scale(s)));
                Heard::Answers {
                    values: first.into_iter().chain(second).collect(),
                    remark,
                }
            }
            (PairReply::NotUnderstood, _) => Heard::NotUnderstood,
        },
    }
}

/// The labels of the pair's second question, its scale.
fn pair_labels(def: &SurveyDefinition, i: usize) -> &Labels {
    static NONE: Labels = Labels::none();
    def.questions.get(i + 1).map_or(&NONE, |q| &q.labels)
}

/// A reply to what an open survey is waiting on.
fn live(def: &SurveyDefinition, state: Survey, awaited: Awaited<'_>, heard: Heard) -> Step {
    match heard {
        Heard::Keyword(k) => keyword_step(state, k, true),
        Heard::Answers { values, remark } => answered(def, state, awaited, values, remark),
        Heard::NotUnderstood => not_understood(def, state, awaited),
    }
}

/// A reply to a survey that has ended: an answer is kept for the record only, keywords act
/// as they would anywhere (an opt-out is honoured whenever it comes).
fn late(def: &SurveyDefinition, state: Survey, heard: Heard) -> Step {
    let mut step = match heard {
        Heard::Keyword(k) => keyword_step(state, k, false),
        Heard::Answers { values, remark } => Step {
            answers: answers_to(def, values, remark),
            ..Step::quiet(state)
        },
        Heard::NotUnderstood => Step::quiet(state),
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

fn answered(
    def: &SurveyDefinition,
    mut state: Survey,
    awaited: Awaited<'_>,
    values: Vec<(usize, AnswerValue)>,
    remark: bool,
) -> Step {
    let answers = answers_to(def, values, remark);
    // One event for the reply, with each answer's own reason.
    let reasons: Vec<DetractorReason> = answers
        .iter()
        .filter_map(|a| detractor_reason(def, a))
        .collect();
    state
        .answered
        .extend(answers.iter().map(|a| a.question_id.clone()));
    let mut step = match (awaited, answers.as_slice()) {
        // One part of a pair: the other gets its own re-prompt, once.
        (Awaited::Pair(i), [only]) if !state.reprompted => {
            let other = if only.question_id == def.questions[i].id {
                i + 1
            } else {
                i
            };
            state.question = other;
            state.reprompted = true;
            Step {
                send: vec![Outgoing::Reprompt(other)],
                ..Step::quiet(state)
            }
        }
        _ => move_on(def, state),
    };
    // The detractor came first: it is why a callback team is alerted, before the end.
    if !reasons.is_empty() {
        step.events.insert(0, Event::Detractor(reasons));
    }
    step.answers = answers;
    step
}

/// One re-prompt per question (or pair), saying what is expected; the second miss skips it
/// unanswered, so a customer who cannot be understood (or an auto-responder) never keeps
/// the survey going.
fn not_understood(def: &SurveyDefinition, mut state: Survey, awaited: Awaited<'_>) -> Step {
    if state.reprompted {
        return move_on(def, state);
    }
    state.reprompted = true;
    let send = match awaited {
        Awaited::One(i, _) => Outgoing::Reprompt(i),
        Awaited::Pair(i) => Outgoing::RepromptPair(i),
    };
    Step {
        send: vec![send],
        ..Step::quiet(state)
    }
}

/// To the next question (past a pair if this one is asked with the next), or past the last
/// one to the end, which is thanked for however the last question was left (answered or
/// skipped): it tells the customer nothing more is asked.
fn move_on(def: &SurveyDefinition, mut state: Survey) -> Step {
    state.question = def.next_after(state.question);
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

fn answers_to(
    def: &SurveyDefinition,
    values: Vec<(usize, AnswerValue)>,
    remark: bool,
) -> Vec<Answer> {
    values
        .into_iter()
        .map(|(i, value)| Answer {
            question_id: def.questions[i].id.clone(),
            value,
            remark,
        })
        .collect()
}

/// Thresholds from DESIGN.md §5. A value of the wrong kind for its metric (a misconfigured
/// question) makes no detractor rather than a guess.
fn detractor_reason(def: &SurveyDefinition, answer: &Answer) -> Option<DetractorReason> {
    let q = def.questions.iter().find(|q| q.id == answer.question_id)?;
    match (q.metric?, &answer.value) {
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
            answers: Vec::new(),
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
