//! The real worker (`postcall::app::start`, only the ingest role on) draining a backlog
//! published before it starts, into a fresh database.

use std::time::Duration;

use anyhow::Context;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::{check, events};
use crate::{
    proc_stats::{Rate, Window},
    services::{Names, amqp_connect, create_database},
};

const POLL: Duration = Duration::from_millis(20);

/// Only ingest: the other roles would share the 2 cores and the pool.
pub const ONLY_INGEST: &[(&str, &str)] = &[
    ("POSTCALL__DISPATCH__ENABLED", "false"),
    ("POSTCALL__HTTP__ENABLED", "false"),
    ("POSTCALL__AGGREGATION__ENABLED", "false"),
];

/// Where the clock starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// At the first poll that sees committed rows: steady state against a full queue,
    /// startup (connect, migrate, declare, fill the prefetch window) left out.
    FirstCommit,
    /// When the worker is started: how long an operator waits for a backlog to drain.
    WorkerStart,
}

/// Publishes `n` events made by `body(i)`, then times the worker draining them; checks
/// every one was recorded and scheduled exactly once.
pub async fn run(
    names: &Names,
    n: usize,
    body: impl Fn(usize) -> Vec<u8>,
    clock: Clock,
    timeout: Duration,
) -> anyhow::Result<Rate> {
    create_database(&names.database).await?;
    let settings = names.settings(ONLY_INGEST)?;
    let publisher = amqp_connect("postcall-bench-publisher").await?;
    let channel = publisher.create_channel().await?;
    postcall::amqp::declare_topology(&channel, &settings.amqp).await?;
    let published = events::publish(&channel, &names.exchange, n, body).await?;
    eprintln!("  published {n} events at {published:.0}/s");
    let _ = publisher.close(200, "bench done".into()).await;

    // The poller has its own one-connection pool: it must not queue behind the worker's.
    let poller = PgPoolOptions::new()
        .max_connections(1)
        .connect(&names.database_url())
        .await?;
    let shutdown = CancellationToken::new();
    let started = Window::start();
    let result = async {
        let worker = postcall::app::start(settings, shutdown.clone()).await?;
        let timed = tokio::time::timeout(timeout, time_rows(&poller, n, clock, started)).await;
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), worker.wait())
            .await
            .context("the worker did not stop within 15 s")??;
        let rate =
            timed.with_context(|| format!("fewer than {n} calls recorded after {timeout:?}"))??;
        check::exactly_once(names, &poller, n, Some(n)).await?;
        anyhow::Ok(rate)
    }
    .await;
    shutdown.cancel();
    poller.close().await;
    result
}

async fn time_rows(pool: &PgPool, n: usize, clock: Clock, started: Window) -> anyhow::Result<Rate> {
    let (window, first) = match clock {
        Clock::WorkerStart => (started, 0),
        Clock::FirstCommit => loop {
            let rows = check::count_calls(pool).await?;
            // A backlog of one batch or less (--quick) has no steady state to time.
            if rows >= n {
                eprintln!("  one batch: timed from the worker's start");
                return Ok(started.finish(n));
            }
            if rows > 0 {
                break (Window::start(), rows);
            }
            tokio::time::sleep(POLL).await;
        },
    };
    let mut reported = std::time::Instant::now();
    loop {
        let rows = check::count_calls(pool).await?;
        if rows >= n {
            return Ok(window.finish(n - first));
        }
        if reported.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  {rows} of {n} after {:.0} s",
                window.elapsed().as_secs_f64()
            );
            reported = std::time::Instant::now();
        }
        tokio::time::sleep(next_poll(&window, rows.saturating_sub(first), n - rows)).await;
    }
}

/// Every `count(*)` scans the growing table (tens of ms at 1M rows): polled every 20 ms
/// throughout, that is PostgreSQL CPU taken from the worker under test. So, far from the
/// end, sleep through half the remaining time the rate so far predicts; close to it, poll
/// every 20 ms, which keeps the end as sharp as constant polling would.
fn next_poll(window: &Window, done: usize, remaining: usize) -> Duration {
    if done == 0 {
        return POLL;
    }
    let per_row = window.elapsed().as_secs_f64() / done as f64;
    let predicted = Duration::from_secs_f64(per_row * remaining as f64 / 2.0);
    POLL.max(predicted.min(Duration::from_secs(5)))
}
