//! The SQL of retention: one statement per batch and part, erasing personal data in place
//! (a phone or a text becomes `''`) or deleting rows that hold nothing else. Nothing a score
//! reads is written: `calls.ended_at`, `agent_id`, `queue`, `wait_seconds`, `surveys.sent_at`,
//! `messages.status`, `segments`, `purpose`, `direction`, an answer's row and its value when
//! it is a number or yes/no, so the cells, folded or rebuilt, stay as they were. No trigger
//! that logs a score change fires (they watch answer inserts and message status and
//! segment moves).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::domain::retention::{EVENT_KEPT, Part};

type Tx<'t, 'c> = &'t mut Transaction<'c, Postgres>;

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Batch {
    /// Records erased (calls for `Part::Calls`) or deleted.
    pub erased: i64,
    /// The survey still in flight that stopped the calls' cursor, if one did.
    pub in_flight: Option<i64>,
}

/// A batch never waits long behind a row lock: rows this old are not being worked on, and a
/// batch that gives up is taken again at the next run.
pub async fn begin_batch(tx: Tx<'_, '_>) -> sqlx::Result<()> {
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Erases one batch of `part` made before `cutoff`.
pub async fn erase(
    tx: Tx<'_, '_>,
    part: Part,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> sqlx::Result<Batch> {
    let limit = i64::from(limit);
    match part {
        Part::Calls => calls(tx, cutoff, limit).await,
        Part::InboundMessages => by_id(tx, INBOUND, cutoff, limit).await,
        Part::Answers => by_id(tx, ANSWERS, cutoff, limit).await,
        Part::FollowUpMoves => by_id(tx, MOVES, cutoff, limit).await,
        Part::UnattachedMessages => found(tx, UNATTACHED, cutoff, limit).await,
        Part::PublishedEvents => found(tx, PUBLISHED, cutoff, limit).await,
        Part::CallbackInbox => found(tx, INBOX, cutoff, limit).await,
    }
}

/// The calls that ended before `cutoff`, in `ended_at` order after the cursor, with their
/// surveys and the surveys' outbound SMS. A batch takes whole groups of calls that ended at
/// the same instant (so the cursor, an instant, never splits one), found by walking the
/// index on `ended_at` for `limit` entries and no more. A call whose survey is still in
/// flight stops the batch before its instant (and the cursor with it) until the survey ends.
async fn calls(tx: Tx<'_, '_>, cutoff: DateTime<Utc>, limit: i64) -> sqlx::Result<Batch> {
    let after: DateTime<Utc> = sqlx::query_scalar(
        "SELECT after_at FROM retention_cursors WHERE part = 'calls' FOR UPDATE",
    )
    .fetch_one(&mut **tx)
    .await?;
    let kept = EVENT_KEPT.map(|k| format!("'{k}'")).join(", ");
    let sql = format!(
        "WITH edge AS (
            SELECT max(ended_at) AS at FROM (
                SELECT ended_at FROM calls WHERE ended_at > $1 AND ended_at < $2
                 ORDER BY ended_at LIMIT $3) first
        ), next AS (
            SELECT c.call_id, c.ended_at, s.id AS survey_id,
                   coalesce(s.state IN ('scheduled', 'sending', 'open'), false) AS in_flight
              FROM calls c
              -- LIMIT keeps it a lookup per call: the planner, not knowing the edge, would
              -- otherwise hash-join every survey ever stored.
              LEFT JOIN LATERAL (SELECT id, state FROM surveys WHERE call_id = c.call_id LIMIT 1) s
                ON true
             WHERE c.ended_at > $1 AND c.ended_at <= (SELECT at FROM edge)
        ), blocker AS (
            SELECT ended_at, survey_id FROM next WHERE in_flight ORDER BY ended_at LIMIT 1
        ), due AS (
            SELECT * FROM next
             WHERE ended_at < coalesce((SELECT ended_at FROM blocker), 'infinity')
        ), erased_calls AS (
            UPDATE calls c
               SET customer_phone = '',
                   event = coalesce((SELECT jsonb_object_agg(e.key, e.value)
                                       FROM jsonb_each(c.event) e
                                      WHERE e.key = ANY (ARRAY[{kept}])), '{{}}'::jsonb)
              FROM due WHERE c.call_id = due.call_id
            RETURNING 1
        ), erased_surveys AS (
            UPDATE surveys s SET customer_phone = ''
              FROM due WHERE s.id = due.survey_id
        ), erased_messages AS (
            UPDATE messages m
               SET to_phone = '', body = '', error_message = NULL,
                   template_params = CASE WHEN m.template_params IS NULL THEN NULL
                                          ELSE '[]'::jsonb END
              FROM due WHERE m.survey_id = due.survey_id
        ), moved AS (
            UPDATE retention_cursors SET after_at = (SELECT max(ended_at) FROM due)
             WHERE part = 'calls' AND EXISTS (SELECT 1 FROM due)
        )
        -- Every statement in a WITH runs to completion, read or not.
        SELECT (SELECT count(*) FROM erased_calls), (SELECT survey_id FROM blocker)"
    );
    let (erased, in_flight): (i64, Option<i64>) = sqlx::query_as(&sql)
        .bind(after)
        .bind(cutoff)
        .bind(limit)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Batch { erased, in_flight })
}

/// A table walked by its identity key: its name, its time column, what erasing sets.
struct ById {
    part: &'static str,
    table: &'static str,
    at: &'static str,
    set: &'static str,
}

