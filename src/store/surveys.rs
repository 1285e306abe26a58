//! Surveys as the dispatcher moves them: scheduled → sending (first SMS queued) → open
//! (accepted by the provider), or cancelled / failed.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::lifecycle::SurveyState;

#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub call_id: String,
    pub customer_phone: String,
    pub language: String,
    pub customer_timezone: Option<String>,
    pub opted_out: bool,
    /// The call's agent and queue: values a template may carry.
    pub agent_id: String,
    pub queue: String,
    /// When the call ended: a first question held back by a cap is dropped once the call
    /// is too old to ask about.
    pub ended_at: DateTime<Utc>,
}

/// Locks up to `limit` due surveys for the caller's transaction; other replicas skip them
/// (a CTE, so the LIMIT is applied before the lock, as River and Oban do).
pub async fn lock_due(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        r#"
        WITH due AS (
            SELECT id FROM surveys
             WHERE state = 'scheduled' AND send_at <= now()
             ORDER BY send_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
        )
        SELECT s.id, s.call_id, s.customer_phone, s.language, c.customer_timezone,
               c.agent_id, c.queue, c.ended_at,
               EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = s.customer_phone) AS opted_out
          FROM surveys s JOIN due USING (id) JOIN calls c USING (call_id)
        "#,
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn set_state(
    conn: &mut PgConnection,
    ids: &[i64],
    state: SurveyState,
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE surveys SET state = $2, updated_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .bind(state)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn defer(
    conn: &mut PgConnection,
    ids: &[i64],
    until: &[DateTime<Utc>],
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE surveys s SET send_at = d.until, updated_at = now()
           FROM unnest($1::bigint[], $2::timestamptz[]) AS d(id, until) WHERE s.id = d.id",
    )
    .bind(ids)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the earliest scheduled survey is due, to sleep exactly until then.
pub async fn next_due(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT min(send_at) FROM surveys WHERE state = 'scheduled'")
        .fetch_one(pool)
        .await
}

/// Expires up to `limit` open surveys whose deadline passed by `now`, in the caller's
/// transaction, and returns them. Other replicas' sweeps skip the rows this one holds, so a
/// survey expires once. `'open'` stays a literal: a parameter there would keep a generic
/// plan off the partial index `surveys_expiry_idx`.
pub async fn expire_overdue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        r#"
        WITH due AS (
            SELECT id FROM surveys
             WHERE state = 'open' AND expires_at <= $2
             ORDER BY expires_at
             LIMIT $3
             FOR UPDATE SKIP LOCKED
        )
        UPDATE surveys s SET state = $1, closed_at = now(), updated_at = now()
          FROM due WHERE s.id = due.id
        RETURNING s.id
        "#,
    )
    .bind(SurveyState::Expired)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}
