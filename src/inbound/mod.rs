//! A customer's SMS, from whichever provider: stored, matched to the phone's survey, run
//! through the conversation, and its consequences (answer, opt-out, next SMS, events)
//! written in the same transaction.

pub mod expiry;
mod render;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::{
    domain::{
        conversation::{self, Answer, DetractorReason, Event, Status, Step, SurveyState},
        phone::PhoneNumber,
        reply::AnswerValue,
        survey::SurveyDefinition,
    },
    metrics,
    store::{
        conversation::{self as store, Current, Inbound, NewAnswer, Progress},
        messages, opt_outs,
    },
};

pub use render::purpose;

pub const DETRACTOR: &str = "survey.detractor";
pub const COMPLETED: &str = "survey.completed";

/// What became of an inbound SMS, stored as `inbound_messages.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider sent this message before: nothing changed.
    Duplicate,
    Answer,
    Reprompt,
    Skipped,
    Keyword,
    Late,
    Unsolicited,
}

impl Outcome {
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

#[tracing::instrument(name = "reply", skip_all, fields(
    provider = sms.provider, id = sms.provider_message_id, call_id = tracing::field::Empty))]
pub async fn receive(
    pool: &PgPool,
    def: &SurveyDefinition,
    sms: &Inbound<'_>,
) -> sqlx::Result<Outcome> {
    let mut tx = pool.begin().await?;
    let Some(inbound_id) = store::insert_inbound(&mut tx, sms).await? else {
        return Ok(Outcome::Duplicate);
    };
    let mainland = PhoneNumber::parse(sms.from)
        .ok()
        .and_then(|p| p.region().map(|r| r == "CN"))
        .unwrap_or(false);
    let (survey_id, outcome) = match store::current_for(&mut tx, sms.from).await? {
        Some(current) => {
            tracing::Span::current().record("call_id", current.call_id.as_str());
            let outcome = converse(&mut tx, def, &current, sms, inbound_id, mainland).await?;
            (Some(current.id), outcome)
        }
        None => (None, unsolicited(&mut tx, def, sms, mainland).await?),
    };
    store::set_inbound_outcome(&mut tx, inbound_id, survey_id, outcome.as_str()).await?;
    let opted_out_now = opted_out(&mut tx, sms.from).await?;
    tx.commit().await?;
    metrics::reply(outcome.as_str());
    if opted_out_now {
        metrics::opt_out("sms");
    }
    Ok(outcome)
}

async fn converse(
    tx: &mut PgConnection,
    def: &SurveyDefinition,
    current: &Current,
    sms: &Inbound<'_>,
    inbound_id: i64,
    mainland: bool,
) -> sqlx::Result<Outcome> {
    let state = load_state(tx, current).await?;
    let step = conversation::advance(def, &state, sms.body, sms.received_at);
    let outcome = outcome_of(&state, &step);
    if let Some(answer) = &step.answer {
        let new = NewAnswer {
            survey_id: current.id,
            question_id: &answer.question_id,
            value: value(&answer.value),
            raw: sms.body,
            received_at: sms.received_at,
            late: step.late,
            inbound_id,
        };
        store::insert_answer(tx, &new).await?;
    }
    apply_keywords(tx, &step, sms.from).await?;
    let progress = Progress {
        state: state_name(step.state.status),
        question_index: step.state.question as i32,
        reprompted: step.state.reprompted,
        expires_at: step.state.expires_at,
    };
    store::save(tx, current.id, &progress).await?;
    let to = render::Recipient {
        survey_id: Some(current.id),
        phone: sms.from,
        language: &current.language,
        mainland_china: mainland,
    };
    let outgoing: Vec<_> = step
        .send
        .iter()
        .map(|o| render::message(def, *o, &to))
        .collect();
    messages::insert(tx, &outgoing).await?;
    publish(tx, current.id, &step.events).await?;
    Ok(outcome)
}

