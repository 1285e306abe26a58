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
        wake::Waker,
    },
};

#[tracing::instrument(name = "reply", skip_all, fields(
    provider = sms.provider, id = sms.provider_message_id, call_id = tracing::field::Empty))]
pub async fn receive(
    pool: &PgPool,
    wake: &Waker,
    texts: &Texts<'_>,
    sms: &Inbound<'_>,
) -> sqlx::Result<ReplyOutcome> {
    let mut conn = pool.acquire().await?;
    let outcome = match guarded(&mut conn, texts, sms).await? {
        Some((outcome, queued)) => {
            if queued {
                // Its statement left the wake-up until after its commit (migration …0009).
                wake.request();
            }
            outcome
        }
        None => locked(&mut conn, texts, sms).await?,
    };
    metrics::reply(outcome.as_str());
    Ok(outcome)
}

/// The common reply in two statements and no transaction: the survey read unlocked, then
/// everything written at once if the survey has not moved; with whether it queued a
/// message for the dispatchers. `None`: not a reply this path takes, or its survey moved;
/// nothing was written.
async fn guarded(
    conn: &mut PgConnection,
    texts: &Texts<'_>,
    sms: &Inbound<'_>,
) -> sqlx::Result<Option<(ReplyOutcome, bool)>> {
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
    report_not_composed(&plan);
    if !plan.guardable() {
        return Ok(None);
    }
    Ok(match reply::guarded(conn, &survey, &plan.write).await? {
        Written::Recorded => Some((plan.outcome, !plan.write.send.is_empty())),
        Written::Duplicate => Some((ReplyOutcome::Duplicate, false)),
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
    report_not_composed(&plan);
    let opted_out_now = reply::locked(&mut tx, inbound_id, &plan.write).await?;
    tx.commit().await?;
    if opted_out_now {
        metrics::opt_out("sms");
    }
    Ok(plan.outcome)
}

/// Logged on each path that decides, so a reply decided again under the lock logs twice;
/// it is an error config validation should have made impossible.
fn report_not_composed(plan: &plan::Plan<'_>) {
    for e in &plan.not_composed {
        tracing::error!(error = %e, "SMS not composed; not sent");
    }
}

fn record_call(survey: &Current) {
    tracing::Span::current().record("call_id", survey.call_id.as_str());
}
