//! The SQL of per-number caps (DESIGN.md §4): the per-phone locks that make replicas count
//! one phone's sends one at a time, the sends that count, and what a cap ends.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{conversation, messages::Lease};
use crate::domain::{conversation::Event, lifecycle::SurveyState};

/// Why a cap ended a survey or a message (`surveys.end_reason`, `messages.error_code`).
pub const REASON: &str = "provider_cap";

/// Takes each phone's cap lock until the transaction ends, in key order, so that two
/// claims taking several never wait on each other in a cycle. A replica counting a phone's
/// sends holds it until its own claims are committed: the next one counts them.
pub async fn lock_phones(conn: &mut PgConnection, phones: &[&str]) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(k)
           FROM (SELECT DISTINCT hashtextextended('caps:' || p, 0) AS k
                   FROM unnest($1::text[]) AS p ORDER BY k) keys",
    )
    .bind(phones)
    .execute(conn)
    .await?;
    Ok(())
}

/// One send that counts against a phone's caps.
#[derive(Debug, sqlx::FromRow)]
pub struct Counted {
    pub to_phone: String,
    pub at: DateTime<Utc>,
    pub body: String,
}

/// The sends to `phones` since `since` that count: made, in flight (a survey's first SMS
/// under its claim included), or of unknown outcome (`reconciling`). A send the platform cleanly refused (`failed`) or never made (`pending`,
/// `cancelled`) does not. A send counts from when it was recorded as sent, or from its claim
/// while in flight.
pub async fn history(
    conn: &mut PgConnection,
    phones: &[&str],
    since: DateTime<Utc>,
    claiming: &[i64],
) -> sqlx::Result<Vec<Counted>> {
    // A survey's first SMS in flight has no row yet (`first_send`): its survey's claim
    // counts, its text unknown here (no two first questions of one phone are in flight at
    // once: `surveys_one_in_flight_per_phone`).
    sqlx::query_as(
        "SELECT to_phone, coalesce(sent_at, updated_at) AS at, body
           FROM messages
          WHERE to_phone = ANY($1)
            AND status IN ('sending', 'queued', 'sent', 'delivered', 'undelivered', 'reconciling')
            AND coalesce(sent_at, updated_at) >= $2
         UNION ALL
         SELECT customer_phone, updated_at, ''
           FROM surveys
          WHERE customer_phone = ANY($1) AND state = 'sending' AND leased_by IS NOT NULL
            AND updated_at >= $2 AND NOT (id = ANY($3))",
    )
    .bind(phones)
    .bind(since)
    .bind(claiming)
    .fetch_all(conn)
    .await
}

/// Cancels queued messages that would break a cap (locked by the caller's claim), each
/// with why, and ends their surveys.
pub async fn cancel(conn: &mut PgConnection, ids: &[Uuid], why: &[String]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let surveys: Vec<i64> = sqlx::query_scalar::<_, Option<i64>>(
        "UPDATE messages m SET status = 'cancelled', error_code = $3, error_message = c.why,
                lease_until = NULL, updated_at = now()
           FROM unnest($1::uuid[], $2::text[]) AS c(id, why)
          WHERE m.id = c.id AND m.status = 'pending'
         RETURNING m.survey_id",
    )
    .bind(ids)
    .bind(why)
    .bind(REASON)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .flatten()
    .collect();
    end_surveys(conn, &surveys).await
}

/// A send the platform refused for a cap: failed with the platform's code, never retried,
/// and its survey ended. False if this replica no longer holds the lease.
pub async fn refused(
    pool: &PgPool,
    lease: &Lease<'_>,
    code: Option<&str>,
    message: &str,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let survey: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE messages SET status = 'failed', error_code = $4, error_message = $5,
                lease_until = NULL, updated_at = now()
          WHERE id = $1 AND status = 'sending' AND leased_by = $2 AND attempts = $3
         RETURNING survey_id",
    )
    .bind(lease.id)
    .bind(lease.replica)
    .bind(lease.attempts)
    .bind(code.unwrap_or(REASON))
    .bind(message)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(survey) = survey {
        end_surveys(&mut tx, &survey.into_iter().collect::<Vec<_>>()).await?;
    }
    tx.commit().await?;
    Ok(survey.is_some())
}

/// Ends surveys a cap stopped, with `end_reason = provider_cap`: one never sent is dropped
/// (`cancelled`); an open one stops where it is (`expired`: the answers so far count, and
/// `survey.completed` goes out as for any ending). Ended surveys are left alone. A lease on a
/// survey's first send stays: a send already out is still recorded under it
/// (`messages::accepted`), and the rescuer clears what is left of it.
pub async fn end_surveys(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ended: Vec<(i64, SurveyState)> = sqlx::query_as(
        "UPDATE surveys
            SET state = CASE WHEN state = 'open' THEN $2 ELSE $3 END, end_reason = $4,
                closed_at = now(), updated_at = now()
          WHERE id = ANY($1) AND state IN ('scheduled', 'sending', 'open')
         RETURNING id, state",
    )
    .bind(ids)
    .bind(SurveyState::Expired)
    .bind(SurveyState::Cancelled)
    .bind(REASON)
    .fetch_all(&mut *conn)
    .await?;
    for (id, state) in ended {
        if state == SurveyState::Expired {
            let payload = conversation::event_payload(conn, id).await?;
            conversation::enqueue_event(conn, Event::Completed.routing_key(), &payload).await?;
        }
    }
    Ok(())
}
