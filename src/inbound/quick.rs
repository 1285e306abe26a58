//! The common reply — an answer, a re-prompt, a skip, a late reply — in two statements on
//! one connection instead of a transaction of ten: what the survey is, then everything the
//! reply changes at once, guarded by the survey as read (`store::conversation::turn`).
//! Anything else (a keyword, an event to publish, a phone without a survey, a survey that
//! moved meanwhile) is left to the locked path, which decides again from scratch.

use sqlx::PgConnection;

use super::{Outcome, answer_of, mainland_china, outcome_of, outgoing, progress_of, state_of};
use crate::{
    domain::{conversation, survey::SurveyDefinition},
    store::conversation::{
        Inbound,
        turn::{self, Turn, Written},
    },
};

/// `None`: not a reply this path takes, or its survey moved; nothing was written.
pub async fn receive(
    conn: &mut PgConnection,
    def: &SurveyDefinition,
    sms: &Inbound<'_>,
) -> sqlx::Result<Option<Outcome>> {
    let Some(current) = &turn::find(conn, sms.from).await? else {
        return Ok(None);
    };
    tracing::Span::current().record("call_id", current.call_id.as_str());
    let state = state_of(current);
    let step = conversation::advance(def, &state, sms.body, sms.received_at);
    if step.opt_out || step.opt_in || !step.events.is_empty() {
        return Ok(None);
    }
    let outcome = outcome_of(&state, &step);
    if outcome == Outcome::Keyword {
        return Ok(None);
    }
    let mainland = !step.send.is_empty() && mainland_china(sms.from);
    let send = outgoing(def, current, sms.from, &step, mainland);
    // The answer's inbound id is the statement's own insert; 0 is never read.
    let turn = Turn {
        read: current,
        sms,
        outcome: outcome.as_str(),
        progress: progress_of(&step),
        answer: answer_of(current, sms, &step, 0),
        send: &send,
    };
    Ok(match turn::write(conn, &turn).await? {
        Written::Recorded(_) => {
            if !send.is_empty() {
                turn::wake_dispatchers(conn).await?;
            }
            Some(outcome)
        }
        Written::Duplicate => Some(Outcome::Duplicate),
        Written::Moved => None,
    })
}
