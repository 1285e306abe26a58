//! A customer's SMS, from whichever provider: stored, matched to the phone's survey, run
//! through the conversation, and its consequences (answer, opt-out, next SMS, events)
//! written in the same transaction.

mod quick;
mod render;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};

use crate::{
    domain::{
        conversation::{self, DetractorReason, Event, Status, Step, SurveyState},
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
    let mut conn = pool.acquire().await?;
    let outcome = match quick::receive(&mut conn, def, sms).await? {
        Some(outcome) => outcome,
        None => locked(&mut conn, def, sms).await?,
    };
    metrics::reply(outcome.as_str());
    Ok(outcome)
}

/// The general path, in one transaction with the survey locked: keywords, events, a reply
/// from a phone without a survey, and any reply whose survey changed while it was decided.
async fn locked(
    conn: &mut PgConnection,
    def: &SurveyDefinition,
    sms: &Inbound<'_>,
) -> sqlx::Result<Outcome> {
    let mut tx = conn.begin().await?;
    let Some(inbound_id) = store::insert_inbound(&mut tx, sms).await? else {
        return Ok(Outcome::Duplicate);
    };
    let mainland = mainland_china(sms.from);
    let (survey_id, outcome, opted_out_now) = match store::current_for(&mut tx, sms.from).await? {
        Some(current) => {
            tracing::Span::current().record("call_id", current.call_id.as_str());
            let reply = Reply {
                current: &current,
                sms,
                inbound_id,
                mainland,
            };
            let (outcome, opted_out) = converse(&mut tx, def, &reply).await?;
            (Some(current.id), outcome, opted_out)
        }
        None => {
            let (outcome, opted_out) = unsolicited(&mut tx, def, sms, mainland).await?;
            (None, outcome, opted_out)
        }
    };
    store::set_inbound_outcome(&mut tx, inbound_id, survey_id, outcome.as_str()).await?;
    tx.commit().await?;
    if opted_out_now {
        metrics::opt_out("sms");
    }
    Ok(outcome)
}

/// Mainland-China SMS carry the sender's signature and the unsubscribe hint.
fn mainland_china(phone: &str) -> bool {
    PhoneNumber::parse(phone)
        .ok()
        .and_then(|p| p.region().map(|r| r == "CN"))
        .unwrap_or(false)
}

struct Reply<'a> {
    current: &'a Current,
    sms: &'a Inbound<'a>,
    inbound_id: i64,
    mainland: bool,
}

/// Returns the outcome and whether this reply opted the phone out.
async fn converse(
    tx: &mut PgConnection,
    def: &SurveyDefinition,
    reply: &Reply<'_>,
) -> sqlx::Result<(Outcome, bool)> {
    let (current, sms) = (reply.current, reply.sms);
    let state = state_of(current);
    let step = conversation::advance(def, &state, sms.body, sms.received_at);
    let outcome = outcome_of(&state, &step);
    if let Some(new) = answer_of(current, sms, &step, reply.inbound_id) {
        store::insert_answer(tx, &new).await?;
    }
    let opted_out = apply_keywords(tx, &step, sms.from).await?;
    store::save(tx, current.id, &progress_of(&step)).await?;
    let outgoing = outgoing(def, current, sms.from, &step, reply.mainland);
    messages::insert(tx, &outgoing).await?;
    publish(tx, current.id, &step.events).await?;
    Ok((outcome, opted_out))
}

fn answer_of<'a>(
    current: &Current,
    sms: &Inbound<'a>,
    step: &'a Step,
    inbound_id: i64,
) -> Option<NewAnswer<'a>> {
    step.answer.as_ref().map(|answer| NewAnswer {
        survey_id: current.id,
        question_id: &answer.question_id,
        value: value(&answer.value),
        raw: sms.body,
        received_at: sms.received_at,
        late: step.late,
        inbound_id,
    })
}

fn progress_of(step: &Step) -> Progress<'static> {
    Progress {
        state: state_name(step.state.status),
        question_index: step.state.question as i32,
        reprompted: step.state.reprompted,
        expires_at: step.state.expires_at,
    }
}

fn outgoing<'a>(
    def: &'a SurveyDefinition,
    current: &'a Current,
    phone: &'a str,
    step: &Step,
    mainland: bool,
) -> Vec<messages::New<'a>> {
    let to = render::Recipient {
        survey_id: Some(current.id),
        phone,
        language: &current.language,
        mainland_china: mainland,
    };
    step.send
        .iter()
        .map(|o| render::message(def, *o, &to))
        .collect()
}

/// A phone with no survey: only a keyword gets an answer.
async fn unsolicited(
    tx: &mut PgConnection,
    def: &SurveyDefinition,
    sms: &Inbound<'_>,
    mainland: bool,
) -> sqlx::Result<(Outcome, bool)> {
    let Some(action) = conversation::unsolicited(sms.body) else {
        return Ok((Outcome::Unsolicited, false));
    };
    let mut opted_out = false;
    if action.opt_out {
        opted_out = opt_outs::record(tx, sms.from, "sms").await?.recorded;
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
    Ok((Outcome::Keyword, opted_out))
}

/// Returns whether the phone's opt-out was recorded now (not already on file).
async fn apply_keywords(tx: &mut PgConnection, step: &Step, phone: &str) -> sqlx::Result<bool> {
    let mut opted_out = false;
    if step.opt_out {
        // Cancels every other survey in flight and unsent message for the phone; this
        // survey's own state is saved as opted_out right after.
        opted_out = opt_outs::record(tx, phone, "sms").await?.recorded;
    }
    if step.opt_in {
        opt_outs::remove(tx, phone).await?;
    }
    Ok(opted_out)
}

/// The survey as the conversation sees it. Earlier answers are not loaded: no rule reads
/// them (events build their payload from the database).
fn state_of(current: &Current) -> SurveyState {
    let status = match current.state.as_str() {
        "completed" => Status::Completed,
        "expired" => Status::Expired,
        "opted_out" => Status::OptedOut,
        _ => Status::Open,
    };
    SurveyState {
        status,
        question: current.question_index.max(0) as usize,
        reprompted: current.reprompted,
        answers: Vec::new(),
        // A survey still `sending` has no deadline yet: it cannot have expired.
        expires_at: current.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
    }
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
