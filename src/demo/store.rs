//! The demo's own SQL: what it reads back from the worker's tables to follow its stages and
//! print its report, and its database's creation. Kept beside the demo rather than in
//! `src/store/`: no role of the service asks these questions.

use std::collections::BTreeMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An SMS a provider accepted, as the customer's phone receives it.
#[derive(Debug, sqlx::FromRow)]
pub struct Sent {
    pub id: Uuid,
    pub to_phone: String,
    pub purpose: String,
    pub question_id: Option<String>,
    pub provider_message_id: String,
}

/// Every SMS `provider` accepted, in the order it sent them.
pub async fn sent_by(pool: &PgPool, provider: &str) -> sqlx::Result<Vec<Sent>> {
    sqlx::query_as(
        "SELECT id, to_phone, purpose, question_id, provider_message_id FROM messages
          WHERE provider = $1 AND provider_message_id IS NOT NULL ORDER BY sent_at, id",
    )
    .bind(provider)
    .fetch_all(pool)
    .await
}

/// Messages a dispatcher has yet to send or is sending.
pub async fn unsent(pool: &PgPool) -> sqlx::Result<i64> {
    count(
        pool,
        "SELECT count(*) FROM messages WHERE status IN ('pending', 'sending')",
    )
    .await
}

pub async fn calls(pool: &PgPool) -> sqlx::Result<i64> {
    count(pool, "SELECT count(*) FROM calls").await
}

pub async fn surveys(pool: &PgPool) -> sqlx::Result<i64> {
    count(pool, "SELECT count(*) FROM surveys").await
}

/// Surveys whose first SMS a provider accepted.
pub async fn surveys_sent(pool: &PgPool) -> sqlx::Result<i64> {
    count(
        pool,
        "SELECT count(*) FROM surveys WHERE sent_at IS NOT NULL",
    )
    .await
}

pub async fn calls_by_decision(pool: &PgPool) -> sqlx::Result<BTreeMap<String, u64>> {
    counts(pool, "SELECT decision, count(*) FROM calls GROUP BY 1").await
}

/// Customer SMS by what became of them (`inbound_messages.outcome`).
pub async fn replies_by_outcome(pool: &PgPool) -> sqlx::Result<BTreeMap<String, u64>> {
    counts(
        pool,
        "SELECT outcome, count(*) FROM inbound_messages GROUP BY 1",
    )
    .await
}

pub async fn surveys_by_state(pool: &PgPool) -> sqlx::Result<BTreeMap<String, u64>> {
    counts(pool, "SELECT state, count(*) FROM surveys GROUP BY 1").await
}

pub async fn opt_outs(pool: &PgPool) -> sqlx::Result<u64> {
    count(pool, "SELECT count(*) FROM opt_outs")
        .await
        .map(unsigned)
}

pub async fn outbox_by_key(pool: &PgPool) -> sqlx::Result<BTreeMap<String, u64>> {
    counts(pool, "SELECT routing_key, count(*) FROM outbox GROUP BY 1").await
}

pub async fn outbox_published(pool: &PgPool) -> sqlx::Result<u64> {
    count(
        pool,
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
    )
    .await
    .map(unsigned)
}

/// Outbound SMS a provider accepted, by purpose (`question`, `follow_up`, …).
pub async fn accepted_sms_by_purpose(pool: &PgPool) -> sqlx::Result<BTreeMap<String, u64>> {
    counts(
        pool,
        "SELECT purpose, count(*) FROM messages
          WHERE status IN ('queued', 'sent', 'delivered', 'undelivered') GROUP BY 1",
    )
    .await
}

/// `CREATE DATABASE`, on a connection to another database of the server.
pub async fn create_database(admin: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query(&format!("CREATE DATABASE {}", quoted(name)))
        .execute(admin)
        .await
        .map(drop)
}

/// `DROP DATABASE IF EXISTS`; `force` ends the sessions still connected to it (PostgreSQL 13+).
pub async fn drop_database(admin: &mut PgConnection, name: &str, force: bool) -> sqlx::Result<()> {
    let with = if force { " WITH (FORCE)" } else { "" };
    sqlx::query(&format!("DROP DATABASE IF EXISTS {}{with}", quoted(name)))
        .execute(admin)
        .await
        .map(drop)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

async fn counts(pool: &PgPool, sql: &str) -> sqlx::Result<BTreeMap<String, u64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(k, n)| (k, unsigned(n))).collect())
}

async fn count(pool: &PgPool, sql: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(sql).fetch_one(pool).await
}

fn unsigned(n: i64) -> u64 {
    n.max(0) as u64
}
