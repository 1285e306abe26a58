//! The `aggregate` stage: score aggregation (DESIGN.md §5) with a year of history stored,
//! `--size` answers (default 10 M) on about a third as many surveys, ~200 agents, 8 queues.
//!
//! Each run (`--runs`, default 5): a batch of 10 k new answers on calls of today and yesterday
//! arrives through statements that fire postcall's triggers as the worker's writes do; an
//! incremental run (`Aggregator::run_now`) folds it in, timed; then a rebuild, timed. Each is
//! followed at once by the baseline, `SELECT count(*) FROM answers` (one scan of the table
//! the scores come from), so noise from other tenants hits both alike. Every run checks that
//! the cells the incremental run left equal the rebuild's, row for row, and the last also
//! checks the cells' totals against counts taken straight from the tables: any difference
//! fails the stage.
//!
//! The line: `aggregate rate=<answers stored ÷ the incremental run's seconds: answers whose
//! scores it keeps current per second> baseline=<answers stored ÷ the count(*)'s seconds>
//! ratio=<rate ÷ baseline>` (each a median of per-run figures), so ratio > 1 means an
//! incremental run costs less than one scan of the answers: it does not read history. Then
//! `incremental_ms=` and `rebuild_s=` (medians) with their `…_spread=min-max`,
//! `rebuild_counts=` (a rebuild's time in count(*) scans), `count_ms=`, `new=` (answers per
//! run), `stored=` (answers) and `runs=`. Targets (issue 7): incremental < 1 s, rebuild <
//! 30 s at 10 M.
//!
//! The seeded database is kept between invocations (`kept.rs`); `--quick` uses its own
//! tiny one (20 k answers, 300 new), so a test can run beside a full measurement.

mod check;
mod kept;
pub(crate) mod seed;

use std::time::Instant;

use anyhow::{Context, bail};
use postcall::aggregate::{Aggregator, RunSummary};
use sqlx::{Executor, PgPool};

use crate::{
    Args,
    proc_stats::Window,
    report::Line,
    services::Names,
    stats::{describe, median, min_max, ratio},
};
use seed::Survey;

const DATABASE: &str = "postcall_bench_aggregate";
const QUICK_DATABASE: &str = "postcall_bench_aggregate_quick";

/// New answers per run: what arrives between two 5-minute ticks at a busy contact centre.
const NEW_ANSWERS: i64 = 10_000;
const QUICK_NEW_ANSWERS: i64 = 300;

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    // Quick: big enough that the count(*) is not all round trip, so the ratio stays > 0.01.
    let stored = args.size(10_000_000, 20_000) as i64;
    let new = if args.quick {
        QUICK_NEW_ANSWERS
    } else {
        NEW_ANSWERS
    };
    let name = if args.quick { QUICK_DATABASE } else { DATABASE };
    let names = Names {
        database: name.to_owned(),
        ..Names::new("aggregate")
    };
    let settings = names.settings(&[])?;
    let survey = Survey::from_settings(&settings)?;
    let kept = kept::open(&settings, name, &survey, stored).await?;
    let (pool, mut next) = (kept.pool, kept.next);
    let aggregator = Aggregator::new(pool.clone(), &settings.runtime()?);

    // Whatever a previous invocation left (or a first build), so that each run starts from
    // cells that are current; also warms the cache as the seed's VACUUM did for the tables.
    let warm = aggregator.run_now().await.context("warm-up run")?;
    eprintln!("aggregate: warm-up: {warm}");
    upkeep(&pool).await?;
    count_answers(&pool).await?;

    let runs = args.runs();
    let mut samples = Vec::with_capacity(runs);
    for i in 1..=runs {
        let s = one_run(&pool, &aggregator, &survey, &mut next, new, i == runs).await?;
        eprintln!("aggregate: run {i}/{runs}: {}", s.describe(new));
        if let Some(what) = &s.mismatch {
            bail!("correctness: the incremental run's cells differ from a rebuild's\n{what}");
        }
        samples.push(s);
    }
    pool.close().await;
    Ok(line(&samples, new))
}

/// One run's figures.
struct Sample {
    batch_ms: f64,
    changed_surveys: i64,
    incremental: RunSummary,
    incremental_ms: f64,
    rebuild: RunSummary,
    rebuild_ms: f64,
    rebuild_cores: String,
    /// The count(*) right after the incremental run and right after the rebuild.
    count_ms: [f64; 2],
    answers: i64,
    mismatch: Option<String>,
}

