//! The publisher's side of `outbox` (rows are written by the reply and expiry paths, in
//! `conversation.rs`): the oldest unpublished rows, locked, then marked published.

use serde_json::Value;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// An event waiting to be published.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: Uuid,
    pub routing_key: String,
    pub payload: Value,
}

/// Up to `limit` unpublished events in creation order, locked against other publishers
/// until this transaction ends.
pub async fn take_unpublished(
    tx: &mut Transaction<'_, Postgres>,
    limit: i64,
) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "SELECT id, routing_key, payload FROM outbox WHERE published_at IS NULL
          ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

pub async fn mark_published(tx: &mut Transaction<'_, Postgres>, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// How many events wait to be published.
pub async fn unpublished(pool: &sqlx::PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}
