//! Sends of unknown outcome (DESIGN §4 "No blind resend"), in `messages`: parked as
//! `reconciling` under the send's lease, then leased again, one lookup at a time, by the
//! dispatcher that asks the platform. A lookup's lease is its `reconcile_checks` and
//! `leased_by`, and its end is the row's `next_attempt_at`: a replica that dies mid-lookup
//! leaves the row due again when the lease runs out, for any replica to ask, and a lookup
//! that outlived its lease records nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::messages::{CLAIMED, Claimed, Lease};

/// Parks a send whose outcome is unknown until `at`; `since` is when the attempt began, the
/// earliest a lookup must search from (an earlier unknown attempt's stands).
pub async fn park(
    pool: &PgPool,
    lease: &Lease<'_>,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    code: Option<&str>,
    message: &str,
) -> sqlx::Result<bool> {
    let (code, message) = (code.map(str::to_owned), message.to_owned());
    lease
        .update(
            pool,
            "status = 'reconciling', next_attempt_at = $4,
             reconcile_since = coalesce(reconcile_since, $5), error_code = $6, error_message = $7",
            move |q| q.bind(at).bind(since).bind(code).bind(message),
        )
        .await
}

/// A send to look up, leased to this replica.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    #[sqlx(flatten)]
    pub message: Claimed,
    /// This lookup's number, its lease's fence.
    pub checks: i32,
    pub since: DateTime<Utc>,
}

/// Leases up to `limit` due lookups for `lease`, without waiting on other replicas' locks.
pub async fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
    replica: &str,
) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(&format!(
        r#"
        WITH due AS (
            SELECT id FROM messages
             WHERE status = 'reconciling' AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE messages m
               SET reconcile_checks = m.reconcile_checks + 1, leased_by = $3,
                   lease_until = now() + make_interval(secs => $2),
                   next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
              FROM due WHERE m.id = due.id
            RETURNING m.id, m.survey_id, m.purpose, m.to_phone, m.body, m.segments,
                      m.template_id, m.template_params, m.attempts,
                      m.reconcile_checks AS checks,
                      coalesce(m.reconcile_since, m.created_at) AS since
        )
        {CLAIMED}"#
    ))
    .bind(limit)
    .bind(lease.as_secs_f64())
    .bind(replica)
    .fetch_all(conn)
    .await
}

/// The platform could not be asked: due again at `at`, the reason kept.
pub async fn ask_again(
    pool: &PgPool,
    lease: &Lease<'_>,
    at: DateTime<Utc>,
    message: &str,
) -> sqlx::Result<bool> {
    let message = message.to_owned();
    lease
        .update(pool, "next_attempt_at = $4, error_message = $5", move |q| {
            q.bind(at).bind(message)
        })
        .await
}

/// The platform has no such send: back to the queue, due now, for the normal send path.
pub async fn resend(pool: &PgPool, lease: &Lease<'_>) -> sqlx::Result<bool> {
    lease
        .update(pool, "status = 'pending', next_attempt_at = now()", |q| q)
        .await
}
