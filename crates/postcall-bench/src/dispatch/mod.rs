//! The `dispatch` stage: claim → send to a local HTTP provider → record, over a backlog of
//! due surveys, against two baselines at the same concurrency: raw reqwest POSTs to the same
//! provider, and the least a durable dispatcher does; then a configured rate limit, held
//! over at least ten seconds.
//!
//! - baseline: `baseline.rs`, the ceiling HTTP allows on this machine;
//! - durable: `durable.rs`, the honest limit: claim with `FOR UPDATE SKIP LOCKED`, the same
//!   signed requests, outcomes recorded in batched commits, over a table of its own
//!   (`outbox.rs`) holding only what that needs; every row must be sent exactly once;
//! - floor: the durable loop over postcall's own tables, writing only what its records
//!   need per first SMS (`floor.rs`): how much of the gap to `durable` the records
//!   themselves make;
//! - rate: the real dispatcher (`postcall::app::start`, dispatch only, rate limits out of
//!   the way) draining N due surveys (`drain.rs`); every survey must end open, every message
//!   queued after one attempt, every id must reach the provider exactly once (`provider.rs`
//!   fails the run on a duplicate);
//! - rate_held: the same with `dispatch.rate_limit.messages_per_second` set (500/s, or
//!   `BENCH_DISPATCH_RATE`), sends per second at the provider over the whole drain (first
//!   request to last, so a burst at the start counts) ÷ the configured rate.
//!
//! The four alternate run by run (HTTP, durable, floor, dispatcher). `POSTCALL__*` variables tune the
//! dispatcher (the rate limits excepted); `BENCH_LOG` turns its logs on.

mod backlog;
mod baseline;
mod drain;
mod durable;
mod floor;
mod outbox;
pub(crate) mod provider;

use std::time::{Duration, Instant};

use crate::{
    Args,
    proc_stats::Rate,
    report::{Line, two_significant},
    services::Names,
    stats::{self, describe},
};

const WEBHOOK_SECRET: &str = "whsec_6vXkIvI9eUj1JuUL4i0wuyT7S6y6Vu3d3o0Qd5VM1xQ=";
/// Where postcall tells the provider to report delivery; nothing listens, it is only sent.
const STATUS_CALLBACK: &str = "http://127.0.0.1:8080/webhooks/sms";
/// High enough that the rate limiter never binds: the throughput runs measure the pipeline.
const UNLIMITED: &str = "1000000";

fn phone(i: usize) -> String {
    format!("+86139{i:08}")
}

/// Shipped defaults (with `POSTCALL__*` tuning), only the dispatch role on, quiet hours off,
/// the webhook provider at `provider_url`, rate limits out of the way unless `overrides`
/// set them.
pub(crate) fn settings(
    names: &Names,
    provider_url: &str,
    overrides: &[(&str, &str)],
) -> anyhow::Result<postcall::config::Settings> {
    let mut stage = vec![
        ("POSTCALL__INGEST__ENABLED", "false"),
        ("POSTCALL__HTTP__ENABLED", "false"),
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "true"),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false"),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND",
            UNLIMITED,
        ),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
            UNLIMITED,
        ),
        ("POSTCALL__PROVIDER__KIND", "webhook"),
        ("POSTCALL__PROVIDER__WEBHOOK__URL", provider_url),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", WEBHOOK_SECRET),
    ];
    stage.extend_from_slice(overrides);
    names.settings(&stage)
}

struct Plan {
    runs: usize,
    size: usize,
    concurrency: usize,
    body: String,
    /// The same first SMS, as the schema floor stores it.
    first: floor::First,
    limited_rate: u32,
    limited_seconds: f64,
    lease: Duration,
    request_timeout: Duration,
}

