//! A survey's first SMS while it is claimed on the survey (`surveys::claim_due`): its
//! message row is written once, when the provider has accepted it (`messages::accepted`), or when
//! another outcome needs the outbox's row and its statements (`materialise`).
//!
//! The lease is the survey's `leased_by` and `first_attempts` (the claim's number), and it
//! runs until `lease_until`. Every statement here holds only while it does; each way a
//! lease ends clears `leased_by`. Rescued or handed back, a survey keeps the earlier
//! lease's end, from which a lookup of a send that may have gone searches; the rescuer's
//! index (`surveys_first_lease_idx`) holds only surveys with one. The fence names no
//! `lease_until`: a condition on it would draw the planner to that index and a nested loop
//! over the batch, where the primary key is the way in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{
    PgConnection, PgPool, Postgres, postgres::PgArguments, query::QueryScalar, types::Json,
};

use super::messages::{self, Claimed, Current, First, New, column};
use crate::{channels::templates::TemplateParam, domain::lifecycle::MessageStatus};

/// The lease a claim holds on a survey's first send.
pub struct Lease<'a> {
    pub survey_id: i64,
    pub replica: &'a str,
    /// The claim's number, its fence.
    pub attempts: i32,
}

const HELD: &str = "id = $1 AND leased_by = $2 AND first_attempts = $3";

/// Re-reads, just before sending, whether the phone opted out and the survey's state.
pub async fn recheck(pool: &PgPool, survey_id: i64) -> sqlx::Result<Current> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = s.customer_phone)
                    AS opted_out,
                s.state AS survey_state
           FROM surveys s WHERE s.id = $1",
    )
    .bind(survey_id)
    .fetch_one(pool)
    .await
}

/// Hands the survey back unsent (quiet hours, shutdown), due again at `at`: the attempt
/// uncounted, the SMS's id and the earlier lease's end as before the claim. A survey that
/// moved on meanwhile (an opt-out ended it) stays where it is.
pub async fn release(
    pool: &PgPool,
    lease: &Lease<'_>,
    at: DateTime<Utc>,
    first: &First,
) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE surveys
            SET state = CASE WHEN state = 'sending' THEN 'scheduled' ELSE state END,
                send_at = $4, first_message_id = $5, first_attempts = first_attempts - 1,
                lease_until = CASE WHEN state = 'sending' THEN $6 END, leased_by = NULL,
                updated_at = now()
          WHERE {HELD}"
    ))
    .bind(lease.survey_id)
    .bind(lease.replica)
    .bind(lease.attempts)
    .bind(at)
    .bind(first.prior)
    .bind(first.prior_lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes the first SMS's row as a claim of the outbox leaves one (`sending`, under this
/// replica's lease for `lease`) and ends the survey's lease, so the outbox's statements
/// (`messages::Lease`) record what became of it. False if the lease no longer held.
pub async fn materialise(
    pool: &PgPool,
    lease: &Lease<'_>,
    message: &New<'_>,
    lease_for: Duration,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let held = sqlx::query(&format!(
        "UPDATE surveys SET leased_by = NULL, lease_until = NULL, updated_at = now() WHERE {HELD}"
    ))
    .bind(lease.survey_id)
    .bind(lease.replica)
    .bind(lease.attempts)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if held {
        messages::insert_claimed(
            &mut tx,
            std::slice::from_ref(message),
            lease.replica,
            lease_for,
            lease.attempts,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(held)
}

/// A first SMS the provider accepted: the message as claimed, which holds its row's
/// columns, and the provider's answer.
pub struct Accepted {
    pub message: Claimed,
    pub first: First,
    pub provider_message_id: String,
    pub status: MessageStatus,
    pub billed_segments: Option<i32>,
}

/// Binds accepted first SMS as `postcall_record_sends`' `firsts_*` arrays, in its order
/// (`messages::accepted`; what recording one does is in the function's migration).
pub(super) fn bind_accepted<'q, O>(
    query: QueryScalar<'q, Postgres, O, PgArguments>,
    sends: &'q [Accepted],
) -> QueryScalar<'q, Postgres, O, PgArguments> {
    let params: Vec<Option<Json<&[TemplateParam]>>> = column(sends, |s| {
        s.message
            .template_params
            .as_ref()
            .map(|p| Json(p.0.as_slice()))
    });
    query
        .bind(column(sends, |s| s.message.id))
        .bind(column(sends, |s| s.first.survey_id))
        .bind(column(sends, |s| s.message.attempts))
        .bind(column(sends, |s| s.provider_message_id.as_str()))
        .bind(column(sends, |s| s.status))
        .bind(column(sends, |s| s.billed_segments))
        .bind(column(sends, |s| s.first.question_id.as_str()))
        .bind(column(sends, |s| s.message.to_phone.as_str()))
        .bind(column(sends, |s| s.message.body.as_str()))
        .bind(column(sends, |s| s.first.encoding))
        .bind(column(sends, |s| s.message.segments))
        .bind(column(sends, |s| s.message.template_id.as_deref()))
        .bind(params)
}

/// Returns surveys whose first send's lease ran out (their worker died mid-send) to the
/// due scan, due after `lookup_after` (where the platform drops no duplicates, the claim
/// then looks the send up before anything goes again) or at once. The SMS's id and the
/// count of claims stay, and so does the lease's end, from which a lookup searches: the
/// claim decides what comes next (`dispatch::start`). A survey that moved on meanwhile
/// only loses the lease. Returns how many were sent back.
pub async fn rescue_expired(pool: &PgPool, lookup_after: Option<Duration>) -> sqlx::Result<i64> {
    // Counts only the surveys sent back: one that only lost its lease is not a send
    // returned, and the rescuer's log and wake-up are about sends.
    sqlx::query_scalar(
        "WITH cleared AS (
            UPDATE surveys
               SET state = CASE WHEN state = 'sending' THEN 'scheduled' ELSE state END,
                   send_at = CASE WHEN state = 'sending'
                                  THEN now() + make_interval(secs => coalesce($1::float8, 0))
                                  ELSE send_at END,
                   lease_until = CASE WHEN state = 'sending' THEN lease_until END,
                   leased_by = NULL, updated_at = now()
             WHERE lease_until < now() AND leased_by IS NOT NULL
         RETURNING lease_until IS NOT NULL AS returned
         )
         SELECT count(*) FILTER (WHERE returned) FROM cleared",
    )
    .bind(lookup_after.map(|d| d.as_secs_f64()))
    .fetch_one(pool)
    .await
}

