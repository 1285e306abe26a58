//! Surveys nobody answered in time: closed as expired, answers already given kept, and
//! `survey.completed` announced.

use chrono::Utc;
use sqlx::PgPool;

use crate::{
    domain::conversation::Status,
    inbound::{COMPLETED, state_name},
    store::conversation as store,
};

/// Expires up to `limit` overdue open surveys; returns how many. Replicas skip each
/// other's rows, so each survey expires once.
pub async fn sweep(pool: &PgPool, limit: i64) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM surveys WHERE state = 'open' AND expires_at <= $1
          ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(Utc::now())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    for id in &due {
        sqlx::query(
            "UPDATE surveys SET state = $2, closed_at = now(), updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(state_name(Status::Expired))
        .execute(&mut *tx)
        .await?;
        let payload = store::event_payload(&mut tx, *id).await?;
        store::enqueue_event(&mut tx, COMPLETED, &payload).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