impl Plan {
    fn new(args: &Args) -> anyhow::Result<Self> {
        let defaults = settings(&Names::new("dispatch"), "http://unused", &[])?;
        let runtime = defaults.runtime()?;
        // The first SMS of a zh-CN survey to a mainland number, as the dispatcher sends it:
        // the same bytes on the wire on every side.
        let body = runtime.survey.first_message("zh-CN", true);
        let segments = postcall::domain::segments::count(&body);
        let first = floor::First {
            question_id: runtime.survey.questions[0].id.clone(),
            body: body.clone(),
            encoding: segments.encoding.as_str(),
            segments: i32::try_from(segments.count)?,
            expire_after_seconds: f64::from(defaults.survey.expire_after_hours) * 3600.0,
        };
        let limited_rate = std::env::var("BENCH_DISPATCH_RATE")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(if args.quick { 200 } else { 500 });
        Ok(Self {
            runs: args.runs(),
            size: args.size(100_000, 300),
            concurrency: defaults.dispatch.batch_size as usize,
            body,
            first,
            limited_rate,
            limited_seconds: if args.quick { 1.5 } else { 12.0 },
            lease: Duration::from_secs(defaults.dispatch.lease_seconds),
            request_timeout: Duration::from_secs(defaults.dispatch.request_timeout_seconds),
        })
    }
}

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let plan = Plan::new(args)?;
    eprintln!(
        "dispatch: {} due surveys per run, {} runs, concurrency (dispatch.batch_size) {}",
        plan.size, plan.runs, plan.concurrency
    );
    let setup = durable::Setup {
        concurrency: plan.concurrency,
        body: &plan.body,
        lease: plan.lease,
        request_timeout: plan.request_timeout,
    };
    let mut runs = Runs::default();
    for run in 1..=plan.runs {
        let b = baseline::run(plan.size, plan.concurrency, &plan.body).await?;
        let k = durable::run(plan.size, &setup, durable::Table::Outbox).await?;
        let f = durable::run(
            plan.size,
            &setup,
            durable::Table::Schema(plan.first.clone()),
        )
        .await?;
        let d = drain::run(plan.size, &[]).await?;
        eprintln!(
            "run {run}/{}: http {:.0}/s, durable {:.0}/s, floor {:.0}/s, dispatch {:.0}/s \
             (ratio {:.3}, to durable {:.3}, to floor {:.3}; floor to durable {:.3}) in {:.1}s",
            plan.runs,
            b.per_second,
            k.rate.per_second,
            f.rate.per_second,
            d.rate.per_second,
            d.rate.per_second / b.per_second,
            d.rate.per_second / k.rate.per_second,
            d.rate.per_second / f.rate.per_second,
            f.rate.per_second / k.rate.per_second,
            d.rate.elapsed.as_secs_f64(),
        );
        eprintln!(
            "{}",
            per_sms("dispatch", &d.db, &d.rate, d.own_pg_cores, None)
        );
        eprintln!(
            "{}",
            per_sms(
                "durable",
                &k.db,
                &k.rate,
                k.own_pg_cores,
                Some(k.round_trips)
            )
        );
        eprintln!("{}", per_sms("floor", &f.db, &f.rate, f.own_pg_cores, None));
        runs.floor_pg_us
            .push(f.own_pg_cores / f.rate.per_second * 1e6);
        runs.floor_rows_sent += f.rows_sent;
        runs.floor.push(f.rate);
        runs.base.push(b);
        runs.durable_pg_us
            .push(k.own_pg_cores / k.rate.per_second * 1e6);
        runs.durable_rows_sent += k.rows_sent;
        runs.durable_requests += k.requests;
        runs.durable.push(k.rate);
        runs.ours_pg_us
            .push(d.own_pg_cores / d.rate.per_second * 1e6);
        runs.ours.push(d.rate);
    }
    let held = rate_held(&plan).await?;
    Ok(summarise(&runs, held))
}

/// One side's work per SMS, for stderr: what PostgreSQL did, and the CPU both processes
/// spent; `statements` where the side counts its own.
fn per_sms(
    side: &str,
    db: &backlog::Work,
    rate: &Rate,
    own_pg_cores: f64,
    statements: Option<f64>,
) -> String {
    let statements = statements.map_or(String::new(), |s| format!("{s:.3} statements, "));
    format!(
        "  {side}: per SMS {:.3} commits, {statements}{:.2} rows written ({:.2} HOT updates), \
         {:.2} KiB WAL (cluster), {:.3} WAL fsyncs (cluster); {:.0} µs bench CPU, {:.0} µs CPU \
         in this database's PostgreSQL backends; {}",
        db.commits,
        db.row_writes,
        db.hot_updates,
        db.wal_kib,
        db.fsyncs,
        rate.cpu.bench / rate.per_second * 1e6,
        own_pg_cores / rate.per_second * 1e6,
        rate.cpu,
    )
}

/// Each run's measurements, in run order.
#[derive(Default)]
struct Runs {
    ours: Vec<Rate>,
    base: Vec<Rate>,
    durable: Vec<Rate>,
    floor: Vec<Rate>,
    /// µs of CPU in each side's own PostgreSQL backends per SMS.
    ours_pg_us: Vec<f64>,
    durable_pg_us: Vec<f64>,
    floor_pg_us: Vec<f64>,
    /// Over all runs: the durable baseline's rows recorded sent once and seen by the
    /// provider, and the requests the provider got from it.
    durable_rows_sent: usize,
    durable_requests: u64,
    /// Over all runs: the floor's surveys opened with one message each, seen by the provider.
    floor_rows_sent: usize,
}