/// A phone with no survey: only a keyword gets an answer.
async fn unsolicited(
    tx: &mut PgConnection,
    def: &SurveyDefinition,
    sms: &Inbound<'_>,
    mainland: bool,
) -> sqlx::Result<Outcome> {
    let Some(action) = conversation::unsolicited(sms.body) else {
        return Ok(Outcome::Unsolicited);
    };
    if action.opt_out {
        opt_outs::record(tx, sms.from, "sms").await?;
    }
    if action.opt_in {
        opt_outs::remove(tx, sms.from).await?;
    }
    let to = render::Recipient {
        survey_id: None,
        phone: sms.from,
        language: &def.default_language,
        mainland_china: mainland,
    };
    messages::insert(tx, &[render::message(def, action.send, &to)]).await?;
    Ok(Outcome::Keyword)
}

/// Whether this transaction recorded the phone's opt-out (for the metric, after commit).
async fn opted_out(tx: &mut PgConnection, phone: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM opt_outs WHERE customer_phone = $1 AND opted_out_at = now())",
    )
    .bind(phone)
    .fetch_one(tx)
    .await
}

async fn apply_keywords(tx: &mut PgConnection, step: &Step, phone: &str) -> sqlx::Result<()> {
    if step.opt_out {
        // Cancels every other survey in flight and unsent message for the phone; this
        // survey's own state is saved as opted_out right after.
        opt_outs::record(tx, phone, "sms").await?;
    }
    if step.opt_in {
        opt_outs::remove(tx, phone).await?;
    }
    Ok(())
}

async fn load_state(tx: &mut PgConnection, current: &Current) -> sqlx::Result<SurveyState> {
    let answers = store::answers(tx, current.id)
        .await?
        .into_iter()
        .filter_map(|(question_id, v)| answer_value(&v).map(|value| Answer { question_id, value }))
        .collect();
    let status = match current.state.as_str() {
        "completed" => Status::Completed,
        "expired" => Status::Expired,
        "opted_out" => Status::OptedOut,
        _ => Status::Open,
    };
    Ok(SurveyState {
        status,
        question: current.question_index.max(0) as usize,
        reprompted: current.reprompted,
        answers,
        // A survey still `sending` has no deadline yet: it cannot have expired.
        expires_at: current.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
    })
}

/// Writes the step's events to the outbox, with the payload of DESIGN.md §5.
async fn publish(tx: &mut PgConnection, survey_id: i64, events: &[Event]) -> sqlx::Result<()> {
    for event in events {
        let mut payload = store::event_payload(tx, survey_id).await?;
        let key = match event {
            Event::Detractor(reasons) => {
                payload["reasons"] =
                    json!(reasons.iter().map(|r| reason_name(*r)).collect::<Vec<_>>());
                DETRACTOR
            }
            Event::Completed => COMPLETED,
        };
        store::enqueue_event(tx, key, &payload).await?;
    }
    Ok(())
}

fn outcome_of(before: &SurveyState, step: &Step) -> Outcome {
    if step.opt_out
        || step.opt_in
        || step
            .send
            .iter()
            .any(|o| matches!(o, conversation::Outgoing::Help))
    {
        Outcome::Keyword
    } else if step.late {
        Outcome::Late
    } else if step.answer.is_some() {
        Outcome::Answer
    } else if step.state.reprompted && !before.reprompted {
        Outcome::Reprompt
    } else {
        Outcome::Skipped
    }
}

pub fn state_name(status: Status) -> &'static str {
    match status {
        Status::Open => "open",
        Status::Completed => "completed",
        Status::Expired => "expired",
        Status::OptedOut => "opted_out",
    }
}

fn reason_name(reason: DetractorReason) -> &'static str {
    match reason {
        DetractorReason::Nps => "nps",
        DetractorReason::Csat => "csat",
        DetractorReason::Fcr => "fcr",
    }
}

/// `true`/`false`, an integer, or a string (DESIGN.md §5).
pub fn value(answer: &AnswerValue) -> Value {
    match answer {
        AnswerValue::YesNo(b) => json!(b),
        AnswerValue::Scale(n) => json!(n),
        AnswerValue::Text(t) => json!(t),
    }
}

fn answer_value(v: &Value) -> Option<AnswerValue> {
    match v {
        Value::Bool(b) => Some(AnswerValue::YesNo(*b)),
        Value::Number(n) => n.as_i64().map(|n| AnswerValue::Scale(n as i32)),
        Value::String(s) => Some(AnswerValue::Text(s.clone())),
        _ => None,
    }
}
