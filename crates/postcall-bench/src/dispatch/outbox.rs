//! The durable baseline's table: one row per SMS, as little as a dispatcher that must never
//! lose or double a send needs — its id (also the provider's idempotency key), recipient and
//! body, when it is due, its lease (status `sending`, `attempts` as the fence,
//! `lease_until` for the rescuer) and its outcome (`sent`, the provider's id, when).
//!
//! A table of its own rather than postcall's `surveys`/`messages`: those carry what the
//! product needs on top (a survey that becomes its first SMS, the score trigger, opt-outs,
//! caps, delivery-report lookups), which is exactly the cost the baseline is there to
//! expose. Its two partial indexes are the least that keeps claims and lease rescue from
//! scanning the table; postcall's `messages` has the same two.

use std::collections::HashSet;

use anyhow::bail;
use chrono::{DateTime, Utc};
use sqlx::{Executor, PgConnection};
use uuid::Uuid;

use super::provider::Sink;

const SCHEMA: &str = r#"
CREATE TABLE outbox (
    id                  uuid        PRIMARY KEY,
    to_phone            text        NOT NULL,
    body                text        NOT NULL,
    send_at             timestamptz NOT NULL,
    status              text        NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'sending', 'sent')),
    attempts            integer     NOT NULL DEFAULT 0,
    lease_until         timestamptz,
    provider_message_id text,
    sent_at             timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (send_at) WHERE status = 'due';
CREATE INDEX outbox_lease_idx ON outbox (lease_until) WHERE status = 'sending';
"#;

/// Creates the table and fills it with `n` rows due a second ago, one per phone of the
/// stage, each with `body`; analyzed, as postcall's backlog is.
pub async fn prepare(conn: &mut PgConnection, n: usize, body: &str) -> anyhow::Result<()> {
    conn.execute(SCHEMA).await?;
    sqlx::query(
        r#"
        INSERT INTO outbox (id, to_phone, body, send_at)
        SELECT gen_random_uuid(), '+86139' || lpad(i::text, 8, '0'), $2,
               now() - interval '1 second'
          FROM generate_series(0, $1 - 1) AS i
        "#,
    )
    .bind(i64::try_from(n)?)
    .bind(body)
    .execute(&mut *conn)
    .await?;
    conn.execute("ANALYZE outbox").await?;
    Ok(())
}

/// A row under this claimant's lease.
#[derive(sqlx::FromRow)]
pub struct Leased {
    pub id: Uuid,
    pub to_phone: String,
    pub body: String,
    pub attempts: i32,
    /// The schema floor's (`floor.rs`): the survey and its claim's `updated_at`, which fences
    /// the record; whether the phone opted out.
    #[sqlx(default)]
    pub survey_id: Option<i64>,
    #[sqlx(default)]
    pub fence: Option<DateTime<Utc>>,
    #[sqlx(default)]
    pub opted_out: bool,
}

/// Leases up to `limit` due rows in one statement (its own transaction). Rows another
/// claimant holds are skipped, not waited for.
pub async fn claim(
    conn: &mut PgConnection,
    limit: usize,
    lease_seconds: f64,
) -> sqlx::Result<Vec<Leased>> {
    sqlx::query_as(
        r#"
        WITH due AS (
            SELECT id FROM outbox
             WHERE status = 'due' AND send_at <= now()
             ORDER BY send_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
        )
        UPDATE outbox o
           SET status = 'sending', attempts = o.attempts + 1,
               lease_until = now() + make_interval(secs => $2)
          FROM due
         WHERE o.id = due.id
        RETURNING o.id, o.to_phone, o.body, o.attempts
        "#,
    )
    .bind(limit as i64)
    .bind(lease_seconds)
    .fetch_all(conn)
    .await
}

/// An accepted send on its way to the table.
pub struct Outcome {
    pub id: Uuid,
    pub attempts: i32,
    pub provider_message_id: String,
    /// As claimed, for the schema floor.
    pub survey_id: Option<i64>,
    pub fence: Option<DateTime<Utc>>,
}

/// Records accepted sends in one statement (its own transaction, committed durably).
/// Only rows still under the lease they were sent with change; returns how many did.
pub async fn record(conn: &mut PgConnection, outcomes: &[Outcome]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = outcomes.iter().map(|o| o.id).collect();
    let attempts: Vec<i32> = outcomes.iter().map(|o| o.attempts).collect();
    let provider_ids: Vec<&str> = outcomes
        .iter()
        .map(|o| o.provider_message_id.as_str())
        .collect();
    let done = sqlx::query(
        r#"
        UPDATE outbox o
           SET status = 'sent', provider_message_id = s.provider_id, sent_at = now(),
               lease_until = NULL
          FROM unnest($1::uuid[], $2::int[], $3::text[]) AS s(id, attempts, provider_id)
         WHERE o.id = s.id AND o.status = 'sending' AND o.attempts = s.attempts
        "#,
    )
    .bind(&ids)
    .bind(&attempts)
    .bind(&provider_ids)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Every row sent once, with a distinct provider id, and seen by the provider; returns how
/// many rows are recorded sent after one attempt and were seen there.
pub async fn verify(conn: &mut PgConnection, n: usize, sink: &Sink) -> anyhow::Result<usize> {
    let rows: Vec<(Uuid, String, i32, Option<String>)> =
        sqlx::query_as("SELECT id, status, attempts, provider_message_id FROM outbox")
            .fetch_all(conn)
            .await?;
    let sent = rows
        .iter()
        .filter(|(_, status, attempts, pid)| status == "sent" && *attempts == 1 && pid.is_some())
        .count();
    let sent_seen = rows
        .iter()
        .filter(|(id, status, attempts, _)| {
            status == "sent" && *attempts == 1 && sink.saw(&id.to_string())
        })
        .count();
    let provider_ids: HashSet<&str> = rows.iter().filter_map(|r| r.3.as_deref()).collect();
    let unseen = rows
        .iter()
        .filter(|(id, ..)| !sink.saw(&id.to_string()))
        .count();
    if rows.len() != n || sent != n || provider_ids.len() != n || unseen > 0 {
        bail!(
            "expected {n} rows sent once each; got {} rows, {sent} sent after one attempt, \
             {} distinct provider ids, {unseen} never seen by the provider",
            rows.len(),
            provider_ids.len()
        );
    }
    Ok(sent_seen)
}
