//! What one SMS does, decided in pure code from the survey it belongs to (if any): what to
//! store, what to send back and what to announce. Time is the SMS's `received_at`, so the
//! same SMS decides the same way on the guarded and the locked path.

use serde_json::{Value, json};

use super::render;
use crate::{
    channels::{
        compose::{ComposeError, Texts},
        templates,
    },
    domain::{
        conversation::{self, Event, Outgoing, Step, Survey},
        phone::PhoneNumber,
        reply::AnswerValue,
    },
    store::conversation::{
        Current, Inbound, Progress,
        reply::{Announcement, Answer, Reply},
    },
};

/// What became of an inbound SMS, stored as `inbound_messages.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// The provider sent this message before: nothing changed.
    Duplicate,
    Answer,
    Reprompt,
    Skipped,
    Keyword,
    Late,
    Unsolicited,
}

impl ReplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Answer => "answer",
            Self::Reprompt => "reprompt",
            Self::Skipped => "skipped",
            Self::Keyword => "keyword",
            Self::Late => "late",
            Self::Unsolicited => "unsolicited",
        }
    }
}

pub struct Plan<'a> {
    pub outcome: ReplyOutcome,
    pub write: Reply<'a>,
    /// Messages the conversation asked for that could not be composed, left out of `write`
    /// for the caller to report.
    pub not_composed: Vec<ComposeError>,
}

impl Plan<'_> {
    /// Whether the one guarded statement can write it: the common reply to a survey, with
    /// no keyword, opt-out or event, which only the locked transaction writes.
    pub fn guardable(&self) -> bool {
        let w = &self.write;
        w.survey.is_some()
            && !w.opt_out
            && !w.opt_in
            && w.announce.is_empty()
            && self.outcome != ReplyOutcome::Keyword
    }
}

/// The plan for `sms` from the phone whose survey is `survey` (none: it never had one).
/// A reply under another sender's signature answers that sender, not us: it is stored as
/// unsolicited and nothing else, not even a keyword (a `TD` there unsubscribes from them).
pub fn reply<'a>(texts: &Texts<'a>, survey: Option<&'a Current>, sms: &'a Inbound<'a>) -> Plan<'a> {
    if sms.other_signature.is_some() {
        return to_another_sender(sms);
    }
    match survey {
        Some(current) => converse(texts, current, sms),
        None => unsolicited(texts, sms),
    }
}

fn to_another_sender<'a>(sms: &'a Inbound<'a>) -> Plan<'a> {
    Plan {
        outcome: ReplyOutcome::Unsolicited,
        write: Reply {
            sms,
            outcome: ReplyOutcome::Unsolicited.as_str(),
            survey: None,
            answers: Vec::new(),
            send: Vec::new(),
            opt_out: false,
            opt_in: false,
            announce: Vec::new(),
        },
        not_composed: Vec::new(),
    }
}

fn converse<'a>(texts: &Texts<'a>, current: &'a Current, sms: &'a Inbound<'a>) -> Plan<'a> {
    let def = texts.survey;
    let before = survey_of(current);
    let step = conversation::advance(def, &before, sms.body, sms.received_at);
    debug_assert!(current.state.can_move_to(step.state.status));
    let to = render::Recipient {
        survey_id: Some(current.id),
        phone: sms.from,
        language: &current.language,
        // Parsed only when something is sent: most replies send nothing.
        mainland_china: !step.send.is_empty() && mainland_china(sms.from),
        values: templates::values(&current.agent_id, &current.queue),
    };
    let outcome = outcome_of(&before, &step);
    let (send, not_composed) = messages(texts, &step.send, &to);
    Plan {
        outcome,
        not_composed,
        write: Reply {
            sms,
            outcome: outcome.as_str(),
            survey: Some((current.id, progress_of(&step))),
            answers: step
                .answers
                .iter()
                .map(|a| Answer {
                    question_id: a.question_id.clone(),
                    value: value(&a.value),
                    late: step.late,
                    remark: a.remark,
                })
                .collect(),
            send,
            opt_out: step.opt_out,
            opt_in: step.opt_in,
            announce: step.events.iter().map(announcement).collect(),
        },
    }
}

