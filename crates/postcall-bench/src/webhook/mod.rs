//! The `webhook` stage: a customer's signed reply through the real HTTP app — verify the
//! signature, advance the conversation, commit, the next question queued — against two
//! baselines in the same process: an axum route that only parses the same form and inserts
//! one row (`baseline.rs`, the ceiling), and the least a reply webhook that must never lose
//! or double an answer does (`durable.rs`: the signature checked, the same rows written into
//! the same tables in one statement, nothing else).
//!
//! The route is Twilio's inbound callback (`POST /webhooks/twilio/inbound`): it is the
//! form-encoded one, so "parses the form" means the same work on both sides (the generic
//! provider's callback is JSON). Each reply answers question 1 of a survey of its own, so
//! every request advances a distinct conversation, as a burst of replies at 10:00 does.
//!
//! Measured: (a) closed-loop throughput at a fixed concurrency, postcall and both baselines
//! interleaved run by run (who goes first rotates) → rate, baseline, ratio, durable,
//! ratio_durable; (b) open loop at 1,000 req/s for 10 s against postcall (and the plain
//! baseline, for context), latency from each request's scheduled time → p99, p50. Afterwards
//! postcall's database, and the durable baseline's for the closed-loop replies it got, must
//! show exactly one recorded, answered reply per request and one queued next question each,
//! and a forged and a replayed request must change nothing on either.

mod backends;
mod baseline;
mod durable;
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
    proc_stats::Rate,
    report::{Line, two_significant},
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
    let names = Sides {
        ours: Names::new("webhook"),
        base: Names::new("webhook_base"),
        durable: Names::new("webhook_durable"),
    };
    let result = measure(&plan, &names).await;
    for n in [&names.ours, &names.base, &names.durable] {
        services::drop_database(&n.database).await;
    }
    result
}

/// Something per side: postcall, the plain baseline, the durable baseline.
struct Sides<T> {
    ours: T,
    base: T,
    durable: T,
}

