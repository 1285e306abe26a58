//! The real dispatcher (`postcall::app::start`, dispatch only) draining a backlog of due
//! surveys into the provider, timed from the provider's first request to the last outcome
//! recorded; then checked: every survey open, every message sent once and recorded.

use std::time::{Duration, Instant};

use anyhow::Context;
use postcall::config::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    backlog::{self, Counters, Work},
    provider::Server,
};
use crate::{
    proc_stats::{Rate, Window},
    services::Names,
};

pub struct Drained {
    pub rate: Rate,
    /// Cores used by the backends of the bench's database: the dispatcher's PostgreSQL work.
    pub own_pg_cores: f64,
    pub db: Work,
    /// Arrival of each request at the provider, in order.
    pub arrivals: Vec<Instant>,
}

/// One drain of `n` due surveys with the dispatcher configured by `overrides` (on top of
/// the stage's own), in a database of its own.
pub async fn run(n: usize, overrides: &[(&str, &str)]) -> anyhow::Result<Drained> {
    let names = Names::new("dispatch");
    let result = measure(&names, n, overrides).await;
    names.clean_up().await;
    result
}

async fn measure(names: &Names, n: usize, overrides: &[(&str, &str)]) -> anyhow::Result<Drained> {
    let server = Server::start(n).await?;
    let settings = super::settings(names, &server.url, overrides)?;
    backlog::prepare(&settings, n).await?;
    let before = Counters::read(&names.database).await?;
    // Generous: a regression to the old ~1.7k/s must still finish and be measured.
    let limit = Duration::from_secs(120).max(Duration::from_secs_f64(n as f64 / 300.0));

    let shutdown = CancellationToken::new();
    let running = postcall::app::start(settings.clone(), shutdown.clone())
        .await
        .context("starting postcall (dispatch only)")?;
    let measured = async {
        server.first(Duration::from_secs(60)).await?;
        let window = Window::start();
        let backends = backlog::backend_ticks(&names.database).await?;
        server.all(limit).await?;
        let pool = PgPool::connect(settings.database.url.expose_secret()).await?;
        let checked = async {
            backlog::recorded(&pool, n, Duration::from_secs(30)).await?;
            let after = backlog::backend_ticks(&names.database).await?;
            let rate = window.finish(n);
            let own_pg_cores = backlog::backend_cores(&backends, &after, rate.elapsed);
            backlog::verify(&pool, n, &server.sink).await?;
            anyhow::Ok((rate, own_pg_cores))
        }
        .await;
        pool.close().await;
        checked
    }
    .await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .context("the dispatcher did not stop within 30 s")??;
    let (rate, own_pg_cores) = measured?;
    // Checked after the dispatcher stopped: a late resend would show here.
    server.sink.check()?;
    let after = Counters::read(&names.database).await?;
    Ok(Drained {
        rate,
        own_pg_cores,
        db: before.per_sms(after, n),
        arrivals: server.sink.arrivals(),
    })
}
