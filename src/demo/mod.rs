//! `postcall demo`: an hour of calls through the real worker, in-process, against the local
//! services and the console provider, in a database and broker names of its own. Customers
//! reply as people do; the demo aggregates, prints the scores, checks them against its own
//! count of what the customers said, and removes what it made.

mod calls;
mod check;
mod customers;
mod guide;
mod namespace;
mod play;
mod progress;
mod publish;
mod report;
mod results;
mod stages;
mod store;

pub use namespace::check as check_namespace;

use std::{collections::HashMap, future::Future, io::IsTerminal, net::SocketAddr, time::Duration};

use anyhow::{Context, anyhow, bail};
use chrono::Utc;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::{namespace::Namespace, progress::Progress};
use crate::{
    app, config,
    config::{ExposeSecret, Settings},
};

/// The command line's choices.
#[derive(Debug, Clone)]
pub struct Options {
    pub calls: usize,
    pub seed: u64,
    pub keep: bool,
    pub namespace: String,
}

/// A stage that has not moved for this long has stalled.
const STALL: Duration = Duration::from_secs(20);
const MAX_CALLS: usize = 20_000;

/// The console provider logs every SMS at info, which would drown the progress bar: the
/// demo logs warnings only, unless `RUST_LOG` or `log.filter` says otherwise.
pub fn quiet_logs(log: &mut config::Log) {
    if std::env::var_os("RUST_LOG").is_some() {
        return;
    }
    let default = Settings::load_from(None, Some(HashMap::new())).map(|s| s.log.filter);
    if default.is_ok_and(|d| d == log.filter) {
        log.filter = "warn".into();
    }
}

pub async fn run(user: Settings, options: Options) -> anyhow::Result<()> {
    if !(1..=MAX_CALLS).contains(&options.calls) {
        bail!("--calls must be between 1 and {MAX_CALLS}");
    }
    let namespace = Namespace::parse(&options.namespace)?;
    let mut settings = namespace::settings(&user, &namespace)?;
    let wanted = settings.http_bind()?;
    let (bind, moved) = namespace::free_bind(wanted);
    settings.http.bind = bind.to_string();
    let taken = moved.then_some(wanted);
    guide::introduce(&settings, &options);

    bounded(namespace::recreate_database(
        settings.database.url.expose_secret(),
    ))
    .await
    .context("setting up the demo database (is PostgreSQL running?)")?;
    let interrupted = CancellationToken::new();
    app::cancel_on_signal(interrupted.clone());
    let outcome = with_broker_names(&settings, &options, taken, &interrupted).await;
    let cleaned = finish_database(settings.database.url.expose_secret(), options.keep).await;
    also(outcome, cleaned)
}

/// `work`, failing if it takes longer than a stage may stall: a server that accepts the
/// connection and then says nothing must not hang the demo.
async fn bounded<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::time::timeout(STALL, work)
        .await
        .map_err(|_| anyhow!("no answer within {} s", STALL.as_secs()))?
}

/// The first error, with the second one printed rather than lost.
fn also(first: anyhow::Result<()>, second: anyhow::Result<()>) -> anyhow::Result<()> {
    match (first, second) {
        (Err(e), Err(cleaning)) => {
            eprintln!("postcall: cleaning up: {cleaning:#}");
            Err(e)
        }
        (first, second) => first.and(second),
    }
}

/// The demo between declaring its exchanges and queues and deleting them.
async fn with_broker_names(
    settings: &Settings,
    options: &Options,
    taken: Option<SocketAddr>,
    interrupted: &CancellationToken,
) -> anyhow::Result<()> {
    bounded(namespace::declare_broker_names(&settings.amqp))
        .await
        .context("setting up the demo's queues (is RabbitMQ running?)")?;
    let outcome = demo(settings, options, taken, interrupted).await;
    let deleted = bounded(namespace::delete_broker_names(&settings.amqp))
        .await
        .context("deleting the demo's exchanges and queues");
    if deleted.is_ok() {
        println!(
            "Removed the demo's exchanges and queues ({}, {}, …).",
            settings.amqp.exchange, settings.amqp.queue
        );
    }
    also(outcome, deleted)
}

