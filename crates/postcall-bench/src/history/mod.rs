//! The `history` stage (issue 17): does a stage's cost grow with the history stored? Ingest,
//! dispatch and the reply webhook, each measured on a database holding a year of history
//! (`--history`, default 10 M calls with their surveys, SMS both ways, answers, opt-outs and
//! events; seeded once and kept as `postcall_bench_history`, `kept.rs`) and on an empty one
//! freshly migrated for the run (`side.rs`), the two alternating which goes first, `--runs`
//! times. Each side is the same code path driven the same way (`ingest.rs`, `dispatch.rs`,
//! `webhook.rs`); the runs' rows never meet the history's (own phones and call ids) and are
//! removed from the full database afterwards, so every invocation measures the same history.
//!
//! The line: `history full_ratio=<the lowest of the three> ingest_full_ratio=<median of the
//! per-run full ÷ empty rates> ingest_cold_ratio=<the same of the uncounted warm-up run>
//! ingest_full=<median>/s ingest_empty=<median>/s ingest_spread=<min-max of the per-run
//! ratios>`, the same for dispatch and webhook, then `history_calls=` and `runs=`. Target:
//! every ratio ≥ 0.90. `--quick` uses a tiny history of its own
//! (`postcall_bench_history_quick`), so the test can run beside a measurement.

mod dispatch;
mod ingest;
mod kept;
mod seed;
mod side;
mod webhook;

use anyhow::Context;

use crate::{
    Args,
    aggregate::seed::Survey,
    proc_stats::Rate,
    report::{Line, two_significant},
    services::Names,
    stats::{describe, median, min_max},
};
use side::{Db, Side};

const DATABASE: &str = "postcall_bench_history";
const QUICK_DATABASE: &str = "postcall_bench_history_quick";
const HISTORY_CALLS: u64 = 10_000_000;
const QUICK_HISTORY_CALLS: u64 = 3_000;
const TARGET: f64 = 0.90;

#[derive(Debug, Clone, Copy)]
enum Stage {
    Ingest,
    Dispatch,
    Webhook,
}

impl Stage {
    const ALL: [Stage; 3] = [Stage::Ingest, Stage::Dispatch, Stage::Webhook];

    fn key(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Dispatch => "dispatch",
            Stage::Webhook => "webhook",
        }
    }

    /// The line's fields: full ÷ empty, full rate, empty rate, spread of the ratios.
    fn keys(self) -> [&'static str; 4] {
        match self {
            Stage::Ingest => [
                "ingest_full_ratio",
                "ingest_full",
                "ingest_empty",
                "ingest_spread",
            ],
            Stage::Dispatch => [
                "dispatch_full_ratio",
                "dispatch_full",
                "dispatch_empty",
                "dispatch_spread",
            ],
            Stage::Webhook => [
                "webhook_full_ratio",
                "webhook_full",
                "webhook_empty",
                "webhook_spread",
            ],
        }
    }

    /// The warm-up run's full ÷ empty, reported apart from the counted runs.
    fn cold_key(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest_cold_ratio",
            Stage::Dispatch => "dispatch_cold_ratio",
            Stage::Webhook => "webhook_cold_ratio",
        }
    }

    /// Items per run: enough for a steady state of several seconds at the empty side's rate.
    fn size(self, args: &Args) -> usize {
        match self {
            Stage::Ingest => args.size(100_000, 300),
            Stage::Dispatch => args.size(20_000, 200),
            Stage::Webhook => args.size(4_000, 20),
        }
    }

    async fn run(self, db: &Db, args: &Args) -> anyhow::Result<Rate> {
        let n = self.size(args);
        match self {
            Stage::Ingest => ingest::run(db, n).await,
            Stage::Dispatch => dispatch::run(db, n).await,
            Stage::Webhook => webhook::run(db, n, if args.quick { 5 } else { 300 }).await,
        }
    }
}