const INBOUND: ById = ById {
    part: "inbound_messages",
    table: "inbound_messages",
    at: "received_at",
    set: "from_phone = '', to_phone = NULL, body = ''",
};

/// The answer row stays (it is a response, and its number or yes/no is what the scores
/// count); a comment's words become JSON null and a remark's mark goes with its raw text,
/// so neither is listed as feedback any more.
const ANSWERS: ById = ById {
    part: "answers",
    table: "answers",
    at: "received_at",
    set: "raw = '', value = CASE WHEN jsonb_typeof(t.value) = 'string' THEN 'null'::jsonb
                                  ELSE t.value END,
          remark = false",
};

const MOVES: ById = ById {
    part: "follow_up_moves",
    table: "follow_up_moves",
    at: "moved_at",
    set: "note = ''",
};

/// The next rows after the cursor in id order, up to the first one not yet due: ids grow
/// with time, so the rows behind the cursor were all erased and none is read again.
async fn by_id(tx: Tx<'_, '_>, t: ById, cutoff: DateTime<Utc>, limit: i64) -> sqlx::Result<Batch> {
    let ById {
        part,
        table,
        at,
        set,
    } = t;
    let sql = format!(
        "WITH cursor AS (
            SELECT after_id FROM retention_cursors WHERE part = '{part}' FOR UPDATE
        ), next AS (
            SELECT id, {at} AS at FROM {table}
             WHERE id > (SELECT after_id FROM cursor)
             ORDER BY id LIMIT $2
        ), due AS (
            SELECT id FROM next
             WHERE id < coalesce((SELECT min(id) FROM next WHERE at >= $1), 9223372036854775807)
        ), erased AS (
            UPDATE {table} t SET {set} FROM due WHERE t.id = due.id
            RETURNING t.id
        ), moved AS (
            UPDATE retention_cursors SET after_id = (SELECT max(id) FROM erased)
             WHERE part = '{part}' AND EXISTS (SELECT 1 FROM erased)
            RETURNING 1
        )
        SELECT count(*) FROM erased"
    );
    let erased: i64 = sqlx::query_scalar(&sql)
        .bind(cutoff)
        .bind(limit)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Batch {
        erased,
        in_flight: None,
    })
}

/// Rows found through a partial index that holds only rows still to erase: erasing takes
/// them out of it. Locked rows are skipped (a sweep may hold an inbox batch); they are found
/// again by the next run.
const UNATTACHED: &str = "
    WITH due AS (
        SELECT id FROM messages
         WHERE survey_id IS NULL AND to_phone <> '' AND created_at < $1
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
    ), erased AS (
        UPDATE messages m
           SET to_phone = '', body = '', error_message = NULL,
               template_params = CASE WHEN m.template_params IS NULL THEN NULL
                                      ELSE '[]'::jsonb END
          FROM due WHERE m.id = due.id
        RETURNING 1
    )
    SELECT count(*) FROM erased";

const PUBLISHED: &str = "
    WITH due AS (
        SELECT id FROM outbox
         WHERE published_at IS NOT NULL AND created_at < $1
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
    ), deleted AS (
        DELETE FROM outbox o USING due WHERE o.id = due.id RETURNING 1
    )
    SELECT count(*) FROM deleted";

/// The inbox holds only batches not yet processed (a processed one is deleted at once): a
/// batch this old failed every sweep since, and its reports are long moot.
const INBOX: &str = "
    WITH due AS (
        SELECT id FROM callback_inbox WHERE received_at < $1
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
    ), deleted AS (
        DELETE FROM callback_inbox i USING due WHERE i.id = due.id RETURNING 1
    )
    SELECT count(*) FROM deleted";

async fn found(
    tx: Tx<'_, '_>,
    sql: &str,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Batch> {
    let erased: i64 = sqlx::query_scalar(sql)
        .bind(cutoff)
        .bind(limit)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Batch {
        erased,
        in_flight: None,
    })
}

/// How many records of `part` a run would erase now (`postcall retention --dry-run`): an
/// index range from the cursor, read, not locked.
pub async fn due(conn: &mut PgConnection, part: Part, cutoff: DateTime<Utc>) -> sqlx::Result<i64> {
    let sql = match part {
        Part::Calls => {
            "SELECT count(*) FROM calls c, retention_cursors r
              WHERE r.part = 'calls' AND c.ended_at > r.after_at AND c.ended_at < $1"
        }
        Part::InboundMessages => {
            "SELECT count(*) FROM inbound_messages t, retention_cursors r
              WHERE r.part = 'inbound_messages' AND t.id > r.after_id AND t.received_at < $1"
        }
        Part::Answers => {
            "SELECT count(*) FROM answers t, retention_cursors r
              WHERE r.part = 'answers' AND t.id > r.after_id AND t.received_at < $1"
        }
        Part::FollowUpMoves => {
            "SELECT count(*) FROM follow_up_moves t, retention_cursors r
              WHERE r.part = 'follow_up_moves' AND t.id > r.after_id AND t.moved_at < $1"
        }
        Part::UnattachedMessages => {
            "SELECT count(*) FROM messages
              WHERE survey_id IS NULL AND to_phone <> '' AND created_at < $1"
        }
        Part::PublishedEvents => {
            "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND created_at < $1"
        }
        Part::CallbackInbox => "SELECT count(*) FROM callback_inbox WHERE received_at < $1",
    };
    sqlx::query_scalar(sql).bind(cutoff).fetch_one(conn).await
}
