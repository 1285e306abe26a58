//! The `webhook` stage: a customer's signed reply through the real HTTP app — verify the
//! signature, advance the conversation, commit, the next question queued — against an axum
//! route that only parses the same form and inserts one row.
//!
//! The route is Twilio's inbound callback (`POST /webhooks/twilio/inbound`): it is the
//! form-encoded one, so "parses the form" means the same work on both sides (the generic
//! provider's callback is JSON). Each reply answers question 1 of a survey of its own, so
//! every request advances a distinct conversation, as a burst of replies at 10:00 does.
//!
//! Measured: (a) closed-loop throughput at a fixed concurrency, postcall and baseline
//! interleaved run by run → rate, baseline, ratio; (b) open loop at 1,000 req/s for 10 s
//! against postcall (and the baseline, for context), latency from each request's scheduled
//! time → p99, p50. Afterwards the database must show exactly one recorded, answered reply
//! per request and one queued next question each, and a forged and a replayed request must
//! change nothing.

mod backends;
mod baseline;
pub(crate) mod load;
pub(crate) mod replies;
mod seed;
mod verify;

use std::time::Duration;

use anyhow::{Context, ensure};
use tokio_util::sync::CancellationToken;

use self::{
    load::Target,
    replies::{PATH, Signed},
};
use crate::{
    Args,
    report::Line,
    services::{self, Names},
    stats,
};

struct Plan {
    runs: usize,
    per_run: usize,
    warm_up: usize,
    concurrency: usize,
    open_rate: f64,
    open_requests: usize,
}

impl Plan {
    fn new(args: &Args) -> Self {
        let open_rate = if args.quick { 100.0 } else { 1000.0 };
        let open_seconds = if args.quick { 0.5 } else { 10.0 };
        Self {
            runs: args.runs(),
            per_run: args.size(4000, 20),
            warm_up: if args.quick { 5 } else { 300 },
            concurrency: std::env::var("BENCH_WEBHOOK_CONCURRENCY")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(32),
            open_rate,
            open_requests: (open_rate * open_seconds) as usize,
        }
    }

    /// Replies sent to each side in all; one more survey is seeded for the forgery check.
    fn replies(&self) -> usize {
        self.warm_up + self.runs * self.per_run + self.open_requests
    }
}

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let plan = Plan::new(args);
    let ours = Names::new("webhook");
    let base = Names::new("webhook_base");
    let result = measure(&plan, &ours, &base).await;
    services::drop_database(&ours.database).await;
    services::drop_database(&base.database).await;
    result
}

async fn measure(plan: &Plan, ours: &Names, base: &Names) -> anyhow::Result<Line> {
    let settings = ours.settings(&[
        ("POSTCALL__INGEST__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__HTTP__ENABLED", "true"),
        ("POSTCALL__HTTP__PUBLIC_URL", replies::PUBLIC_URL),
        ("POSTCALL__PROVIDER__KIND", "twilio"),
        // Never called: dispatch is off; the next question only has to be queued.
        ("POSTCALL__PROVIDER__TWILIO__BASE_URL", "http://127.0.0.1:9"),
        ("POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID", "ACbench"),
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", replies::TOKEN),
        ("POSTCALL__PROVIDER__TWILIO__FROM", replies::OUR_NUMBER),
    ])?;
    let pool_size = settings.database.max_connections;
    let shutdown = CancellationToken::new();
    let running = postcall::app::start(settings, shutdown.clone())
        .await
        .context("starting postcall (HTTP only)")?;
    let addr = running.http_addr.context("the HTTP role is on")?;
    let seeded = plan.replies() + 1;
    let seeding = std::time::Instant::now();
    seed::surveys(&running.pool, seeded).await?;
    experiments(&running.pool).await?;
    eprintln!(
        "webhook: {seeded} open surveys seeded in {:.1}s; pool {pool_size}, concurrency {}",
        seeding.elapsed().as_secs_f64(),
        plan.concurrency
    );

    services::create_database(&base.database).await?;
    let base_settings = base.settings(&[])?;
    let base_pool = postcall::store::db::connect(&base_settings.database).await?;
    baseline::create_table(&base_pool).await?;
    let base_addr = baseline::serve(base_pool.clone(), shutdown.clone()).await?;

    let postcall = Target::new(addr, PATH)?;
    let plain = Target::new(base_addr, PATH)?;
    let measured = drive(plan, (&postcall, &running.pool), (&plain, &base_pool)).await;
    let checked = match &measured {
        Ok(_) => check(plan, &running.pool, &base_pool, &postcall).await,
        Err(_) => Ok(()),
    };
    shutdown.cancel();
    running.wait().await?;
    base_pool.close().await;
    let line = measured?;
    checked?;
    Ok(line)
}

