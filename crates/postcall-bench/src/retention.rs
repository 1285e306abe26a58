//! The `retention` stage: erasing personal data past `retention.personal_data_days`
//! (`aggregate::retention::Eraser`, as the aggregation role runs it) in a year of history.
//!
//! Seeded once: `--size` rows (default 1 M) as calls spread evenly over 360 days, each with
//! its completed survey, its outbound SMS, one inbound SMS, two answers (a score and a
//! comment) and its published event: 7 rows per call, every one holding the phone or a text,
//! written in time order as the worker writes them. The history is then cut into slices of
//! equal length; each run (`--runs`) erases one slice with the eraser (the clock moved so
//! exactly that slice is past the window, batches of `retention.batch_size`) and the next
//! slice with the baseline (order alternating run to run): a plain batched UPDATE/DELETE of
//! the same columns of the same kind of rows by key range, with no lock, cursor table or
//! parts, each batch its own transaction — the least a batched erasure does. Each side is
//! checked: every call of its slice erased, none outside it.
//!
//! The line: `retention rate=<rows erased per second by the eraser> baseline=<rows per
//! second by the baseline> ratio=<rate ÷ baseline>` (medians; ratio of per-run ratios),
//! `slice_calls=` (calls per slice), `year_at_1m_per_day_s=` (seconds a day's erasure takes
//! at 1 M calls a day at the eraser's rate), `stored=` (rows), `runs=`.

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Duration, Utc};
use postcall::{
    aggregate::retention::{Eraser, Lock, Policy},
    store::db,
};
use sqlx::{Executor, PgPool};

use crate::{
    Args,
    report::Line,
    services::Names,
    stats::{describe, median, ratio},
};

/// Rows each seeded call brings (calls, surveys, messages, inbound, 2 answers, outbox).
const ROWS_PER_CALL: i64 = 7;
const HISTORY_DAYS: i64 = 360;
const POLICY: Policy = Policy {
    days: 180,
    batch_size: 1000,
};

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let rows = args.size(1_000_000, 14_000) as i64;
    let calls = (rows / ROWS_PER_CALL).max(100);
    let names = Names::new("retention");
    let result = measure(args, &names, calls).await;
    names.clean_up().await;
    result
}

async fn measure(args: &Args, names: &Names, calls: i64) -> anyhow::Result<Line> {
    let settings = names.settings(&[])?;
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    let start = Utc::now() - Duration::days(HISTORY_DAYS);
    let clock = Instant::now();
    seed(&pool, calls, start).await?;
    eprintln!(
        "retention: seeded {calls} calls ({} rows) over {HISTORY_DAYS} days in {:.0} s",
        calls * ROWS_PER_CALL,
        clock.elapsed().as_secs_f64()
    );
    explain(&pool, start).await?;

    let runs = args.runs();
    // Two slices per run, all inside the half of the history past the window.
    let slice = Duration::days((POLICY.days as i64 / (2 * runs as i64)).clamp(1, 15));
    let eraser = Eraser::new(pool.clone(), POLICY);
    let (mut rates, mut baselines, mut sizes) = (vec![], vec![], vec![]);
    for i in 0..runs {
        let first = start + slice * (2 * i as i32);
        let (a, b) = (first, first + slice);
        let (erased, plain) = if i % 2 == 0 {
            let e = erase(&eraser, &pool, a, b).await?;
            (e, plain_erase(&pool, b, b + slice).await?)
        } else {
            let p = plain_erase(&pool, a, b).await?;
            (erase(&eraser, &pool, b, b + slice).await?, p)
        };
        // Slices of equal length hold the same calls, give or take one at an edge.
        ensure!(
            (erased.calls - plain.calls).abs() <= 1,
            "slices differ: {erased:?} vs {plain:?}"
        );
        eprintln!(
            "retention: run {}/{runs}: eraser {} calls in {:.0} ms ({:.0} rows/s); baseline {:.0} ms ({:.0} rows/s)",
            i + 1,
            erased.calls,
            erased.seconds * 1e3,
            erased.rows_per_second(),
            plain.seconds * 1e3,
            plain.rows_per_second()
        );
        rates.push(erased.rows_per_second());
        baselines.push(plain.rows_per_second());
        sizes.push(erased.calls as f64);
    }
    pool.close().await;
    eprintln!(
        "retention: eraser {} rows/s, baseline {} rows/s",
        describe(&rates, 0),
        describe(&baselines, 0)
    );
    let day = 1e6 * ROWS_PER_CALL as f64 / median(&rates);
    Ok(Line {
        rate: Some(median(&rates)),
        baseline: Some(median(&baselines)),
        ratio: Some(ratio(&rates, &baselines)),
        ..Line::new("retention")
    }
    .with("slice_calls", format!("{:.0}", median(&sizes)))
    .with("day_at_1m_calls_s", format!("{day:.0}"))
    .with("stored", calls * ROWS_PER_CALL)
    .with("runs", runs))
}