/// Starts the worker, walks through the stages, and stops the worker again — after
/// Ctrl-C when a person is watching, so the dashboard can be opened meanwhile.
async fn demo(
    settings: &Settings,
    options: &Options,
    taken: Option<SocketAddr>,
    interrupted: &CancellationToken,
) -> anyhow::Result<()> {
    let roles = interrupted.child_token();
    let running = bounded(app::start(settings.clone(), roles.clone()))
        .await
        .context("starting the worker")?;
    let addr = running.http_addr.map(reachable);
    let pool = running.pool.clone();
    let mut worker: JoinHandle<anyhow::Result<()>> = tokio::spawn(running.wait());
    if let Some(addr) = addr {
        if let Some(taken) = taken {
            println!("  {taken} is taken (a worker already running?): serving on {addr} instead");
        } else {
            println!("  serving http://{addr}");
        }
    }
    let walked = tokio::select! {
        r = walk(settings, options, &pool, addr) => r,
        r = &mut worker => Err(anyhow!("the worker stopped during the demo: {}", ended(r))),
        _ = interrupted.cancelled() => Err(anyhow!("interrupted")),
    };
    if walked.is_ok() && interactive() {
        println!();
        println!("The worker keeps serving until you press Ctrl-C; then the demo cleans up.");
        tokio::select! {
            _ = interrupted.cancelled() => println!(),
            r = &mut worker => println!("The worker stopped: {}", ended(r)),
        }
    }
    roles.cancel();
    if !worker.is_finished() {
        match tokio::time::timeout(STALL, worker).await {
            Ok(Ok(Ok(()))) => {}
            Ok(r) => tracing::warn!(error = ended(r), "the worker stopped with an error"),
            Err(_) => tracing::warn!("the worker did not stop within {} s", STALL.as_secs()),
        }
    }
    walked
}

/// How the worker's task ended, in words.
fn ended(result: Result<anyhow::Result<()>, tokio::task::JoinError>) -> String {
    match result {
        Ok(Ok(())) => "cleanly".into(),
        Ok(Err(e)) => format!("{e:#}"),
        Err(e) => format!("its task failed: {e}"),
    }
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The address to give a person: a wildcard bind is reached on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => ([127, 0, 0, 1], addr.port()).into(),
        ip if ip.is_unspecified() => (std::net::Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// The stages, each bounded, then the table, the check and what to open next.
async fn walk(
    settings: &Settings,
    options: &Options,
    pool: &PgPool,
    addr: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let calls = calls::generate(options.calls, options.seed, Utc::now());
    let customers = customers::customers(&calls, options.seed);
    let mut progress = Progress::new();
    stages::ingest(settings, pool, &calls, &mut progress).await?;
    let played = stages::play(settings, pool, &customers, &mut progress).await?;
    stages::aggregate(settings, pool, &mut progress).await?;
    progress.clear();

    let zone = settings.runtime()?.scores_zone;
    let first_call = calls.first().map_or(Utc::now(), |c| c.ended_at.to_utc());
    let from = first_call.with_timezone(&zone).date_naive();
    let to = Utc::now().with_timezone(&zone).date_naive();
    let results = results::read(pool, from, to).await?;
    println!();
    println!("{}", report::table(&results));
    println!(
        "{}",
        report::breakdown(&results, &settings.amqp.events_exchange)
    );
    let expected = check::expected(&calls, &customers, 1);
    check(&check::differences(&expected, &results, played.surprises()))?;
    println!(
        "check: scores match the replies played ✓ ({})",
        report::headline(&results.totals)
    );
    guide::print_next(settings, addr, &results, &customers);
    Ok(())
}

/// Fails, listing them, when the worker's figures differ from the demo's own count.
fn check(differences: &[String]) -> anyhow::Result<()> {
    if differences.is_empty() {
        return Ok(());
    }
    println!("check: scores do NOT match the replies played ✗");
    for d in differences {
        println!("  {d}");
    }
    bail!(
        "the worker's figures differ from the replies played in {} ways",
        differences.len()
    )
}

/// Drops the demo database, unless it is to be kept.
async fn finish_database(url: &str, keep: bool) -> anyhow::Result<()> {
    if keep {
        guide::print_kept(url);
        return Ok(());
    }
    bounded(namespace::drop_database(url))
        .await
        .context("dropping the demo database")?;
    println!(
        "Removed database {}{}",
        namespace::database_name(url),
        if interactive() {
            "."
        } else {
            " (not a terminal, so the demo did not wait: run it in one to browse the \
             dashboard, or add --keep)."
        }
    );
    Ok(())
}