/// Knobs for trying what a cost is, by environment variable; none is set in a normal run.
async fn experiments(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    if std::env::var_os("BENCH_WEBHOOK_NO_NOTIFY").is_some() {
        eprintln!("webhook: experiment: the dispatcher's pg_notify trigger on messages disabled");
        sqlx::query("ALTER TABLE messages DISABLE TRIGGER messages_notify")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Every reply, in the order it is sent: warm-up, each closed-loop run, the open loop.
fn batches(plan: &Plan) -> (Vec<Signed>, Vec<Vec<Signed>>, Vec<Signed>) {
    let mut n = 0;
    let mut take = |count: usize| -> Vec<Signed> {
        (0..count)
            .map(|_| {
                n += 1;
                replies::reply(n, &replies::sid(n), "1")
            })
            .collect()
    };
    let warm_up = take(plan.warm_up);
    let runs = (0..plan.runs).map(|_| take(plan.per_run)).collect();
    let open = take(plan.open_requests);
    (warm_up, runs, open)
}

/// A closed-loop run, with the database's own backends' CPU per request in milliseconds.
async fn closed(
    (target, pids): (&Target, &[String]),
    requests: Vec<Signed>,
    concurrency: usize,
) -> anyhow::Result<(crate::proc_stats::Rate, f64)> {
    let n = requests.len();
    let before = backends::cpu_seconds(pids);
    let rate = load::closed(target, requests, concurrency).await?;
    let db_ms = (backends::cpu_seconds(pids) - before) * 1000.0 / n as f64;
    Ok((rate, db_ms))
}

async fn drive(
    plan: &Plan,
    (postcall, pool): (&Target, &sqlx::PgPool),
    (plain, base_pool): (&Target, &sqlx::PgPool),
) -> anyhow::Result<Line> {
    let (warm_up, runs, open) = batches(plan);
    load::closed(postcall, warm_up.clone(), plan.concurrency).await?;
    load::closed(plain, warm_up, plan.concurrency).await?;
    let ours_pids = backends::pids(pool).await?;
    let base_pids = backends::pids(base_pool).await?;
    let ours_side = (postcall, ours_pids.as_slice());
    let base_side = (plain, base_pids.as_slice());
    let (mut ours_db, mut base_db) = (Vec::new(), Vec::new());

    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for (i, requests) in runs.into_iter().enumerate() {
        // Alternate who goes first, so a drift in the machine's load favours neither.
        let ((a, a_db), (b, b_db)) = if i % 2 == 0 {
            let a = closed(ours_side, requests.clone(), plan.concurrency).await?;
            (a, closed(base_side, requests, plan.concurrency).await?)
        } else {
            let b = closed(base_side, requests.clone(), plan.concurrency).await?;
            (closed(ours_side, requests, plan.concurrency).await?, b)
        };
        eprintln!(
            "webhook run {}: postcall {:.0}/s (its PostgreSQL backends {a_db:.2} ms CPU per reply; {}), \
             baseline {:.0}/s ({b_db:.2} ms; {}), ratio {:.2}",
            i + 1,
            a.per_second,
            a.cpu,
            b.per_second,
            b.cpu,
            a.per_second / b.per_second
        );
        ours_db.push(a_db);
        base_db.push(b_db);
        ours.push(a.per_second);
        base.push(b.per_second);
    }

    let latency = load::open(postcall, open.clone(), plan.open_rate).await?;
    let base_latency = load::open(plain, open, plan.open_rate).await?;
    let errors = (latency.failed.len(), base_latency.failed.len());
    if errors != (0, 0) {
        eprintln!(
            "webhook open loop: {} postcall and {} baseline requests failed; sent again",
            errors.0, errors.1
        );
    }
    load::closed(postcall, latency.failed.clone(), plan.concurrency).await?;
    load::closed(plain, base_latency.failed.clone(), plan.concurrency).await?;
    let p = |l: &load::Latencies, q: f64| stats::quantile(&l.ms, q);
    eprintln!(
        "webhook open loop {:.0} req/s × {}: postcall p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         baseline p50 {:.1} ms, p99 {:.1} ms; sender lag at worst {:.1} ms",
        plan.open_rate,
        latency.ms.len(),
        p(&latency, 0.5),
        p(&latency, 0.99),
        p(&latency, 1.0),
        p(&base_latency, 0.5),
        p(&base_latency, 0.99),
        latency.max_send_lag_ms.max(base_latency.max_send_lag_ms)
    );
    eprintln!(
        "webhook closed loop: postcall {}/s, baseline {}/s",
        stats::describe(&ours, 0),
        stats::describe(&base, 0)
    );
    let (lo, hi) = stats::min_max(
        &ours
            .iter()
            .zip(&base)
            .map(|(a, b)| a / b)
            .collect::<Vec<_>>(),
    );
    Ok(Line {
        rate: Some(stats::median(&ours)),
        baseline: Some(stats::median(&base)),
        ratio: Some(stats::ratio(&ours, &base)),
        p99_ms: Some(p(&latency, 0.99)),
        ..Line::new("webhook")
    }
    .with("p50", format!("{:.1}ms", p(&latency, 0.5)))
    .with("baseline_p99", format!("{:.1}ms", p(&base_latency, 0.99)))
    .with("errors", errors.0)
    .with(
        "db_cpu_per_reply",
        format!("{:.2}ms", stats::median(&ours_db)),
    )
    .with(
        "baseline_db_cpu",
        format!("{:.2}ms", stats::median(&base_db)),
    )
    .with("ratio_spread", format!("{lo:.2}-{hi:.2}"))
    .with("concurrency", plan.concurrency)
    .with("open_rate", format!("{:.0}/s", plan.open_rate))
    .with("runs", plan.runs))
}

/// The guarantees, after the clock: forged and replayed requests change nothing, and the
/// database holds exactly what the replies should have made of it.
async fn check(
    plan: &Plan,
    pool: &sqlx::PgPool,
    base_pool: &sqlx::PgPool,
    postcall: &Target,
) -> anyhow::Result<()> {
    let replied = plan.replies();
    let before = verify::fingerprint(pool).await?;
    let untouched = replied + 1;
    let forged = replies::forged(untouched, &replies::sid(untouched), "1");
    let status = postcall.send(&forged).await?;
    ensure!(status == 403, "a forged reply answered {status}, not 403");
    let replay = replies::reply(1, &replies::sid(1), "1");
    let status = postcall.send(&replay).await?;
    ensure!(status == 200, "a replayed reply answered {status}, not 200");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = verify::fingerprint(pool).await?;
    ensure!(
        before == after,
        "a forged or replayed reply changed something: {before} → {after}"
    );
    verify::conversations(pool, replied + 1, replied).await?;
    let rows = baseline::rows(base_pool).await?;
    ensure!(
        rows == replied as i64,
        "the baseline stored {rows} rows, not {replied}"
    );
    eprintln!(
        "webhook: checked — {replied} replies recorded once, surveys advanced, next questions queued; forged 403 and replay changed nothing"
    );
    Ok(())
}
