//! A customer's SMS, from whichever provider: matched to the phone's survey, run through the
//! conversation, and its consequences (answer, opt-out, next SMS, events) written at once.
//! Read → decide (`plan`, pure) → write (`store::conversation::reply`), in one of two ways:
//! the common reply as one guarded statement, anything else — or a reply whose survey moved
//! meanwhile — in a transaction with the survey locked, decided again from scratch.

mod plan;
mod render;

use sqlx::{Connection, PgConnection, PgPool};

pub use plan::ReplyOutcome;

use crate::{
    channels::compose::Texts,
    metrics,
    store::{
        conversation::{
            self as store, Current, Inbound, Lock,
            reply::{self, Written},
        },
        wake,
    },
};

#[tracing::instrument(name = "reply", skip_all, fields(
    provider = sms.provider, id = sms.provider_message_id, call_id = tracing::field::Empty))]
pub async fn receive(
    pool: &PgPool,
    texts: &Texts<'_>,
    sms: &Inbound<'_>,
) -> sqlx::Result<ReplyOutcome> {
    let mut conn = pool.acquire().await?;
    let outcome = match guarded(&mut conn, texts, sms).await? {
        Some(outcome) => outcome,
        None => locked(&mut conn, texts, sms).await?,
    };
    metrics::reply(outcome.as_str());
    Ok(outcome)
}

/// The common reply in two statements and no transaction: the survey read unlocked, then
/// everything written at once if the survey has not moved. `None`: not a reply this path
/// takes, or its survey moved; nothing was written.
async fn guarded(
    conn: &mut PgConnection,
    texts: &Texts<'_>,
    sms: &Inbound<'_>,
) -> sqlx::Result<Option<ReplyOutcome>> {
    if sms.other_signature.is_some() {
        // Matched to no survey: only the locked path stores a reply without one.
        return Ok(None);
    }
    // Whether the provider sent this message before is left to the write's insert: a probe
    // here ran as a cached generic plan made while `inbound_messages` was empty — a
    // sequential scan, costlier with every reply.
    let Some(survey) = store::survey_for(conn, sms.from, Lock::No).await? else {
        return Ok(None);
    };
    record_call(&survey);
    let plan = plan::reply(texts, Some(&survey), sms);
    if !plan.guardable() {
        return Ok(None);
    }
    Ok(match reply::guarded(conn, &survey, &plan.write).await? {
        Written::Recorded => {
            if !plan.write.send.is_empty() {
                // Its statement left the wake-up until after its commit (migration …0009).
                wake::notify(conn).await?;
            }
            Some(plan.outcome)
        }
        Written::Duplicate => Some(ReplyOutcome::Duplicate),
        Written::Moved => None,
    })
}

/// The general path, in one transaction with the survey locked: keywords, events, a reply
/// from a phone without a survey, and any reply whose survey changed while it was decided.
async fn locked(
    conn: &mut PgConnection,
    texts: &Texts<'_>,
    sms: &Inbound<'_>,
) -> sqlx::Result<ReplyOutcome> {
    let mut tx = conn.begin().await?;
    let Some(inbound_id) = store::insert_inbound(&mut tx, sms).await? else {
        return Ok(ReplyOutcome::Duplicate);
    };
    let survey = match sms.other_signature {
        Some(_) => None,
        None => store::survey_for(&mut tx, sms.from, Lock::ForUpdate).await?,
    };
    if let Some(survey) = &survey {
        record_call(survey);
    }
    let plan = plan::reply(texts, survey.as_ref(), sms);
    let opted_out_now = reply::locked(&mut tx, inbound_id, &plan.write).await?;
    tx.commit().await?;
    if opted_out_now {
        metrics::opt_out("sms");
    }
    Ok(plan.outcome)
}

fn record_call(survey: &Current) {
    tracing::Span::current().record("call_id", survey.call_id.as_str());
}
