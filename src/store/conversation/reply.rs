//! Everything one reply to a survey changes, written in one of two ways:
//!
//! - [`guarded`]: one statement on its own, no explicit transaction, for the common reply
//!   (an answer, a re-prompt, a skip, a late reply). It is guarded by the survey as it was
//!   read unlocked (state, question, re-prompt and `updated_at`, which every writer of a
//!   survey moves): if anything changed it in between — another reply from the same phone,
//!   expiry, the dispatcher recording the first send — it writes nothing, and the caller
//!   decides again under the lock. Every part hangs off the inbound row's insert, so a
//!   retried callback that loses the race on `(provider, provider_message_id)` also writes
//!   nothing.
//! - [`locked`]: the same writes, in the caller's transaction with the survey locked
//!   (`survey_for(…, Lock::ForUpdate)`), for anything else: keywords, opt-outs, events, a
//!   phone without a survey.

use serde_json::{Value, json};
use sqlx::{PgConnection, Postgres, Row, postgres::PgArguments, query::Query};

use super::{Current, Inbound, Progress, enqueue_event, event_payload, set_inbound_outcome};
use crate::store::{
    messages::{self, Columns},
    opt_outs,
};

/// What one reply writes, as decided from the SMS and the survey it belongs to.
pub struct Reply<'a> {
    pub sms: &'a Inbound<'a>,
    /// `inbound_messages.outcome`.
    pub outcome: &'static str,
    /// The survey it belongs to and where it leaves it; none for a phone without a survey.
    pub survey: Option<(i64, Progress)>,
    /// One answer, or two for a reply to a pair of questions asked together.
    pub answers: Vec<Answer>,
    pub send: Vec<messages::New<'a>>,
    pub opt_out: bool,
    pub opt_in: bool,
    pub announce: Vec<Announcement>,
}

/// An answer to store; its raw text and time are the SMS's.
pub struct Answer {
    pub question_id: String,
    pub value: Value,
    /// The survey had ended: stored, counted nowhere.
    pub late: bool,
    /// Read past a remark (`conversation::Answer::remark`): the feedback list shows it.
    pub remark: bool,
}

/// An event for the outbox, with the payload of DESIGN.md §5 built from the database.
pub struct Announcement {
    pub routing_key: &'static str,
    /// For `survey.detractor`: the reasons this reply added.
    pub reasons: Option<Vec<&'static str>>,
}

pub enum Written {
    Recorded,
    /// The same provider message was recorded meanwhile.
    Duplicate,
    /// The survey changed since it was read; nothing was written.
    Moved,
}

/// Writes `reply` in one statement if the survey is still as `read`. The reply must have
/// nothing [`locked`] alone writes: no opt-out or opt-in, no event.
pub async fn guarded(
    conn: &mut PgConnection,
    read: &Current,
    reply: &Reply<'_>,
) -> sqlx::Result<Written> {
    let Some((_, progress)) = &reply.survey else {
        return Ok(Written::Moved);
    };
    let columns = Columns::of(&reply.send);
    let query = sqlx::query(
        r#"
        WITH s AS (
            SELECT id FROM surveys
             WHERE id = $1 AND state = $2 AND question_index = $3 AND reprompted = $4
               AND updated_at IS NOT DISTINCT FROM $5
               FOR UPDATE
        ), ins AS (
            INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body,
                                          received_at, survey_id, outcome)
            SELECT $6, $7, $8, $9, $10, $11, s.id, $12 FROM s
            ON CONFLICT (provider, provider_message_id) DO NOTHING
            RETURNING id
        ), saved AS (
            UPDATE surveys
               SET state = $13, question_index = $14, reprompted = $15, expires_at = $16,
                   updated_at = now(),
                   closed_at = CASE WHEN $13 IN ('completed', 'expired', 'opted_out')
                                    THEN coalesce(closed_at, now()) ELSE closed_at END
              FROM ins WHERE surveys.id = $1
        ), answered AS (
            INSERT INTO answers (survey_id, question_id, value, raw, received_at, late, remark,
                                 inbound_id)
            SELECT $1, a.question_id, a.value, $10, $11, $19, a.remark, ins.id
              FROM ins, unnest($17::text[], $18::jsonb[], $20::boolean[])
                        AS a (question_id, value, remark)
        ), quiet AS (
            -- Set before any message row exists (each row needs this CTE's one row): the
            -- messages trigger's WHEN, tested as each row is inserted, then leaves the
            -- dispatchers' wake-up to the caller, after the commit.
            SELECT set_config('postcall.notify_after_commit', 'on', true)
        ), queued AS (
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding, segments,
                                  template_id, template_params)
            SELECT m.* FROM ins, quiet, unnest($21::uuid[], $22::bigint[], $23::text[], $24::text[],
                                               $25::text[], $26::text[], $27::text[], $28::int[],
                                               $29::text[], $30::jsonb[]) AS m
        )
        SELECT EXISTS (SELECT 1 FROM s), (SELECT id FROM ins)
        "#,
    );
    let query = bind_guard(query, read);
    let query = bind_inbound(query, reply.sms, reply.outcome);
    let query = bind_progress(query, progress);
    let query = bind_answers(query, &reply.answers);
    let row = columns.bind(query).fetch_one(conn).await?;
    let (guard_held, inbound_id): (bool, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    Ok(match (guard_held, inbound_id) {
        (false, _) => Written::Moved,
        (true, None) => Written::Duplicate,
        (true, Some(_)) => Written::Recorded,
    })
}

