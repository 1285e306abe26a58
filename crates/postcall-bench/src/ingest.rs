//! The `ingest` stage: consume → validate → eligibility → batch insert → ack of N events
//! (default 200k) by the real worker, against a baseline of raw lapin consume +
//! ack-multiple + `INSERT … UNNEST` of the same rows with no logic (same queue shape, same
//! prefetch, same batch size). Rounds interleave the two, so a noisy minute hits both.
//!
//! Extra fields: `drain_1m` — a 1M-event backlog published first, then the worker started
//! and timed until the last row commits (target < 60 s; with `--quick`, the tiny backlog
//! as `drain`); `nodelay=ok` — 500-row statements do not wait for a delayed ACK
//! (DESIGN.md §7), else the stage fails. `POSTCALL_BENCH_DRAIN=N` drains N events instead
//! of 1M (the field is then still named `drain_1m` only if N is 1M).

mod baseline;
mod check;
pub mod events;
mod nodelay;
pub(crate) mod worker;

use std::time::Duration;

use anyhow::ensure;

use self::{events::Events, worker::Clock};
use crate::{
    Args,
    proc_stats::{CpuUse, Rate},
    report::Line,
    services::Names,
    stats::{self, describe, median},
};

/// Nothing here should take this long; a hang is reported rather than waited out.
const STAGE_TIMEOUT: Duration = Duration::from_secs(300);
const DRAIN_EVENTS: usize = 1_000_000;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);
const TARGET_RATIO: f64 = 0.70;
const TARGET_DRAIN_SECONDS: f64 = 60.0;

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let n = args.size(200_000, 300);
    ensure!(n >= 2, "--size must be at least 2");
    eprintln!("ingest: {n} events per run, {} runs", args.runs());
    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for run in 1..=args.runs() {
        let events = Events::new();
        let bodies = events.bodies(n);
        let bodies = &bodies;
        let b = measured("ingest_base", |names| async move {
            baseline::run(&names, bodies).await
        })
        .await?;
        let o = measured("ingest", |names| async move {
            worker::run(
                &names,
                n,
                |i| bodies[i].clone(),
                Clock::FirstCommit,
                STAGE_TIMEOUT,
            )
            .await
        })
        .await?;
        eprintln!(
            "run {run}/{}: baseline {:.0}/s, postcall {:.0}/s, ratio {:.2}\n  baseline {}\n  postcall {}",
            args.runs(),
            b.per_second,
            o.per_second,
            o.per_second / b.per_second,
            b.cpu,
            o.cpu
        );
        base.push(b);
        ours.push(o);
    }

    let drain_n = if args.quick {
        n
    } else {
        std::env::var("POSTCALL_BENCH_DRAIN")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DRAIN_EVENTS)
    };
    eprintln!("drain: {drain_n} events published, then the worker started");
    let events = &Events::new();
    let drain = measured("ingest_drain", |names| async move {
        worker::run(
            &names,
            drain_n,
            |i| events.body(i),
            Clock::WorkerStart,
            DRAIN_TIMEOUT,
        )
        .await
    })
    .await?;
    let drain_s = drain.elapsed.as_secs_f64();
    eprintln!(
        "  drained in {drain_s:.1} s ({:.0}/s from worker start); {}",
        drain.per_second, drain.cpu
    );

    let nodelay = nodelay::measure(if args.quick { 5 } else { 40 }).await?;
    eprintln!(
        "nodelay: 500-row statement (~{} KiB) median {:.1} ms, 1-row {:.2} ms; {} of {} \
         statements at >= {:.0} ms",
        nodelay.statement_bytes / 1024,
        nodelay.batch_ms,
        nodelay.single_ms,
        nodelay.stalled,
        nodelay.statements,
        nodelay::DELAYED_ACK_FLOOR_MS
    );
    ensure!(
        nodelay.ok(),
        "500-row statements took a median {:.1} ms: Nagle + delayed ACK in play (DESIGN.md §7)",
        nodelay.batch_ms
    );

    let rates = |r: &[Rate]| r.iter().map(|r| r.per_second).collect::<Vec<_>>();
    let (base_rates, our_rates) = (rates(&base), rates(&ours));
    let ratio = stats::ratio(&our_rates, &base_rates);
    let ratios: Vec<f64> = our_rates
        .iter()
        .zip(&base_rates)
        .map(|(o, b)| o / b)
        .collect();
    eprintln!(
        "ingest: postcall {}/s, baseline {}/s, ratio {} (target >= {TARGET_RATIO:.2}{}); \
         drain of {drain_n}: {drain_s:.1} s{}",
        describe(&our_rates, 0),
        describe(&base_rates, 0),
        describe(&ratios, 2),
        if ratio >= TARGET_RATIO {
            ", met"
        } else {
            ", MISSED"
        },
        if args.quick {
            String::new()
        } else if drain_s < TARGET_DRAIN_SECONDS {
            format!(" (target < {TARGET_DRAIN_SECONDS:.0} s, met)")
        } else {
            format!(" (target < {TARGET_DRAIN_SECONDS:.0} s, MISSED)")
        }
    );
    eprintln!("  cpu, median over runs: baseline {}", median_cpu(&base));
    eprintln!("                          postcall {}", median_cpu(&ours));

    let line = Line {
        rate: Some(median(&our_rates)),
        baseline: Some(median(&base_rates)),
        ratio: Some(ratio),
        ..Line::new("ingest")
    };
    let line = if drain_n != DRAIN_EVENTS {
        line.with("drain", format!("{drain_s:.1}s"))
    } else {
        line.with("drain_1m", format!("{drain_s:.1}s"))
    };
    Ok(line
        .with("insert_500", format!("{:.1}ms", nodelay.batch_ms))
        .with("nodelay", "ok"))
}

/// Runs `f` with fresh names and removes them afterwards, whatever happened.
async fn measured<F, Fut>(stage: &str, f: F) -> anyhow::Result<Rate>
where
    F: FnOnce(Names) -> Fut,
    Fut: Future<Output = anyhow::Result<Rate>>,
{
    let names = Names::new(stage);
    let result = f(names.clone()).await;
    names.clean_up().await;
    result
}

fn median_cpu(rates: &[Rate]) -> CpuUse {
    let m = |f: fn(&CpuUse) -> f64| median(&rates.iter().map(|r| f(&r.cpu)).collect::<Vec<_>>());
    CpuUse {
        bench: m(|c| c.bench),
        postgres: m(|c| c.postgres),
        rabbitmq: m(|c| c.rabbitmq),
        machine: m(|c| c.machine),
    }
}
