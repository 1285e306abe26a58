//! Store first, then act: a verified batch from a platform that pushes again unless it is
//! answered quickly (Aliyun: 700 ms) is stored in `callback_inbox` and answered; a spawned
//! task then acts on it, item by item, with the same `act` as every direct callback, and
//! deletes it in the transaction that holds it. A process that dies in between leaves the
//! row, which `sweep` picks up at start and every `SWEEP_EVERY`; acting twice changes
//! nothing (a report never moves a status back, a reply is kept once per id). One
//! customer's replies are acted on in the order their batches came: a batch waits while an
//! older one holds a reply from the same number (`callback_inbox::take`).

use std::time::Duration;

use axum::response::Response;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{act, answer};
use crate::{
    backoff,
    channels::{
        self,
        callbacks::{Answer, Heard, Refusal},
    },
    http::{AppState, error::HttpError},
    store::callback_inbox,
};

/// How often leftover batches are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Batches processed at once in this process: each holds a connection for its row lock and
/// needs others to act, so an unbounded number could starve the pool.
static PROCESSING: Semaphore = Semaphore::const_new(2);

/// Stores the batch, answers, and has it processed right away.
pub(super) async fn store(
    state: &AppState,
    provider: &'static str,
    kind: &'static str,
    body: &[u8],
    senders: &[String],
    reply: Answer,
) -> Result<Response, HttpError> {
    // The channel has read the body as its batch, so it is JSON.
    let body: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::BadRequest(format!("not JSON: {e}")))?;
    // The whole batch is stored as jsonb, which cannot hold U+0000 in any string: one in a
    // field the channel does not read would otherwise fail the insert with a 500 that the
    // platform retries for good (found by the fault suite's generated callbacks).
    if holds_nul(&body) {
        return Err(HttpError::BadRequest(
            "the batch holds a NUL character, which cannot be stored".into(),
        ));
    }
    let id = callback_inbox::insert(&state.pool, provider, kind, &body, senders).await?;
    let state = state.clone();
    tokio::spawn(async move {
        // A batch that waits behind an older one from the same customer is taken by the
        // drain that follows the older one's processing, here or on another replica.
        let processed = async {
            process(&state, Some(id)).await?;
            while process(&state, None).await? {}
            Ok::<_, HttpError>(())
        };
        if let Err(e) = processed.await {
            tracing::warn!(error = %e, id, "stored callback batch not processed yet; the sweep retries it");
        }
    });
    Ok(answer(reply))
}

/// The customers whose replies a batch holds, each once.
pub(super) fn senders(heard: &[Heard]) -> Vec<String> {
    let mut senders: Vec<String> = heard
        .iter()
        .filter_map(|h| match h {
            Heard::Reply(reply) => Some(reply.from.clone()),
            Heard::Delivery { .. } | Heard::Nothing => None,
        })
        .collect();
    senders.sort_unstable();
    senders.dedup();
    senders
}

/// Processes leftover batches now and every `SWEEP_EVERY` until shutdown.
pub async fn sweep(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut delays = backoff::DATABASE_LOOP.delays();
    while !shutdown.is_cancelled() {
        let pause = match drain(&state, &shutdown).await {
            Ok(()) => {
                delays.reset();
                SWEEP_EVERY
            }
            Err(e) => {
                let delay = delays.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, "callback inbox sweep failed");
                delay
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => {}
        }
    }
    Ok(())
}

async fn drain(state: &AppState, shutdown: &CancellationToken) -> Result<(), HttpError> {
    while !shutdown.is_cancelled() && process(state, None).await? {}
    Ok(())
}

/// Acts on batch `id` (or the oldest one free) and deletes it; `false` when there was none
/// to take. An error leaves the batch for the sweep.
async fn process(state: &AppState, id: Option<i64>) -> Result<bool, HttpError> {
    let _permit = PROCESSING
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let mut tx = state.pool.begin().await?;
    let Some(batch) = callback_inbox::take(&mut tx, id).await? else {
        return Ok(false);
    };
    match channels::read_stored(
        &state.webhooks,
        &batch.provider,
        &batch.kind,
        &batch.body,
        batch.received_at,
    ) {
        Ok(heard) => {
            let items = heard.len();
            for heard in heard {
                act(&batch.provider, state, heard).await?;
            }
            tracing::info!(
                id = batch.id,
                provider = batch.provider,
                kind = batch.kind,
                items,
                "callback batch processed"
            );
        }
        // It was read when it arrived; a later release that cannot read it will never
        // read it, so it is dropped rather than retried forever.
        Err(Refusal::Malformed(why) | Refusal::Forbidden(why) | Refusal::NotFound(why)) => {
            tracing::error!(
                id = batch.id,
                provider = batch.provider,
                kind = batch.kind,
                why,
                "stored callback batch unreadable, dropped"
            );
        }
    }
    callback_inbox::delete(&mut tx, batch.id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Whether any key or string in `value` holds U+0000.
fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::holds_nul;

    #[test]
    fn a_nul_anywhere_in_a_batch_is_found() {
        assert!(!holds_nul(&json!([{"err_msg": "ok", "sms_size": "1"}])));
        assert!(holds_nul(&json!([{"err_msg": "o\u{0}k"}])));
        assert!(holds_nul(&json!([{"a\u{0}": 1}])));
        assert!(holds_nul(&json!([{"nested": [{"deep": "\u{0}"}]}])));
        // An escaped backslash before "u0000" is text, not a NUL.
        assert!(!holds_nul(&serde_json::from_str(r#"["\\u0000"]"#).unwrap()));
    }
}
