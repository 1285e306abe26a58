//! The schema floor: the durable baseline's loop (`durable.rs`) over postcall's own tables,
//! writing only what postcall's records need for each first SMS, however a dispatcher were
//! built. It answers "how much of the gap to the durable baseline is the records
//! themselves, not the way postcall writes them".
//!
//! What it writes per SMS, and why none of it can go:
//! - claim: the survey to `sending` (one statement, `FOR UPDATE SKIP LOCKED`, committed
//!   without waiting for the WAL flush, as the durable claim). It is the claim itself: it
//!   takes the survey out of the due scan and is what replies, opt-outs and the
//!   one-in-flight index see while the SMS is out. It reads the call's zone and the
//!   phone's opt-out, as every first SMS must (quiet hours, "never text an opted-out
//!   phone"); the bench's phones have none, so nothing is held back.
//! - record, one statement committed durably: the survey to `open` with its reply
//!   deadline (`sent_at`, `expires_at`: the conversation keys on them), the message row
//!   with the provider's id (delivery reports find it by that id; the survey view and the
//!   scores' `sent` and `sms_segments` count it), and the score change the incremental
//!   aggregation folds in.
//!
//! Postcall writes the same rows (since its first question is claimed on its survey and
//! inserted once, when accepted), but under a lease of its own (`leased_by`, `lease_until`,
//! `first_attempts`, the SMS's id on the survey) where the floor fences by `updated_at`,
//! and with what correctness needs beyond the rows: folding early delivery reports and
//! their locks, caps, templates, the claim of queued messages. So it is a floor postcall
//! cannot reach, not a design it could adopt as it stands.

use sqlx::PgConnection;

use super::outbox::{Leased, Outcome};

/// Leases up to `limit` due surveys; each row's id is the first SMS's id (stable per
/// survey, as an idempotency key must be), its fence the claim's `updated_at`.
pub async fn claim(conn: &mut PgConnection, limit: usize, body: &str) -> sqlx::Result<Vec<Leased>> {
    // The due scan is postcall's own (`store::surveys::claim_due`), so both walk the same
    // index the same way. The join reads the call, as quiet hours need its zone (off in
    // this stage, as for the dispatcher measured beside it).
    let rows: Vec<Leased> = sqlx::query_as(
        r#"
        WITH due AS (
            SELECT id FROM surveys
             WHERE state = 'scheduled' AND send_at <= now()
             ORDER BY send_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE surveys s SET state = 'sending', updated_at = now()
              FROM due WHERE s.id = due.id
            RETURNING s.id, s.call_id, s.customer_phone, s.updated_at
        )
        SELECT md5('postcall-floor:' || c.id)::uuid AS id, c.customer_phone AS to_phone,
               $2::text AS body, 1 AS attempts, c.id AS survey_id, c.updated_at AS fence,
               EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = c.customer_phone)
                   AS opted_out
          FROM claimed c JOIN calls k USING (call_id)
        "#,
    )
    .bind(limit as i64)
    .bind(body)
    .fetch_all(conn)
    .await?;
    // The stage's phones never opted out; one that had would stay `sending` and fail the
    // check that every survey opened.
    Ok(rows.into_iter().filter(|r| !r.opted_out).collect())
}

/// Records accepted sends in one statement: surveys opened, messages inserted with the
/// provider's ids, score changes logged. Returns how many messages it inserted.
pub async fn record(
    conn: &mut PgConnection,
    outcomes: &[Outcome],
    first: &First,
) -> sqlx::Result<u64> {
    let ids: Vec<_> = outcomes.iter().map(|o| o.id).collect();
    let surveys: Vec<Option<i64>> = outcomes.iter().map(|o| o.survey_id).collect();
    let fences: Vec<_> = outcomes.iter().map(|o| o.fence).collect();
    let provider_ids: Vec<&str> = outcomes
        .iter()
        .map(|o| o.provider_message_id.as_str())
        .collect();
    let inserted: i64 = sqlx::query_scalar(
        r#"
        WITH sends AS (
            SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::text[])
                       AS s(id, survey_id, fence, provider_id)
        ), opened AS (
            UPDATE surveys v
               SET state = 'open', sent_at = now(), updated_at = now(),
                   expires_at = now() + make_interval(secs => $5)
              FROM sends s
             WHERE v.id = s.survey_id AND v.state = 'sending' AND v.updated_at = s.fence
            RETURNING v.id, v.customer_phone
        ), sent AS (
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                  segments, status, attempts, provider, provider_message_id,
                                  sent_at)
            SELECT s.id, o.id, 'question', $6, o.customer_phone, $7, $8, $9, 'queued', 1,
                   'webhook', s.provider_id, now()
              FROM opened o JOIN sends s ON s.survey_id = o.id
            RETURNING survey_id
        ), logged AS (
            INSERT INTO score_changes (survey_id) SELECT survey_id FROM sent
        )
        SELECT count(*) FROM sent
        "#,
    )
    .bind(&ids)
    .bind(&surveys)
    .bind(&fences)
    .bind(&provider_ids)
    .bind(first.expire_after_seconds)
    .bind(&first.question_id)
    .bind(&first.body)
    .bind(first.encoding)
    .bind(first.segments)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(inserted).unwrap_or_default())
}

/// The first SMS as the dispatcher composes it, the same for every survey of the stage.
#[derive(Clone)]
pub struct First {
    pub question_id: String,
    pub body: String,
    pub encoding: &'static str,
    pub segments: i32,
    pub expire_after_seconds: f64,
}
