//! Surveys nobody answered in time: closed as expired, answers already given kept, and
//! `survey.completed` announced.

use chrono::Utc;
use sqlx::PgPool;

use crate::{
    domain::conversation::Event,
    store::{conversation, surveys},
};

/// Expires up to `limit` overdue open surveys; returns how many.
pub async fn sweep(pool: &PgPool, limit: i64) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let expired = surveys::expire_overdue(&mut tx, Utc::now(), limit).await?;
    for id in &expired {
        let payload = conversation::event_payload(&mut tx, *id).await?;
        conversation::enqueue_event(&mut tx, Event::Completed.routing_key(), &payload).await?;
    }
    tx.commit().await?;
    Ok(expired.len())
}