/// The stages to measure: all, or those `BENCH_HISTORY_STAGES` names (comma-separated), to
/// measure again one that changed without waiting for the others.
fn stages() -> anyhow::Result<Vec<Stage>> {
    let Ok(wanted) = std::env::var("BENCH_HISTORY_STAGES") else {
        return Ok(Stage::ALL.to_vec());
    };
    wanted
        .split(',')
        .map(|name| {
            Stage::ALL
                .into_iter()
                .find(|s| s.key() == name.trim())
                .with_context(|| format!("BENCH_HISTORY_STAGES: no stage {name}"))
        })
        .collect()
}

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let calls = args.history.unwrap_or(if args.quick {
        QUICK_HISTORY_CALLS
    } else {
        HISTORY_CALLS
    });
    let name = if args.quick { QUICK_DATABASE } else { DATABASE };
    let names = Names {
        database: name.to_owned(),
        ..Names::new("history")
    };
    let settings = names.settings(&[])?;
    let survey = Survey::from_settings(&settings)?;
    let pool = kept::open(&settings, name, &survey, i64::try_from(calls)?).await?;
    pool.close().await;

    let runs = args.runs();
    let mut line = Line::new("history");
    let mut lowest = f64::INFINITY;
    let mut fields = Vec::new();
    for stage in stages()? {
        let (mut full, mut empty) = (Vec::new(), Vec::new());
        let mut cold = Vec::new();
        // Run 0 warms each side and is not counted: a worker in production has probed its
        // indexes moments ago, while the kept database was last read by the seed, so the
        // first run after it measures the page cache rather than the code (BENCHMARKS.md,
        // history). Its ratio is reported apart, as `<stage>_cold_ratio`.
        for run in 0..=runs {
            // Alternate who goes first, so a drift in the machine's load favours neither.
            let order = if run % 2 == 1 {
                [Side::Full, Side::Empty]
            } else {
                [Side::Empty, Side::Full]
            };
            for side in order {
                let db = match side {
                    Side::Full => Db::full(name).await?,
                    Side::Empty => Db::empty(&survey).await?,
                };
                let rate = stage.run(&db, args).await;
                let finished = db.finish().await;
                let rate = rate?;
                finished?;
                eprintln!(
                    "history {} run {run}/{runs} {side}: {:.0}/s over {:.1}s; {}",
                    stage.key(),
                    rate.per_second,
                    rate.elapsed.as_secs_f64(),
                    rate.cpu
                );
                match (run, side) {
                    (0, _) => cold.push((side, rate.per_second)),
                    (_, Side::Full) => full.push(rate.per_second),
                    (_, Side::Empty) => empty.push(rate.per_second),
                }
            }
        }
        let cold_ratio = cold_ratio(&cold);
        let ratios: Vec<f64> = full.iter().zip(&empty).map(|(f, e)| f / e).collect();
        let ratio = median(&ratios);
        let (lo, hi) = min_max(&ratios);
        eprintln!(
            "history {}: full {}/s, empty {}/s, full ÷ empty {} (target >= {TARGET:.2}, {})",
            stage.key(),
            describe(&full, 0),
            describe(&empty, 0),
            describe(&ratios, 2),
            if ratio >= TARGET { "met" } else { "MISSED" }
        );
        eprintln!(
            "history {}: the warm-up run, not counted: full ÷ empty {cold_ratio:.2}",
            stage.key()
        );
        lowest = lowest.min(ratio);
        fields.push((
            stage,
            ratio,
            median(&full),
            median(&empty),
            lo,
            hi,
            cold_ratio,
        ));
    }
    line = line.with("full_ratio", two_significant(lowest));
    for (stage, ratio, full, empty, lo, hi, cold) in fields {
        let [k_ratio, k_full, k_empty, k_spread] = stage.keys();
        line = line
            .with(k_ratio, two_significant(ratio))
            .with(stage.cold_key(), two_significant(cold))
            .with(k_full, format!("{full:.0}/s"))
            .with(k_empty, format!("{empty:.0}/s"))
            .with(
                k_spread,
                format!("{}-{}", two_significant(lo), two_significant(hi)),
            );
    }
    Ok(line.with("history_calls", calls).with("runs", runs))
}

/// The warm-up run's full ÷ empty rate.
fn cold_ratio(cold: &[(Side, f64)]) -> f64 {
    let rate = |want: Side| {
        cold.iter()
            .find(|(side, _)| *side == want)
            .map_or(f64::NAN, |(_, r)| *r)
    };
    rate(Side::Full) / rate(Side::Empty)
}
