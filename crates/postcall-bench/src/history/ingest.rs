//! Ingest against a database that may hold history: the ingest stage's events (distinct
//! call ids and `+86139…` phones, each scheduled) published first, then the real worker
//! (ingest only) timed from its first commit to the last of them, counted by phone range so
//! that polling reads only the run's rows, never the history: on `surveys`, whose phone
//! index serves the range (`calls` has none, and a poll of it scanned the 10 M calls every
//! 50 ms on two cores of parallel workers). Every event is scheduled, so each call recorded
//! is a survey recorded, in the same statement.

use std::time::Duration;

use anyhow::{Context, ensure};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::side::{Db, run_phones};
use crate::{
    ingest::{events, worker::ONLY_INGEST},
    proc_stats::{Rate, Window},
    services::amqp_connect,
};

const POLL: Duration = Duration::from_millis(50);
const LIMIT: Duration = Duration::from_secs(300);

pub async fn run(db: &Db, n: usize) -> anyhow::Result<Rate> {
    let settings = db.names.settings(ONLY_INGEST)?;
    let publisher = amqp_connect("postcall-bench-history").await?;
    let channel = publisher.create_channel().await?;
    postcall::amqp::declare_topology(&channel, &settings.amqp).await?;
    let bodies = events::Events::new().bodies(n);
    events::publish(&channel, &db.names.exchange, n, |i| bodies[i].clone()).await?;
    let _ = publisher.close(200, "bench done".into()).await;

    let shutdown = CancellationToken::new();
    let started = Window::start();
    let worker = postcall::app::start(settings, shutdown.clone())
        .await
        .context("starting postcall (ingest only)")?;
    let timed = tokio::time::timeout(LIMIT, time(&db.pool, n, started)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), worker.wait())
        .await
        .context("the worker did not stop within 15 s")??;
    let rate =
        timed.with_context(|| format!("fewer than {n} calls recorded after {LIMIT:?}"))??;
    let scheduled = count(
        &db.pool,
        &format!(
            "SELECT count(*) FROM surveys WHERE state = 'scheduled' AND {}",
            run_phones("customer_phone")
        ),
    )
    .await?;
    ensure!(
        scheduled == n,
        "{scheduled} surveys scheduled for {n} events"
    );
    Ok(rate)
}

/// From the first poll that sees the run's rows to the one that sees all of them (from the
/// worker's start when one batch held them all: `--quick`).
async fn time(pool: &PgPool, n: usize, started: Window) -> anyhow::Result<Rate> {
    let sql = format!(
        "SELECT count(*) FROM surveys WHERE {}",
        run_phones("customer_phone")
    );
    let (window, first) = loop {
        let rows = count(pool, &sql).await?;
        if rows > 0 {
            break (Window::start(), rows);
        }
        tokio::time::sleep(POLL).await;
    };
    if first >= n {
        return Ok(started.finish(n));
    }
    loop {
        let rows = count(pool, &sql).await?;
        ensure!(rows <= n, "{rows} calls recorded for {n} events");
        if rows == n {
            return Ok(window.finish(n - first));
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn count(pool: &PgPool, sql: &str) -> anyhow::Result<usize> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(n.try_into()?)
}
