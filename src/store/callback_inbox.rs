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
///
/// A batch's id is drawn from its sequence when the row is inserted, before the insert
/// commits, so without more two batches from one customer could commit out of id order:
/// the later one, committed first, would be the oldest `take` sees for that customer and
/// be acted on first. Each sender's lock, held from before the insert to its commit, makes
/// a batch with a sender in common wait for the earlier one's commit before drawing its
/// id. Receipt batches have no sender and never wait.
pub async fn insert(
    pool: &PgPool,
    provider: &str,
    kind: &str,
    body: &Value,
    senders: &[String],
) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    if !senders.is_empty() {
        // In key order: two batches taking several never wait on each other in a cycle.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(k)
               FROM (SELECT DISTINCT hashtextextended('inbox:' || p, 0) AS k
                       FROM unnest($1::text[]) AS p ORDER BY k) keys",
        )
        .bind(senders)
        .execute(&mut *tx)
        .await?;
    }
    let id = sqlx::query_scalar(
        "INSERT INTO callback_inbox (provider, kind, body, senders) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(provider)
    .bind(kind)
    .bind(Json(body))
    .bind(senders)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
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
