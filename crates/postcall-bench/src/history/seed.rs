//! A year of history in a database: the aggregate stage's generator (`aggregate::seed`)
//! writes calls, surveys, outbound SMS and answers; this adds what the reply path and
//! eligibility also read and write beside them — the customers' replies, opt-outs and the
//! published events — from the same plan (`bench.plan`), so a call's rows agree.
//!
//! Seeded once into a kept database (`kept.rs`); `rows` is what the check on reuse counts.

use std::time::Instant;

use anyhow::Context;
use sqlx::{Executor, PgConnection};

use crate::aggregate::seed::{self, Survey};

/// Bumped when what is written changes: a database from another generator is seeded again.
pub const GENERATOR: i32 = 1;

/// The tables the history fills and the check counts, in the order they are counted.
pub const TABLES: &[&str] = &[
    "calls",
    "surveys",
    "messages",
    "answers",
    "inbound_messages",
    "opt_outs",
    "outbox",
];

/// Our number the replies were sent to, as the Twilio inbound route records it.
const OUR_NUMBER: &str = "+15005550006";

/// Every answer came as a reply (Twilio id `SM` + 32 hex, as real ones). Phones and survey
/// ids are functions of the plan's index, as in `aggregate::seed`, so nothing is joined.
const INSERT_REPLIES: &str = "
    INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body,
                                  received_at, survey_id, outcome)
    SELECT 'twilio', 'SM' || md5('reply-' || a.id), '+86138' || lpad(a.survey_id::text, 8, '0'),
           $1, a.raw, a.received_at, a.survey_id, 'answer'
      FROM answers a
     ORDER BY a.id";

/// Half a percent of customers replied TD some time after their call: an opt-out and its
/// inbound keyword, with no survey (it was closed by then).
const INSERT_OPT_OUTS: &str = "
    WITH stopped AS (
        SELECT '+86138' || lpad(i::text, 8, '0') AS phone, send_at + interval '1 hour' AS at
          FROM bench.plan WHERE bench.u(i, 50) < 0.005
    ), keywords AS (
        INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body,
                                      received_at, outcome)
        SELECT 'twilio', 'SM' || md5('stop-' || phone), phone, $1, 'TD', at, 'keyword'
          FROM stopped
    )
    INSERT INTO opt_outs (customer_phone, opted_out_at, source)
    SELECT phone, at, 'keyword' FROM stopped";

/// A `survey.completed` event per completed survey, published a second after it closed.
const INSERT_EVENTS: &str = "
    INSERT INTO outbox (id, routing_key, payload, created_at, published_at)
    SELECT md5('event-out-' || i)::uuid, 'survey.completed',
           jsonb_build_object('call_id', 'call-' || i, 'agent_id', agent, 'queue', queue,
               'customer_phone', '+86138' || lpad(i::text, 8, '0'),
               'answers', jsonb_build_array(
                   jsonb_build_object('question_id', $1[1], 'value', true),
                   jsonb_build_object('question_id', $1[2], 'value', 4),
                   jsonb_build_object('question_id', $1[3], 'value', 9))),
           send_at + interval '9 minutes', send_at + interval '9 minutes 1 second'
      FROM bench.plan
     WHERE cat = 3 AND k = 3";

/// Seeds `calls` calls of history into a freshly migrated database; returns the seconds per
/// step, for the report.
pub async fn history(
    conn: &mut PgConnection,
    survey: &Survey,
    calls: i64,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let (_, timings) = seed::history(conn, survey, calls).await?;
    let mut steps = timings.0;
    // As `aggregate::seed` does: no foreign-key checks for rows the generator made
    // consistent, and the random-keyed unique index built once by sorting, not row by row.
    conn.execute("SET session_replication_role = replica")
        .await?;
    conn.execute("SET maintenance_work_mem = '256MB'").await?;
    let unique: String = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint
          WHERE conrelid = 'inbound_messages'::regclass AND contype = 'u'",
    )
    .fetch_one(&mut *conn)
    .await
    .context("finding inbound_messages' unique constraint")?;
    let definition: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint
          WHERE conrelid = 'inbound_messages'::regclass AND conname = $1",
    )
    .bind(&unique)
    .fetch_one(&mut *conn)
    .await?;
    let drop = format!("ALTER TABLE inbound_messages DROP CONSTRAINT {unique}");
    conn.execute(drop.as_str()).await?;
    let started = Instant::now();
    sqlx::query(INSERT_REPLIES)
        .bind(OUR_NUMBER)
        .execute(&mut *conn)
        .await
        .context("seeding: replies")?;
    steps.push(("replies", started.elapsed().as_secs_f64()));
    let started = Instant::now();
    sqlx::query(INSERT_OPT_OUTS)
        .bind(OUR_NUMBER)
        .execute(&mut *conn)
        .await
        .context("seeding: opt-outs")?;
    sqlx::query(INSERT_EVENTS)
        .bind(&survey.answered)
        .execute(&mut *conn)
        .await
        .context("seeding: events")?;
    steps.push(("opt-outs and events", started.elapsed().as_secs_f64()));
    let started = Instant::now();
    let add = format!("ALTER TABLE inbound_messages ADD CONSTRAINT {unique} {definition}");
    conn.execute(add.as_str()).await?;
    conn.execute("SET session_replication_role = DEFAULT")
        .await?;
    for table in ["inbound_messages", "opt_outs", "outbox"] {
        let sql = format!("VACUUM (ANALYZE) {table}");
        conn.execute(sql.as_str())
            .await
            .with_context(|| format!("vacuuming {table}"))?;
    }
    steps.push(("index and vacuum", started.elapsed().as_secs_f64()));
    conn.execute("DROP TABLE bench.plan").await?;
    Ok(steps)
}

/// Rows in each of `TABLES`, counted.
pub async fn rows(conn: &mut PgConnection) -> anyhow::Result<Vec<i64>> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("counting {table}"))?;
        counts.push(n);
    }
    Ok(counts)
}
