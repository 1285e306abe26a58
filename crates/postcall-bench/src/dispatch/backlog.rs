//! The backlog a dispatcher drains: N calls with a survey each, due a second ago, as ingest
//! would have scheduled them; and the checks that every one was sent once and recorded.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use postcall::{config::Settings, store::db};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

use super::provider::Sink;
use crate::services;

/// Creates and migrates the database through postcall and inserts the backlog. Its tables
/// are analyzed, as autovacuum would have by then; `messages` is not: analyzed while empty,
/// it would tell the planner it stays empty, which autovacuum never does.
pub async fn prepare(settings: &Settings, n: usize) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    let n = i64::try_from(n)?;
    sqlx::query(
        r#"
        INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                           ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                           decision, event)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'agent-' || (i % 7), 'payment',
               now() - interval '10 minutes', now() - interval '9 minutes', now() - interval '5 minutes',
               'completed', 'Asia/Shanghai', 60, 240, 'scheduled', '{}'::jsonb
          FROM generate_series(1, $1) AS i
        "#,
    )
    .bind(n)
    .execute(&pool)
    .await?;
    sqlx::query(
        r#"
        INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'zh-CN', 'Asia/Shanghai',
               now() - interval '1 second'
          FROM generate_series(1, $1) AS i
        "#,
    )
    .bind(n)
    .execute(&pool)
    .await?;
    pool.execute("ANALYZE calls, surveys").await?;
    // Closed, not kept: its backend flushes its statistics as it exits, so the counters
    // read next do not count the backlog's inserts as the dispatcher's work.
    pool.close().await;
    Ok(())
}

/// Waits until every survey is open: its first SMS accepted and recorded. Returns when
/// that was seen (polled every 10 ms, so at most that late).
pub async fn recorded(pool: &PgPool, n: usize, limit: Duration) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM surveys WHERE state = 'open'")
            .fetch_one(pool)
            .await?;
        if usize::try_from(open)? >= n {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("only {open} of {n} surveys open {limit:?} after the last send");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every survey open, one message each, queued after one attempt with the provider's id,
/// and each of them seen by the provider.
pub async fn verify(pool: &PgPool, n: usize, sink: &Sink) -> anyhow::Result<()> {
    let (open, surveys): (i64, i64) =
        sqlx::query_as("SELECT count(*) FILTER (WHERE state = 'open'), count(*) FROM surveys")
            .fetch_one(pool)
            .await?;
    let (queued, once, total): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'queued' AND provider_message_id IS NOT NULL),
                count(*) FILTER (WHERE attempts = 1), count(*)
           FROM messages",
    )
    .fetch_one(pool)
    .await?;
    let n64 = i64::try_from(n)?;
    if (open, surveys, queued, once, total) != (n64, n64, n64, n64, n64) {
        bail!(
            "expected {n} open surveys and {n} queued messages, one attempt each; got {open} of \
             {surveys} surveys open, {queued} of {total} messages queued, {once} with one attempt"
        );
    }
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM messages")
        .fetch_all(pool)
        .await?;
    let missing = ids.iter().filter(|id| !sink.saw(&id.to_string())).count();
    if missing > 0 {
        bail!("{missing} messages recorded as sent never reached the provider");
    }
    Ok(())
}

/// What PostgreSQL did for the database: commits, rows written (and how many of the
/// updates were HOT: no index touched), and (cluster-wide) WAL bytes and fsyncs.
#[derive(Clone, Copy, Default)]
pub struct Counters {
    commits: i64,
    row_writes: i64,
    hot_updates: i64,
    wal_bytes: f64,
    wal_syncs: i64,
}

/// Per SMS: commits, rows inserted, updated or deleted, HOT updates, WAL KiB, WAL fsyncs.
#[derive(Clone, Copy, Default, Debug)]
pub struct Work {
    pub commits: f64,
    pub row_writes: f64,
    pub hot_updates: f64,
    pub wal_kib: f64,
    pub fsyncs: f64,
}

impl Counters {
    /// Read with every connection to the database closed: backends publish their counters
    /// as they exit.
    pub async fn read(database: &str) -> anyhow::Result<Self> {
        let mut conn = services::admin().await?;
        for _ in 0..200 {
            let backends: i32 =
                sqlx::query_scalar("SELECT numbackends FROM pg_stat_database WHERE datname = $1")
                    .bind(database)
                    .fetch_one(&mut conn)
                    .await?;
            if backends == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (commits, wal_bytes, wal_syncs): (i64, f64, i64) = sqlx::query_as(
            "SELECT d.xact_commit, w.wal_bytes::float8, w.wal_sync
               FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1",
        )
        .bind(database)
        .fetch_one(&mut conn)
        .await
        .context("reading pg_stat_database")?;
        // Table counters are the database's own: read from inside it, then closed, so the
        // next reading again finds no backend.
        let mut own = PgConnection::connect(&format!("{}/{database}", services::PG_SERVER)).await?;
        let (row_writes, hot_updates): (i64, i64) = sqlx::query_as(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int8,
                    coalesce(sum(n_tup_hot_upd), 0)::int8
               FROM pg_stat_user_tables",
        )
        .fetch_one(&mut own)
        .await
        .context("reading pg_stat_user_tables")?;
        own.close().await?;
        Ok(Self {
            commits,
            row_writes,
            hot_updates,
            wal_bytes,
            wal_syncs,
        })
    }

    pub fn per_sms(self, after: Self, n: usize) -> Work {
        let n = n as f64;
        Work {
            commits: (after.commits - self.commits) as f64 / n,
            row_writes: (after.row_writes - self.row_writes) as f64 / n,
            hot_updates: (after.hot_updates - self.hot_updates) as f64 / n,
            wal_kib: (after.wal_bytes - self.wal_bytes) / 1024.0 / n,
            fsyncs: (after.wal_syncs - self.wal_syncs) as f64 / n,
        }
    }
}

/// CPU ticks of the backends connected to `database`, by pid: the dispatcher's own share of
/// PostgreSQL, without other tenants' work on the shared server.
pub async fn backend_ticks(database: &str) -> anyhow::Result<HashMap<i32, u64>> {
    let mut conn = services::admin().await?;
    let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
        .bind(database)
        .fetch_all(&mut conn)
        .await?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| Some((pid, crate::proc_stats::process_ticks(&pid.to_string())?)))
        .collect())
}

/// Cores the backends used between two readings (a backend new in `to` counts whole).
pub fn backend_cores(from: &HashMap<i32, u64>, to: &HashMap<i32, u64>, window: Duration) -> f64 {
    let ticks: u64 = to
        .iter()
        .map(|(pid, t)| t.saturating_sub(from.get(pid).copied().unwrap_or(0)))
        .sum();
    ticks as f64 / 100.0 / window.as_secs_f64()
}