/// A phone with no survey: only a keyword gets an answer.
fn unsolicited<'a>(texts: &Texts<'a>, sms: &'a Inbound<'a>) -> Plan<'a> {
    let def = texts.survey;
    let action = conversation::unsolicited(sms.body);
    let outcome = match action {
        Some(_) => ReplyOutcome::Keyword,
        None => ReplyOutcome::Unsolicited,
    };
    let to = render::Recipient {
        survey_id: None,
        phone: sms.from,
        language: &def.default_language,
        mainland_china: action.is_some() && mainland_china(sms.from),
        values: templates::Values::new(),
    };
    let outgoing: Vec<Outgoing> = action.iter().map(|a| a.send).collect();
    let (send, not_composed) = messages(texts, &outgoing, &to);
    Plan {
        outcome,
        not_composed,
        write: Reply {
            sms,
            outcome: outcome.as_str(),
            survey: None,
            answers: Vec::new(),
            send,
            opt_out: action.is_some_and(|a| a.opt_out),
            opt_in: action.is_some_and(|a| a.opt_in),
            announce: Vec::new(),
        },
    }
}

/// A message that cannot be composed is left out: config validation checks every template
/// and length the survey can need, so this is a survey text over a mainland SMS's 500
/// characters. Failing the reply instead would only make the provider retry it.
fn messages<'a>(
    texts: &Texts<'a>,
    send: &[Outgoing],
    to: &render::Recipient<'a>,
) -> (Vec<crate::store::messages::New<'a>>, Vec<ComposeError>) {
    let (mut composed, mut failed) = (Vec::new(), Vec::new());
    for outgoing in send {
        match render::message(texts, *outgoing, to) {
            Ok(message) => composed.push(message),
            Err(e) => failed.push(e),
        }
    }
    (composed, failed)
}

/// Mainland-China SMS carry the sender's signature and the unsubscribe hint.
fn mainland_china(phone: &str) -> bool {
    PhoneNumber::parse(phone)
        .ok()
        .and_then(|p| p.region().map(|r| r == "CN"))
        .unwrap_or(false)
}

/// The survey as the conversation sees it: which questions are answered, not the values (no
/// rule reads them; events build their payload from the database).
fn survey_of(current: &Current) -> Survey {
    Survey {
        status: current.state.replied_to(),
        question: current.question_index.max(0) as usize,
        reprompted: current.reprompted,
        answered: current.answered.clone(),
        // A survey still `sending` has no deadline yet: it cannot have expired.
        expires_at: current
            .expires_at
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    }
}

fn progress_of(step: &Step) -> Progress {
    Progress {
        state: step.state.status,
        question_index: step.state.question as i32,
        reprompted: step.state.reprompted,
        expires_at: step.state.expires_at,
    }
}

fn announcement(event: &Event) -> Announcement {
    Announcement {
        routing_key: event.routing_key(),
        reasons: match event {
            Event::Detractor(reasons) => Some(reasons.iter().map(|r| r.as_str()).collect()),
            Event::Completed => None,
        },
    }
}

fn outcome_of(before: &Survey, step: &Step) -> ReplyOutcome {
    if step.opt_out || step.opt_in || step.send.iter().any(|o| matches!(o, Outgoing::Help)) {
        ReplyOutcome::Keyword
    } else if step.late {
        ReplyOutcome::Late
    } else if !step.answers.is_empty() {
        ReplyOutcome::Answer
    } else if step.state.reprompted && !before.reprompted {
        ReplyOutcome::Reprompt
    } else {
        ReplyOutcome::Skipped
    }
}

/// `true`/`false`, an integer, or a string (DESIGN.md §5).
fn value(answer: &AnswerValue) -> Value {
    match answer {
        AnswerValue::YesNo(b) => json!(b),
        AnswerValue::Scale(n) => json!(n),
        AnswerValue::Text(t) => json!(t),
    }
}

#[cfg(test)]
mod tests;