/// Achieved ÷ configured rate with `messages_per_second` set.
async fn rate_held(plan: &Plan) -> anyhow::Result<f64> {
    let rate = plan.limited_rate.to_string();
    let n = (f64::from(plan.limited_rate) * plan.limited_seconds).ceil() as usize;
    let drained = drain::run(
        n,
        &[("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", &rate)],
    )
    .await?;
    let arrivals = &drained.arrivals;
    let span = *arrivals.last().expect("n > 0") - arrivals[0];
    let achieved = (n - 1) as f64 / span.as_secs_f64();
    let held = achieved / f64::from(plan.limited_rate);
    eprintln!(
        "rate limit {}/s: {n} sends in {:.2}s = {achieved:.1}/s ({held:.4} of configured); \
         busiest second {} sends; {}",
        plan.limited_rate,
        span.as_secs_f64(),
        busiest_second(arrivals),
        drained.rate.cpu,
    );
    Ok(held)
}

/// The most sends that arrived within any one second.
fn busiest_second(arrivals: &[Instant]) -> usize {
    let mut most = 0;
    let mut start = 0;
    for (end, at) in arrivals.iter().enumerate() {
        while *at - arrivals[start] >= Duration::from_secs(1) {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

fn summarise(runs: &Runs, held: f64) -> Line {
    let per_second = |r: &[Rate]| r.iter().map(|r| r.per_second).collect::<Vec<_>>();
    let (ours_rate, base_rate, durable_rate) = (
        per_second(&runs.ours),
        per_second(&runs.base),
        per_second(&runs.durable),
    );
    let ratios = |baseline: &[f64]| -> Vec<f64> {
        ours_rate.iter().zip(baseline).map(|(o, b)| o / b).collect()
    };
    let to_durable = ratios(&durable_rate);
    let floor_rate = per_second(&runs.floor);
    let to_floor = ratios(&floor_rate);
    let floor_to_durable: Vec<f64> = floor_rate
        .iter()
        .zip(&durable_rate)
        .map(|(f, d)| f / d)
        .collect();
    let (lo, hi) = stats::min_max(&to_durable);
    let cores = |f: fn(&Rate) -> f64| describe(&runs.ours.iter().map(f).collect::<Vec<_>>(), 2);
    eprintln!(
        "dispatch {}/s; http {}/s; ratio {}",
        describe(&ours_rate, 0),
        describe(&base_rate, 0),
        describe(&ratios(&base_rate), 3)
    );
    eprintln!(
        "durable {}/s; ratio_durable {}; PostgreSQL CPU per SMS: dispatch {} µs, durable {} µs",
        describe(&durable_rate, 0),
        describe(&to_durable, 3),
        describe(&runs.ours_pg_us, 0),
        describe(&runs.durable_pg_us, 0),
    );
    eprintln!(
        "floor {}/s; ratio_floor {}; floor_to_durable {}; PostgreSQL CPU per SMS: floor {} µs",
        describe(&floor_rate, 0),
        describe(&to_floor, 3),
        describe(&floor_to_durable, 3),
        describe(&runs.floor_pg_us, 0),
    );
    eprintln!(
        "dispatch cores: bench {}, postgres {}, machine {}",
        cores(|r| r.cpu.bench),
        cores(|r| r.cpu.postgres),
        cores(|r| r.cpu.machine)
    );
    Line {
        rate: Some(stats::median(&ours_rate)),
        baseline: Some(stats::median(&base_rate)),
        ratio: Some(stats::ratio(&ours_rate, &base_rate)),
        ..Line::new("dispatch")
    }
    .with("durable", format!("{:.0}/s", stats::median(&durable_rate)))
    .with("ratio_durable", two_significant(stats::median(&to_durable)))
    .with(
        "ratio_durable_spread",
        format!("{}-{}", two_significant(lo), two_significant(hi)),
    )
    .with(
        "pg_us_per_sms",
        format!("{:.0}", stats::median(&runs.ours_pg_us)),
    )
    .with(
        "durable_pg_us_per_sms",
        format!("{:.0}", stats::median(&runs.durable_pg_us)),
    )
    .with("floor", format!("{:.0}/s", stats::median(&floor_rate)))
    .with("ratio_floor", two_significant(stats::median(&to_floor)))
    .with(
        "floor_to_durable",
        two_significant(stats::median(&floor_to_durable)),
    )
    .with(
        "floor_pg_us_per_sms",
        format!("{:.0}", stats::median(&runs.floor_pg_us)),
    )
    .with("floor_rows_sent", runs.floor_rows_sent)
    .with("durable_rows_sent", runs.durable_rows_sent)
    .with("durable_requests", runs.durable_requests)
    .with("rate_held", format!("{held:.3}"))
}
