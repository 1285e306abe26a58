//! Surveys as the dispatcher moves them: scheduled → sending (first SMS claimed, under a
//! lease) → open (accepted by the provider), or cancelled / failed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

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
    /// The first SMS's id under this claim.
    pub first_message_id: Uuid,
    /// Its id before this claim: set when an earlier claim's lease ran out, so that send
    /// may have gone.
    pub prior: Option<Uuid>,
    /// Claims of the first SMS so far, this one included.
    pub first_attempts: i32,
    /// Where `prior` is set, when the earlier claim's lease ran out.
    pub prior_lease_until: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due surveys for `replica`: each to `sending` under a lease of
/// `lease`, its first SMS's id fixed (kept from an earlier claim whose lease ran out), the
/// attempt counted; other replicas skip them (a CTE, so the LIMIT is applied before the
/// lock, as River and Oban do). Those the caller then holds back go back with `unclaim`.
pub async fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    replica: &str,
    lease: Duration,
) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        r#"
        WITH due AS (
            SELECT id, first_message_id AS prior, lease_until AS prior_lease_until FROM surveys
             WHERE state = 'scheduled' AND send_at <= now()
             ORDER BY send_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE surveys s
               SET state = 'sending', leased_by = $2,
                   lease_until = now() + make_interval(secs => $3),
                   first_message_id = coalesce(s.first_message_id, postcall_uuid_v7()),
                   first_attempts = s.first_attempts + 1, updated_at = now()
              FROM due WHERE s.id = due.id
            RETURNING s.id, s.call_id, s.customer_phone, s.language, s.first_message_id,
                      s.first_attempts, due.prior, due.prior_lease_until
        )
        SELECT s.*, c.customer_timezone, c.agent_id, c.queue, c.ended_at,
               EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = s.customer_phone) AS opted_out
          FROM claimed s JOIN calls c USING (call_id)
        "#,
    )
    .bind(limit)
    .bind(replica)
    .bind(lease.as_secs_f64())
    .fetch_all(conn)
    .await
}

/// Hands claimed surveys back unsent, each due again at its `until`: the attempt uncounted,
/// the first SMS's id and the earlier lease's end as they were before the claim
/// (`Due::prior`, `Due::prior_lease_until`).
pub async fn unclaim(
    conn: &mut PgConnection,
    ids: &[i64],
    until: &[DateTime<Utc>],
    priors: &[(Option<Uuid>, Option<DateTime<Utc>>)],
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE surveys s
            SET state = 'scheduled', send_at = d.until, first_message_id = d.prior,
                first_attempts = s.first_attempts - 1, lease_until = d.prior_until,
                leased_by = NULL, updated_at = now()
           FROM unnest($1::bigint[], $2::timestamptz[], $3::uuid[], $4::timestamptz[])
                AS d(id, until, prior, prior_until)
          WHERE s.id = d.id",
    )
    .bind(ids)
    .bind(until)
    .bind(priors.iter().map(|p| p.0).collect::<Vec<_>>())
    .bind(priors.iter().map(|p| p.1).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves surveys to `state`, ending any lease on their first send.
pub async fn set_state(
    conn: &mut PgConnection,
    ids: &[i64],
    state: SurveyState,
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE surveys SET state = $2, leased_by = NULL, lease_until = NULL, updated_at = now()
          WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(state)
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
