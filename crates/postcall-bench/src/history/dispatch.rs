//! Dispatch against a database that may hold history: N calls with a survey each, due a
//! second ago (as the dispatch stage's backlog, under the run's phones and call ids), sent by
//! the real dispatcher (dispatch only, rate limits out of the way) to the dispatch stage's
//! provider double, timed from its first request until every survey is recorded open; the
//! provider must have seen each message exactly once.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::side::{Db, phone_sql, run_phones};
use crate::{
    dispatch::{provider::Server, settings},
    proc_stats::{Rate, Window},
};

pub async fn run(db: &Db, n: usize) -> anyhow::Result<Rate> {
    backlog(&db.pool, n).await?;
    let server = Server::start(n).await?;
    let settings = settings(&db.names, &server.url, &[])?;
    let limit = Duration::from_secs(120).max(Duration::from_secs_f64(n as f64 / 300.0));
    let shutdown = CancellationToken::new();
    let running = postcall::app::start(settings, shutdown.clone())
        .await
        .context("starting postcall (dispatch only)")?;
    let measured = async {
        server.first(Duration::from_secs(60)).await?;
        let window = Window::start();
        server.all(limit).await?;
        opened(&db.pool, n, Duration::from_secs(30)).await?;
        anyhow::Ok(window.finish(n))
    }
    .await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .context("the dispatcher did not stop within 30 s")??;
    let rate = measured?;
    // After the dispatcher stopped: a late resend would show here.
    server.sink.check()?;
    Ok(rate)
}

/// The backlog, analyzed as autovacuum would have by then.
async fn backlog(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    let run = Uuid::new_v4().simple().to_string();
    let phone = phone_sql("i");
    let calls = format!(
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                            ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                            decision, event)
         SELECT 'dispatch-' || $2 || '-' || i, {phone}, 'agent-' || (i % 7), 'payment',
                now() - interval '10 minutes', now() - interval '9 minutes',
                now() - interval '5 minutes', 'completed', 'Asia/Shanghai', 60, 240,
                'scheduled', '{{}}'::jsonb
           FROM generate_series(1, $1) AS i"
    );
    let surveys = format!(
        "INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
         SELECT 'dispatch-' || $2 || '-' || i, {phone}, 'zh-CN', 'Asia/Shanghai',
                now() - interval '1 second'
           FROM generate_series(1, $1) AS i"
    );
    for sql in [calls, surveys] {
        sqlx::query(&sql)
            .bind(i64::try_from(n)?)
            .bind(&run)
            .execute(pool)
            .await
            .context("inserting the backlog")?;
    }
    sqlx::query("ANALYZE calls, surveys").execute(pool).await?;
    Ok(())
}

/// Waits until all `n` of the run's surveys are open: their first SMS accepted and recorded.
async fn opened(pool: &PgPool, n: usize, limit: Duration) -> anyhow::Result<()> {
    let sql = format!(
        "SELECT count(*) FROM surveys WHERE state = 'open' AND {}",
        run_phones("customer_phone")
    );
    let deadline = Instant::now() + limit;
    loop {
        let open: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await?;
        if usize::try_from(open)? >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {open} of {n} surveys open {limit:?} after the last send");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