/// What a claim does with a first SMS an earlier claim may have sent (its lease ran out):
/// written as the outbox row that earlier claim would have left, either to be looked up
/// (`reconciling`, due now, searched from `since`) or given up (`failed`, out of attempts).
/// The survey keeps waiting on it (`sending`), or fails with it.
pub struct Unknown<'a> {
    pub message: New<'a>,
    pub status: MessageStatus,
    /// The claims that may have sent it.
    pub attempts: i32,
    pub since: Option<DateTime<Utc>>,
    pub error: &'static str,
}

/// One statement: claims without caps run outside a transaction (`dispatch::start`).
pub async fn settle_unknown(conn: &mut PgConnection, unknown: &Unknown<'_>) -> sqlx::Result<()> {
    let columns = messages::Columns::of(std::slice::from_ref(&unknown.message));
    columns
        .bind(sqlx::query(
            r#"
        WITH written AS (
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                  segments, template_id, template_params, status, attempts,
                                  next_attempt_at, reconcile_since, error_message)
            SELECT m.*, $11, $12, now(), $13, $14
              FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                          $6::text[], $7::text[], $8::int[], $9::text[], $10::jsonb[]) AS m
            RETURNING survey_id
        )
        UPDATE surveys s
           SET state = CASE WHEN $15 THEN 'failed' ELSE s.state END, first_attempts = $12,
               leased_by = NULL, lease_until = NULL, updated_at = now()
          FROM written WHERE s.id = written.survey_id
        "#,
        ))
        .bind(unknown.status)
        .bind(unknown.attempts)
        .bind(unknown.since)
        .bind(unknown.error)
        .bind(unknown.status == MessageStatus::Failed)
        .execute(conn)
        .await?;
    Ok(())
}