#[derive(Debug)]
struct Erased {
    calls: i64,
    seconds: f64,
}

impl Erased {
    fn rows_per_second(&self) -> f64 {
        (self.calls * ROWS_PER_CALL) as f64 / self.seconds
    }
}

/// The eraser, with the clock set so that exactly the calls that ended in `[from, to)` are
/// past the window (those before were erased by earlier runs or skipped by the baseline).
async fn erase(
    eraser: &Eraser,
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Erased> {
    let now = to + Duration::days(POLICY.days.into());
    let clock = Instant::now();
    let summary = eraser.run_until(Lock::Wait, now, None).await?;
    let seconds = clock.elapsed().as_secs_f64();
    let calls = check(pool, from, to).await?;
    let erased = summary.erased.total();
    if erased != calls * (ROWS_PER_CALL - 2) {
        // calls + inbound + 2 answers + 1 event per call; surveys and SMS go with the call.
        bail!("the eraser erased {erased} records for {calls} calls: {summary}");
    }
    Ok(Erased { calls, seconds })
}

/// The baseline: the same columns of the calls that ended in `[from, to)` and their rows,
/// erased by key range in batches of the same size, then the eraser's cursors moved past
/// them (so the eraser's next slice starts where its own would).
async fn plain_erase(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Erased> {
    // Inbound SMS have no index on their survey: walked by key, from the slice's first.
    let mut inbound: i64 = sqlx::query_scalar(
        "SELECT coalesce(min(id), 0) - 1 FROM inbound_messages WHERE received_at >= $1",
    )
    .bind(from)
    .fetch_one(pool)
    .await?;
    let clock = Instant::now();
    while let Some(last) = sqlx::query_scalar::<_, Option<i64>>(PLAIN_INBOUND)
        .bind(inbound)
        .bind(to)
        .bind(i64::from(POLICY.batch_size))
        .fetch_one(pool)
        .await
        .context("a baseline batch of inbound SMS")?
    {
        inbound = last;
    }
    let mut low = from;
    loop {
        let next: Option<DateTime<Utc>> = sqlx::query_scalar(PLAIN_BATCH)
            .bind(low)
            .bind(to)
            .bind(i64::from(POLICY.batch_size))
            .fetch_one(pool)
            .await
            .context("a baseline batch")?;
        match next {
            Some(last) => low = last + Duration::microseconds(1),
            None => break,
        }
    }
    let seconds = clock.elapsed().as_secs_f64();
    let calls = check(pool, from, to).await?;
    pool.execute(sqlx::query(SKIP_CURSORS).bind(to)).await?;
    Ok(Erased { calls, seconds })
}

/// One batch of the baseline; returns the last call's end, none when the range is done.
const PLAIN_BATCH: &str = "
    WITH due AS (
        SELECT c.call_id, c.ended_at, s.id AS survey_id
          FROM calls c JOIN surveys s ON s.call_id = c.call_id
         WHERE c.ended_at >= $1 AND c.ended_at < $2
         ORDER BY c.ended_at LIMIT $3
    ), c AS (
        UPDATE calls t SET customer_phone = '', event = '{}' FROM due WHERE t.call_id = due.call_id
    ), s AS (
        UPDATE surveys t SET customer_phone = '' FROM due WHERE t.id = due.survey_id
    ), m AS (
        UPDATE messages t SET to_phone = '', body = '' FROM due WHERE t.survey_id = due.survey_id
    ), a AS (
        UPDATE answers t SET raw = '', value = CASE WHEN jsonb_typeof(t.value) = 'string'
                                                     THEN 'null'::jsonb ELSE t.value END
          FROM due WHERE t.survey_id = due.survey_id AND NOT t.late
    ), o AS (
        DELETE FROM outbox t USING due
         WHERE t.published_at IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2
           AND t.payload ->> 'call_id' = due.call_id
    )
    SELECT max(ended_at) FROM due";

/// One batch of inbound SMS of the baseline, after id `$1`; returns the last id, none when
/// the slice is done.
const PLAIN_INBOUND: &str = "
    WITH next AS (
        SELECT id, received_at FROM inbound_messages WHERE id > $1 ORDER BY id LIMIT $3
    ), due AS (
        SELECT id FROM next
         WHERE id < coalesce((SELECT min(id) FROM next WHERE received_at >= $2),
                             9223372036854775807)
    ), i AS (
        UPDATE inbound_messages t SET from_phone = '', to_phone = NULL, body = ''
          FROM due WHERE t.id = due.id
    )
    SELECT max(id) FROM due";

const SKIP_CURSORS: &str = "
    UPDATE retention_cursors SET
        after_at = CASE part WHEN 'calls' THEN $1 - interval '1 microsecond' ELSE after_at END,
        after_id = CASE part
            WHEN 'inbound_messages' THEN (SELECT coalesce(max(id), 0) FROM inbound_messages WHERE received_at < $1)
            WHEN 'answers' THEN (SELECT coalesce(max(id), 0) FROM answers WHERE received_at < $1)
            ELSE after_id END";

/// The calls of `[from, to)`, each checked erased with its rows; no call after `to` touched.
async fn check(pool: &PgPool, from: DateTime<Utc>, to: DateTime<Utc>) -> anyhow::Result<i64> {
    let (calls, left, later_erased): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE c.ended_at < $2),
                count(*) FILTER (WHERE c.ended_at < $2 AND (
                    c.customer_phone <> '' OR s.customer_phone <> ''
                    OR EXISTS (SELECT 1 FROM messages m WHERE m.survey_id = s.id AND m.body <> '')
                    OR EXISTS (SELECT 1 FROM answers a
                                WHERE a.survey_id = s.id AND NOT a.late AND a.raw <> ''))),
                count(*) FILTER (WHERE c.ended_at >= $2 AND c.customer_phone = '')
           FROM calls c JOIN surveys s ON s.call_id = c.call_id
          WHERE c.ended_at >= $1 AND c.ended_at < $2 + interval '1 day'",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let inbound_left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inbound_messages WHERE received_at >= $1 AND received_at < $2
            AND body <> ''",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    ensure!(calls > 0, "an empty slice");
    ensure!(
        left == 0,
        "{left} calls of the slice still hold personal data"
    );
    ensure!(
        inbound_left == 0,
        "{inbound_left} inbound SMS of the slice not erased"
    );
    ensure!(
        later_erased == 0,
        "{later_erased} calls after the slice erased"
    );
    Ok(calls)
}

/// The next-batch query of the calls, as planned on this history: it must walk the index
/// on `calls.ended_at` from the cursor for one batch, not read the whole range due.
async fn explain(pool: &PgPool, start: DateTime<Utc>) -> anyhow::Result<()> {
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (COSTS OFF)
         WITH edge AS (
            SELECT max(ended_at) AS at FROM (
                SELECT ended_at FROM calls WHERE ended_at > $1 AND ended_at < $2
                 ORDER BY ended_at LIMIT 1000) first)
         SELECT c.call_id, c.ended_at, s.id FROM calls c
           LEFT JOIN LATERAL (SELECT id, state FROM surveys WHERE call_id = c.call_id LIMIT 1) s
             ON true
          WHERE c.ended_at > $1 AND c.ended_at <= (SELECT at FROM edge)",
    )
    .bind(start + Duration::days(30))
    .bind(start + Duration::days(180))
    .fetch_all(pool)
    .await?;
    eprintln!("retention: next batch of calls:\n  {}", plan.join("\n  "));
    ensure!(
        plan.iter().any(|l| l.contains("calls_ended_at_idx"))
            && !plan.iter().any(|l| l.contains("Seq Scan")),
        "the next batch does not walk calls_ended_at_idx, or scans a table"
    );
    Ok(())
}