async fn measure(plan: &Plan, names: &Sides<Names>) -> anyhow::Result<Line> {
    let settings = names.ours.settings(&[
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

    services::create_database(&names.base.database).await?;
    let base_settings = names.base.settings(&[])?;
    let base_pool = postcall::store::db::connect(&base_settings.database).await?;
    baseline::create_table(&base_pool).await?;
    let base_addr = baseline::serve(base_pool.clone(), shutdown.clone()).await?;

    // Shipped defaults, as postcall's: the same pool, and the same survey to write from.
    services::create_database(&names.durable.database).await?;
    let durable_settings = names.durable.settings(&[])?;
    let durable_pool = postcall::store::db::connect(&durable_settings.database).await?;
    durable::prepare(&durable_pool).await?;
    seed::surveys(&durable_pool, seeded).await?;
    experiments(&durable_pool).await?;
    let durable_addr =
        durable::serve(durable_pool.clone(), &durable_settings, shutdown.clone()).await?;

    let targets = Sides {
        ours: Target::new(addr, PATH)?,
        base: Target::new(base_addr, PATH)?,
        durable: Target::new(durable_addr, PATH)?,
    };
    let pools = Sides {
        ours: running.pool.clone(),
        base: base_pool.clone(),
        durable: durable_pool.clone(),
    };
    let measured = drive(plan, &targets, &pools).await;
    let checked = match &measured {
        Ok(_) => check(plan, &pools, &targets).await,
        Err(_) => Ok(()),
    };
    shutdown.cancel();
    running.wait().await?;
    base_pool.close().await;
    durable_pool.close().await;
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
) -> anyhow::Result<(Rate, f64)> {
    let n = requests.len();
    let before = backends::cpu_seconds(pids);
    let rate = load::closed(target, requests, concurrency).await?;
    let db_ms = (backends::cpu_seconds(pids) - before) * 1000.0 / n as f64;
    Ok((rate, db_ms))
}

/// Each side's closed-loop runs, in run order: requests per second and its PostgreSQL
/// backends' CPU per request (ms).
#[derive(Default)]
struct Runs {
    rate: Vec<f64>,
    db_ms: Vec<f64>,
}

async fn drive(
    plan: &Plan,
    targets: &Sides<Target>,
    pools: &Sides<sqlx::PgPool>,
) -> anyhow::Result<Line> {
    let (warm_up, runs, open) = batches(plan);
    let order = [&targets.ours, &targets.base, &targets.durable];
    for target in order {
        load::closed(target, warm_up.clone(), plan.concurrency).await?;
    }
    let pids = [
        backends::pids(&pools.ours).await?,
        backends::pids(&pools.base).await?,
        backends::pids(&pools.durable).await?,
    ];
    let mut sides: [Runs; 3] = Default::default();

    for (i, requests) in runs.into_iter().enumerate() {
        // Rotate who goes first, so a drift in the machine's load favours no side.
        let mut measured: [Option<(Rate, f64)>; 3] = Default::default();
        for k in 0..3 {
            let side = (i + k) % 3;
            let m = closed(
                (order[side], pids[side].as_slice()),
                requests.clone(),
                plan.concurrency,
            )
            .await?;
            measured[side] = Some(m);
        }
        let [Some((a, a_db)), Some((b, b_db)), Some((d, d_db))] = measured else {
            unreachable!("every side ran");
        };
        eprintln!(
            "webhook run {}: postcall {:.0}/s (its PostgreSQL backends {a_db:.2} ms CPU per reply; {}), \
             baseline {:.0}/s ({b_db:.2} ms; {}), durable {:.0}/s ({d_db:.2} ms; {}), ratio {:.2}, \
             to durable {:.2}",
            i + 1,
            a.per_second,
            a.cpu,
            b.per_second,
            b.cpu,
            d.per_second,
            d.cpu,
            a.per_second / b.per_second,
            a.per_second / d.per_second,
        );
        for (runs, (rate, db_ms)) in sides.iter_mut().zip([(a, a_db), (b, b_db), (d, d_db)]) {
            runs.rate.push(rate.per_second);
            runs.db_ms.push(db_ms);
        }
    }
    let [ours, base, durable] = sides;

    let (postcall, plain) = (&targets.ours, &targets.base);
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
    let ratios =
        |to: &Runs| -> Vec<f64> { ours.rate.iter().zip(&to.rate).map(|(a, b)| a / b).collect() };
    let (to_base, to_durable) = (ratios(&base), ratios(&durable));
    // How far the contract's write alone stands from the plain insert: with ratio_durable,
    // the two factors ratio is made of.
    let durable_to_base: Vec<f64> = durable
        .rate
        .iter()
        .zip(&base.rate)
        .map(|(d, b)| d / b)
        .collect();
    eprintln!(
        "webhook closed loop: postcall {}/s, baseline {}/s, durable {}/s; ratio {}, \
         ratio_durable {}, durable ÷ baseline {}; PostgreSQL CPU per reply: postcall {} ms, \
         baseline {} ms, durable {} ms",
        stats::describe(&ours.rate, 0),
        stats::describe(&base.rate, 0),
        stats::describe(&durable.rate, 0),
        stats::describe(&to_base, 2),
        stats::describe(&to_durable, 2),
        stats::describe(&durable_to_base, 2),
        stats::describe(&ours.db_ms, 2),
        stats::describe(&base.db_ms, 2),
        stats::describe(&durable.db_ms, 2),
    );
    let (lo, hi) = stats::min_max(&to_base);
    let (durable_lo, durable_hi) = stats::min_max(&to_durable);
    Ok(Line {
        rate: Some(stats::median(&ours.rate)),
        baseline: Some(stats::median(&base.rate)),
        ratio: Some(stats::median(&to_base)),
        p99_ms: Some(p(&latency, 0.99)),
        ..Line::new("webhook")
    }
    .with("p50", format!("{:.1}ms", p(&latency, 0.5)))
    .with("baseline_p99", format!("{:.1}ms", p(&base_latency, 0.99)))
    .with("errors", errors.0)
    .with(
        "db_cpu_per_reply",
        format!("{:.2}ms", stats::median(&ours.db_ms)),
    )
    .with(
        "baseline_db_cpu",
        format!("{:.2}ms", stats::median(&base.db_ms)),
    )
    .with("ratio_spread", format!("{lo:.2}-{hi:.2}"))
    .with("durable", format!("{:.0}/s", stats::median(&durable.rate)))
    .with("ratio_durable", two_significant(stats::median(&to_durable)))
    .with(
        "ratio_durable_spread",
        format!(
            "{}-{}",
            two_significant(durable_lo),
            two_significant(durable_hi)
        ),
    )
    .with(
        "durable_db_cpu",
        format!("{:.2}ms", stats::median(&durable.db_ms)),
    )
    .with("concurrency", plan.concurrency)
    .with("open_rate", format!("{:.0}/s", plan.open_rate))
    .with("runs", plan.runs))
}

/// The guarantees, after the clock: forged and replayed requests change nothing, and each
/// database holds exactly what the replies it got should have made of it.
async fn check(
    plan: &Plan,
    pools: &Sides<sqlx::PgPool>,
    targets: &Sides<Target>,
) -> anyhow::Result<()> {
    let replied = plan.replies();
    unmoved("postcall", &pools.ours, &targets.ours, replied).await?;
    verify::conversations(&pools.ours, replied + 1, replied, "true").await?;
    let rows = baseline::rows(&pools.base).await?;
    ensure!(
        rows == replied as i64,
        "the baseline stored {rows} rows, not {replied}"
    );
    // The durable baseline is not sent the open loop's replies.
    let closed = replied - plan.open_requests;
    unmoved("durable", &pools.durable, &targets.durable, replied).await?;
    verify::conversations(&pools.durable, replied + 1, closed, "1")
        .await
        .context("the durable baseline")?;
    eprintln!(
        "webhook: checked — postcall {replied} and durable {closed} replies recorded once, surveys \
         advanced, next questions queued; forged 403 and replay changed nothing on either"
    );
    Ok(())
}

/// A forged reply (to the one survey no reply was sent for) is refused and a replayed one
/// accepted, and neither changes anything.
async fn unmoved(
    side: &str,
    pool: &sqlx::PgPool,
    target: &Target,
    replied: usize,
) -> anyhow::Result<()> {
    let before = verify::fingerprint(pool).await?;
    let untouched = replied + 1;
    let forged = replies::forged(untouched, &replies::sid(untouched), "1");
    let status = target.send(&forged).await?;
    ensure!(
        status == 403,
        "{side}: a forged reply answered {status}, not 403"
    );
    let replay = replies::reply(1, &replies::sid(1), "1");
    let status = target.send(&replay).await?;
    ensure!(
        status == 200,
        "{side}: a replayed reply answered {status}, not 200"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = verify::fingerprint(pool).await?;
    ensure!(
        before == after,
        "{side}: a forged or replayed reply changed something: {before} → {after}"
    );
    Ok(())
}
