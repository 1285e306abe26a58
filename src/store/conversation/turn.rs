//! One reply to a survey in two statements and no explicit transaction: a read of the
//! survey (and whether the provider sent this message before), then, once the conversation
//! has decided in pure code, one statement that writes everything the reply changes.
//!
//! The write is guarded by the survey as it was read (state, question, re-prompt and
//! `updated_at`, which every writer of a survey moves): if anything changed it in between —
//! another reply from the same phone, expiry, the dispatcher recording the first send —
//! the statement writes nothing and the caller falls back to the locked transaction. Every
//! part of the write hangs off the inbound row's insert, so a retried callback that loses
//! the race on `(provider, provider_message_id)` also writes nothing.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Current, Inbound, NewAnswer, Progress};
use crate::store::messages;

/// The phone's survey as `current_for` chooses it, unlocked. Whether the provider sent this
/// message before is left to the write's insert: a probe here ran as a cached generic plan
/// made while `inbound_messages` was empty — a sequential scan, costlier with every reply.
pub async fn find(conn: &mut PgConnection, phone: &str) -> sqlx::Result<Option<Current>> {
    sqlx::query_as(
        "SELECT id, call_id, state, language, question_index, reprompted, expires_at, sent_at,
                updated_at
           FROM surveys
          WHERE customer_phone = $1
            AND state IN ('sending', 'open', 'completed', 'expired', 'opted_out')
          ORDER BY (state IN ('sending', 'open')) DESC, created_at DESC
          LIMIT 1",
    )
    .bind(phone)
    .fetch_optional(conn)
    .await
}

/// Everything one reply changes, written at once.
pub struct Turn<'a> {
    /// The survey as read: the write happens only if it is still so.
    pub read: &'a Current,
    pub sms: &'a Inbound<'a>,
    pub outcome: &'a str,
    pub progress: Progress,
    /// Its `inbound_id` is filled in by the statement.
    pub answer: Option<NewAnswer<'a>>,
    pub send: &'a [messages::New<'a>],
}

pub enum Written {
    /// Recorded: the inbound row's id.
    Recorded(i64),
    /// The same provider message was recorded meanwhile.
    Duplicate,
    /// The survey changed since it was read; nothing was written.
    Moved,
}

pub async fn write(conn: &mut PgConnection, t: &Turn<'_>) -> sqlx::Result<Written> {
    let (guarded, inbound_id, _): (bool, Option<i64>, String) = sqlx::query_as(
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
            INSERT INTO answers (survey_id, question_id, value, raw, received_at, late, inbound_id)
            SELECT $1, $17, $18, $10, $11, $19, ins.id FROM ins WHERE $17::text IS NOT NULL
        ), queued AS (
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding, segments)
            SELECT m.* FROM ins, unnest($20::uuid[], $21::bigint[], $22::text[], $23::text[],
                                        $24::text[], $25::text[], $26::text[], $27::int[]) AS m
        )
        -- Evaluated before the statement's AFTER triggers fire: the messages trigger then
        -- leaves the dispatchers' wake-up to `wake_dispatchers`, after the commit.
        SELECT EXISTS (SELECT 1 FROM s), (SELECT id FROM ins),
               set_config('postcall.notify_after_commit', 'on', true)
        "#,
    )
    .bind(t.read.id)
    .bind(t.read.state)
    .bind(t.read.question_index)
    .bind(t.read.reprompted)
    .bind(t.read.updated_at)
    .bind(t.sms.provider)
    .bind(t.sms.provider_message_id)
    .bind(t.sms.from)
    .bind(t.sms.to)
    .bind(t.sms.body)
    .bind(t.sms.received_at)
    .bind(t.outcome)
    .bind(t.progress.state)
    .bind(t.progress.question_index)
    .bind(t.progress.reprompted)
    .bind(t.progress.expires_at)
    .bind(t.answer.as_ref().map(|a| a.question_id))
    .bind(t.answer.as_ref().map(|a| &a.value))
    .bind(t.answer.as_ref().is_some_and(|a| a.late))
    .bind(t.send.iter().map(|m| m.id).collect::<Vec<Uuid>>())
    .bind(t.send.iter().map(|m| m.survey_id).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.purpose).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.question_id).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.to_phone).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.encoding).collect::<Vec<_>>())
    .bind(t.send.iter().map(|m| m.segments).collect::<Vec<_>>())
    .fetch_one(conn)
    .await?;
    Ok(match (guarded, inbound_id) {
        (false, _) => Written::Moved,
        (true, None) => Written::Duplicate,
        (true, Some(id)) => Written::Recorded(id),
    })
}

/// Wakes the dispatchers for messages [`write`] queued, once it has committed (see
/// migration 20261125000009): a transaction of its own that writes nothing, so it takes
/// the notification lock only for an instant and waits for no WAL flush.
pub async fn wake_dispatchers(conn: &mut PgConnection) -> sqlx::Result<()> {
    crate::store::wake::notify(conn).await
}