type Q<'q> = Query<'q, Postgres, PgArguments>;

/// `$1..$5`: the survey as it was read.
fn bind_guard<'q>(query: Q<'q>, read: &'q Current) -> Q<'q> {
    query
        .bind(read.id)
        .bind(read.state)
        .bind(read.question_index)
        .bind(read.reprompted)
        .bind(read.updated_at)
}

/// `$6..$12`: the inbound row.
fn bind_inbound<'q>(query: Q<'q>, sms: &'q Inbound<'q>, outcome: &'q str) -> Q<'q> {
    query
        .bind(sms.provider)
        .bind(sms.provider_message_id)
        .bind(sms.from)
        .bind(sms.to)
        .bind(sms.body)
        .bind(sms.received_at)
        .bind(outcome)
}

/// `$13..$16`: where the survey goes.
fn bind_progress<'q>(query: Q<'q>, p: &'q Progress) -> Q<'q> {
    query
        .bind(p.state)
        .bind(p.question_index)
        .bind(p.reprompted)
        .bind(p.expires_at)
}

/// `$17..$20`: the answers' ids and values, whether they are late (all are, or none), and
/// each one's remark.
fn bind_answers<'q>(query: Q<'q>, answers: &'q [Answer]) -> Q<'q> {
    query
        .bind(
            answers
                .iter()
                .map(|a| a.question_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(answers.iter().map(|a| &a.value).collect::<Vec<_>>())
        .bind(answers.iter().any(|a| a.late))
        .bind(answers.iter().map(|a| a.remark).collect::<Vec<_>>())
}

/// Writes `reply` in the caller's transaction, for the inbound row `inbound_id` already
/// stored. Returns whether the phone's opt-out was recorded now (not already on file).
pub async fn locked(
    tx: &mut PgConnection,
    inbound_id: i64,
    reply: &Reply<'_>,
) -> sqlx::Result<bool> {
    let survey_id = reply.survey.as_ref().map(|(id, _)| *id);
    if let Some(survey_id) = survey_id {
        for answer in &reply.answers {
            insert_answer(tx, survey_id, inbound_id, reply.sms, answer).await?;
        }
    }
    let mut opted_out = false;
    if reply.opt_out {
        // Cancels every survey in flight and unsent message for the phone; this survey's
        // own state is saved as opted_out right after.
        opted_out = opt_outs::record(tx, reply.sms.from, "sms").await?.recorded;
    }
    if reply.opt_in {
        opt_outs::remove(tx, reply.sms.from).await?;
    }
    if let Some((id, progress)) = &reply.survey {
        save(tx, *id, progress).await?;
    }
    messages::insert(tx, &reply.send).await?;
    if let Some(survey_id) = survey_id {
        announce(tx, survey_id, &reply.announce).await?;
    }
    set_inbound_outcome(tx, inbound_id, survey_id, reply.outcome).await?;
    Ok(opted_out)
}

async fn insert_answer(
    conn: &mut PgConnection,
    survey_id: i64,
    inbound_id: i64,
    sms: &Inbound<'_>,
    a: &Answer,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO answers (survey_id, question_id, value, raw, received_at, late, remark,
                              inbound_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(survey_id)
    .bind(&a.question_id)
    .bind(&a.value)
    .bind(sms.body)
    .bind(sms.received_at)
    .bind(a.late)
    .bind(a.remark)
    .bind(inbound_id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn save(conn: &mut PgConnection, survey_id: i64, p: &Progress) -> sqlx::Result<()> {
    bind_progress(
        sqlx::query(
            "UPDATE surveys
                SET state = $2, question_index = $3, reprompted = $4, expires_at = $5, updated_at = now(),
                    closed_at = CASE WHEN $2 IN ('completed', 'expired', 'opted_out') THEN coalesce(closed_at, now())
                                     ELSE closed_at END
              WHERE id = $1",
        )
        .bind(survey_id),
        p,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Each event after the writes before it: its payload lists the answers stored so far.
async fn announce(
    conn: &mut PgConnection,
    survey_id: i64,
    events: &[Announcement],
) -> sqlx::Result<()> {
    for event in events {
        let mut payload = event_payload(conn, survey_id).await?;
        if let Some(reasons) = &event.reasons {
            payload["reasons"] = json!(reasons);
        }
        enqueue_event(conn, event.routing_key, &payload).await?;
    }
    Ok(())
}
