//! `callback_inbox`: verified callback batches, stored before they are acted on so that the
//! provider is answered at once and nothing is lost if the process dies before acting.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, types::Json};

/// A stored batch, taken for processing.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub provider: String,
    pub kind: String,
    #[sqlx(json)]
    pub body: Value,
    pub received_at: DateTime<Utc>,
}

/// Stores a batch; `senders` are the customers whose replies it holds.
pub async fn insert(
    pool: &PgPool,
    provider: &str,
    kind: &str,
    body: &Value,
    senders: &[String],
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO callback_inbox (provider, kind, body, senders) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(provider)
    .bind(kind)
    .bind(Json(body))
    .bind(senders)
    .fetch_one(pool)
    .await
}

/// Takes batch `id`, or the oldest batch when `None`, locked until `conn`'s transaction
/// ends; a batch another transaction holds is skipped, so two replicas never process one.
/// A batch waits while an older one holds a reply from one of its senders (being processed
/// elsewhere, or not yet): one customer's replies are acted on in the order they came.
pub async fn take(conn: &mut PgConnection, id: Option<i64>) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(
        "SELECT id, provider, kind, body, received_at FROM callback_inbox b
          WHERE ($1::bigint IS NULL OR id = $1)
            AND NOT EXISTS (SELECT FROM callback_inbox older
                             WHERE older.id < b.id AND older.senders && b.senders)
          ORDER BY id LIMIT 1
          FOR UPDATE SKIP LOCKED",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM callback_inbox WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
