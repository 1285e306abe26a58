//! Leases whose holder died or hung: their messages go back to the queue, or, where the
//! provider drops no duplicates, to be looked up first; a survey's first send goes back to
//! the due surveys, whose claim decides the same (`dispatch::start`).

use std::time::Duration;

use sqlx::PgPool;

use crate::store::{first_send, messages, wake};

/// Returns expired leases to the queue (giving up on messages out of attempts) and wakes
/// the dispatchers when any came back; returns how many.
pub async fn rescue(
    pool: &PgPool,
    max_attempts: i32,
    reconcile_after: Option<Duration>,
) -> sqlx::Result<i64> {
    let rescued = messages::rescue_expired(pool, max_attempts, reconcile_after).await?
        + first_send::rescue_expired(pool, reconcile_after).await?;
    if rescued > 0 {
        tracing::warn!(rescued, "returned messages whose lease expired");
        // The claims sleep until a notification or their poll; a returned message is due now.
        wake::notify(&mut *pool.acquire().await?).await?;
    }
    Ok(rescued)
}