/// `calls` calls ending evenly from `start` over the history, with their rows, in time order
/// (so identity keys follow time as in production), then vacuumed and analysed.
async fn seed(pool: &PgPool, calls: i64, start: DateTime<Utc>) -> anyhow::Result<()> {
    let step = (HISTORY_DAYS * 86_400) as f64 / calls as f64;
    let statements = [
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                            ended_at, disposition, talk_seconds, wait_seconds, decision, event)
         SELECT 'r-' || g, p, 'agent-' || g % 200, 'q' || g % 8, t - interval '5 minutes',
                t - interval '4 minutes', t, 'completed', 240, 20, 'scheduled',
                jsonb_build_object('call_id', 'r-' || g, 'customer_phone', p, 'crm_note', 'VIP')
           FROM generate_series(1, $1) g,
                LATERAL (SELECT $2::timestamptz + g * $3 * interval '1 second' AS t,
                                '+86138' || lpad(g::text, 8, '0') AS p) x",
        "INSERT INTO surveys (call_id, customer_phone, language, timezone, state, send_at,
                              sent_at, created_at, updated_at, closed_at)
         SELECT call_id, customer_phone, 'zh-CN', 'Asia/Shanghai', 'completed', ended_at,
                ended_at, ended_at, ended_at, ended_at
           FROM calls ORDER BY ended_at",
        "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                               segments, status, created_at, updated_at, sent_at)
         SELECT gen_random_uuid(), id, 'question', 'satisfaction', customer_phone,
                '您好，请为本次服务打分，回复1-5', 'ucs2', 1, 'delivered', sent_at, sent_at, sent_at
           FROM surveys ORDER BY id",
        "INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body,
                                       received_at, survey_id, outcome)
         SELECT 'console', 'in-' || id, customer_phone, '+8610690000', '4 等了很久', sent_at,
                id, 'answer'
           FROM surveys ORDER BY id",
        "INSERT INTO answers (survey_id, question_id, value, raw, received_at)
         SELECT id, q, v, r, sent_at
           FROM surveys, LATERAL (VALUES ('satisfaction', '4'::jsonb, '4'),
                                         ('comment', '\"等了很久\"'::jsonb, '等了很久')) a(q, v, r)
          ORDER BY id",
        "INSERT INTO outbox (id, routing_key, payload, created_at, published_at)
         SELECT gen_random_uuid(), 'survey.completed',
                jsonb_build_object('call_id', call_id, 'customer_phone', customer_phone),
                sent_at, sent_at
           FROM surveys ORDER BY id",
    ];
    for (n, sql) in statements.iter().enumerate() {
        let query = sqlx::query(sql);
        let query = if n == 0 {
            query.bind(calls).bind(start).bind(step)
        } else {
            query
        };
        query
            .execute(pool)
            .await
            .with_context(|| format!("seeding, statement {n}"))?;
    }
    pool.execute("TRUNCATE score_changes").await?;
    pool.execute("VACUUM (ANALYZE)").await?;
    Ok(())
}