impl Sample {
    fn describe(&self, new: i64) -> String {
        let (i, r) = (&self.incremental.folded, &self.rebuild.folded);
        format!(
            "{new} new answers on {} surveys written in {:.0} ms; incremental {:.0} ms \
             ({} changes, {} surveys, {} cells), count(*) of {} answers {:.0} ms; rebuild \
             {:.1} s ({} surveys, {} cells; {}), count(*) {:.0} ms; cells equal",
            self.changed_surveys,
            self.batch_ms,
            self.incremental_ms,
            i.changes,
            i.surveys,
            i.cells,
            self.answers,
            self.count_ms[0],
            self.rebuild_ms / 1e3,
            r.surveys,
            r.cells,
            self.rebuild_cores,
            self.count_ms[1],
        )
    }
}

async fn one_run(
    pool: &PgPool,
    aggregator: &Aggregator,
    survey: &Survey,
    next: &mut i64,
    new: i64,
    last: bool,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    *next = seed::batch(pool, survey, *next, new).await?;
    seed::advance(pool, *next).await?;
    let batch_ms = ms(started);
    let changed_surveys: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT survey_id) FROM score_changes")
            .fetch_one(pool)
            .await?;

    let started = Instant::now();
    let incremental = aggregator.run_now().await.context("incremental run")?;
    let incremental_ms = ms(started);
    let (_, after_incremental) = count_answers(pool).await?;
    let folded = check::snapshot(pool).await?;

    let window = Window::start();
    let rebuild = aggregator.rebuild().await.context("rebuild")?;
    let rate = window.finish(1);
    let (answers, after_rebuild) = count_answers(pool).await?;
    let mut mismatch = check::differences(&folded, &check::snapshot(pool).await?);
    if last && let Some(wrong) = check::totals_mismatch(pool, survey).await? {
        let before = mismatch.map(|m| m + "\n").unwrap_or_default();
        mismatch = Some(format!(
            "{before}cell totals differ from the tables: {wrong}"
        ));
    }
    upkeep(pool).await?;
    Ok(Sample {
        batch_ms,
        changed_surveys,
        incremental,
        incremental_ms,
        rebuild,
        rebuild_ms: rate.elapsed.as_secs_f64() * 1e3,
        rebuild_cores: rate.cpu.to_string(),
        count_ms: [after_incremental, after_rebuild],
        answers,
        mismatch,
    })
}

fn line(samples: &[Sample], new: i64) -> Line {
    let of = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
    let rates = of(&|s| s.answers as f64 / (s.incremental_ms / 1e3));
    let baselines = of(&|s| s.answers as f64 / (s.count_ms[0] / 1e3));
    let incremental = of(&|s| s.incremental_ms);
    let rebuild = of(&|s| s.rebuild_ms / 1e3);
    let spread = |v: &[f64], digits: usize, unit: &str| {
        let (lo, hi) = min_max(v);
        format!("{lo:.digits$}-{hi:.digits$}{unit}")
    };
    eprintln!(
        "aggregate: incremental {} ms, rebuild {} s, count(*) {} ms",
        describe(&incremental, 0),
        describe(&rebuild, 1),
        describe(&of(&|s| s.count_ms[0]), 0)
    );
    Line {
        rate: Some(median(&rates)),
        baseline: Some(median(&baselines)),
        ratio: Some(ratio(&rates, &baselines)),
        ..Line::new("aggregate")
    }
    .with("incremental_ms", format!("{:.0}", median(&incremental)))
    .with("incremental_spread", spread(&incremental, 0, "ms"))
    .with("rebuild_s", format!("{:.1}", median(&rebuild)))
    .with("rebuild_spread", spread(&rebuild, 1, "s"))
    .with(
        "rebuild_counts",
        format!("{:.1}", median(&of(&|s| s.rebuild_ms / s.count_ms[1]))),
    )
    .with(
        "count_ms",
        format!("{:.0}", median(&of(&|s| s.count_ms[0]))),
    )
    .with("new", new)
    .with("stored", samples.last().map_or(0, |s| s.answers))
    .with("runs", samples.len())
}

/// What autovacuum would do between ticks (this server runs with it off): a rebuild leaves
/// its old rows dead, a run the change-log rows it consumed.
async fn upkeep(pool: &PgPool) -> anyhow::Result<()> {
    pool.execute("VACUUM (ANALYZE) score_cells, score_changes")
        .await
        .context("vacuuming the score tables")?;
    Ok(())
}

/// The baseline: answers stored and the milliseconds a count of them took.
async fn count_answers(pool: &PgPool) -> anyhow::Result<(i64, f64)> {
    let started = Instant::now();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM answers")
        .fetch_one(pool)
        .await?;
    Ok((n, ms(started)))
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}
