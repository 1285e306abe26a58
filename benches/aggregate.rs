//! Score aggregation (DESIGN.md §5) over a year of history in the local PostgreSQL: how long
//! an incremental run takes after 10 k new answers with N stored, and how long a rebuild
//! takes.
//!
//! The machine is shared and noisy, so absolute numbers mean little: every figure is shown
//! next to a baseline taken in the same run, `SELECT count(*) FROM answers` (one scan of
//! the table the scores come from), timed right after each measurement.
//!
//! 1. A fresh database (`postcall_bench_aggregate`, dropped and recreated) gets a year of
//!    history with set-based SQL: about N answers on about N/3 surveys, ~200 agents, 8
//!    queues, every survey with its messages (see `aggregate/seed.rs`).
//! 2. `rebuild` is timed `--rebuilds` times (the first one builds the cells from nothing).
//! 3. `--rounds` times: a batch of `--new` answers for calls of today and yesterday arrives
//!    (surveys sent, delivered and answered through UPDATEs and INSERTs, so postcall's
//!    triggers log them as in production), then `run_now` folds them in, timed.
//! 4. The cells the incremental runs left are compared with a rebuild's, row for row, and
//!    their totals with counts taken straight from surveys, answers and messages; any
//!    difference fails the run.
//!
//! `cargo bench --bench aggregate -- [--answers N] [--new N] [--rounds R] [--rebuilds R]
//! [--database NAME] [--leave-changes] [--quick]`; `--quick` is a tiny run for tests.
//! The database is kept afterwards for `psql` (`--leave-changes` adds one more batch left
//! unfolded, so the incremental statement can be EXPLAINed by hand). `POSTCALL__*`
//! variables are passed on (e.g. `POSTCALL__AGGREGATION__TIMEZONE`), `BENCH_LOG` turns
//! postcall's logs on.

#[path = "aggregate/seed.rs"]
mod seed;

use std::{
    collections::{BTreeSet, HashMap},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};
use postcall::{
    aggregate::{Aggregator, Summary},
    config::Settings,
    store::db,
};
use sqlx::{Connection as _, Executor, PgConnection, PgPool};

use seed::Survey;

const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const DATABASE: &str = "postcall_bench_aggregate";
/// `--quick` uses its own database, so a test can run while a full run keeps its data.
const QUICK_DATABASE: &str = "postcall_bench_aggregate_quick";

struct Args {
    answers: u64,
    new: i64,
    rounds: usize,
    rebuilds: usize,
    database: String,
    leave_changes: bool,
}

/// Hand-parsed: cargo adds `--bench`, and anything unknown is ignored rather than fatal.
/// `--quick` changes only the defaults: flags given with it still apply.
fn parse_args() -> anyhow::Result<Args> {
    let (mut answers, mut new, mut rounds, mut rebuilds, mut database) =
        (None, None, None, None, None);
    let (mut quick, mut leave_changes) = (false, false);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--answers" => answers = Some(value(&mut it, "--answers")?),
            "--new" => new = Some(value(&mut it, "--new")?),
            "--rounds" => rounds = Some(value(&mut it, "--rounds")?),
            "--rebuilds" => rebuilds = Some(value(&mut it, "--rebuilds")?),
            "--database" => database = Some(value(&mut it, "--database")?),
            "--quick" => quick = true,
            "--leave-changes" => leave_changes = true,
            _ => {}
        }
    }
    let args = Args {
        answers: pick(answers, quick, 1_000_000, 3_000),
        new: pick(new, quick, 10_000, 300),
        rounds: pick(rounds, quick, 5, 1),
        rebuilds: pick(rebuilds, quick, 3, 1),
        database: database
            .unwrap_or_else(|| if quick { QUICK_DATABASE } else { DATABASE }.to_owned()),
        leave_changes,
    };
    if args.answers < 100 || args.new < 3 || args.rounds == 0 || args.rebuilds == 0 {
        bail!("need --answers >= 100, --new >= 3, --rounds >= 1, --rebuilds >= 1");
    }
    if !args
        .database
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!("--database takes letters, digits and underscores only");
    }
    Ok(args)
}

fn pick<T>(given: Option<T>, quick: bool, full: T, tiny: T) -> T {
    given.unwrap_or(if quick { tiny } else { full })
}

fn value<T: std::str::FromStr>(
    it: &mut impl Iterator<Item = String>,
    flag: &str,
) -> anyhow::Result<T> {
    it.next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{flag} needs a valid value"))
}

// ---------------------------------------------------------------------------------------
// The database.

/// The shipped defaults with the bench's database. `POSTCALL__*` variables of this process
/// are passed on, except the database URL, which stays the bench's own.
fn settings(database: &str) -> anyhow::Result<Settings> {
    let mut env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("POSTCALL__"))
        .collect();
    env.insert(
        "POSTCALL__DATABASE__URL".into(),
        format!("{PG_SERVER}/{database}"),
    );
    Ok(Settings::load_from(None, Some(env))?)
}

async fn admin() -> anyhow::Result<PgConnection> {
    PgConnection::connect(&format!("{PG_SERVER}/postgres"))
        .await
        .context("connecting to PostgreSQL at 127.0.0.1:5432")
}

/// Dropped and created again through postcall (`db::connect` creates it, `db::migrate`
/// applies the migrations), so its schema is exactly production's.
async fn fresh_database(settings: &Settings, name: &str) -> anyhow::Result<PgPool> {
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    admin().await?.execute(drop.as_str()).await?;
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    Ok(pool)
}

/// What autovacuum would do before the next tick (this server runs with it off): a rebuild
/// leaves every old cell dead, a run every change-log row it consumed. The other tables
/// change by ~1 % a round, below autovacuum's thresholds, and are left as they are.
async fn upkeep(pool: &PgPool, tables: &str) -> anyhow::Result<()> {
    pool.execute(format!("VACUUM (ANALYZE) {tables}").as_str())
        .await?;
    Ok(())
}

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

/// Table sizes with their indexes, for the report: the scale a figure was taken at.
async fn sizes(pool: &PgPool) -> anyhow::Result<String> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT c.relname::text, c.reltuples::bigint, pg_size_pretty(pg_total_relation_size(c.oid))
           FROM pg_class c
          WHERE c.relname IN ('calls', 'surveys', 'messages', 'answers', 'score_cells')
            AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
          ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|(name, rows, size)| format!("{name} {rows} rows {size}"))
        .collect::<Vec<_>>()
        .join(", "))
}

// ---------------------------------------------------------------------------------------
// Correctness: what the incremental runs left must be what a rebuild computes.

async fn snapshot(pool: &PgPool) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT c::text FROM score_cells c ORDER BY day, agent_id, queue")
            .fetch_all(pool)
            .await?,
    )
}

/// The rows of `folded` and `rebuilt` that differ, described; None if they are identical.
fn differences(folded: &[String], rebuilt: &[String]) -> Option<String> {
    if folded == rebuilt {
        return None;
    }
    let (a, b): (BTreeSet<_>, BTreeSet<_>) = (folded.iter().collect(), rebuilt.iter().collect());
    let only = |x: &BTreeSet<&String>, y: &BTreeSet<&String>| -> Vec<String> {
        x.difference(y)
            .take(5)
            .map(|s| format!("    {s}"))
            .collect()
    };
    Some(format!(
        "{} cells after the incremental runs, {} after a rebuild; {} rows only in the \
         incremental result, {} only in the rebuild's. First of each:\n  incremental:\n{}\n  \
         rebuild:\n{}",
        folded.len(),
        rebuilt.len(),
        a.difference(&b).count(),
        b.difference(&a).count(),
        only(&a, &b).join("\n"),
        only(&b, &a).join("\n"),
    ))
}

/// The cells' totals against counts taken straight from the tables, by simpler SQL than
/// the aggregation's: catches a mistake both aggregation paths would share.
async fn totals_mismatch(pool: &PgPool, s: &Survey) -> anyhow::Result<Option<String>> {
    let row: Vec<(String, i64, i64)> = sqlx::query_as(
        "WITH sent AS (SELECT id FROM surveys WHERE sent_at IS NOT NULL),
              valid AS (SELECT a.* FROM answers a JOIN sent ON sent.id = a.survey_id WHERE NOT a.late),
              cells AS (SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(responses), 0) AS responses,
                               coalesce(sum(csat_n), 0) AS csat_n, coalesce(sum(nps_n), 0) AS nps_n,
                               coalesce(sum(fcr_n), 0) AS fcr_n, coalesce(sum(fcr_yes), 0) AS fcr_yes,
                               coalesce(sum(sms_segments), 0) AS segments
                          FROM score_cells)
         SELECT 'sent', (SELECT sent FROM cells)::bigint, (SELECT count(*) FROM sent)
         UNION ALL SELECT 'responses', (SELECT responses FROM cells)::bigint,
                          (SELECT count(DISTINCT survey_id) FROM valid)
         UNION ALL SELECT 'csat_n', (SELECT csat_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $2)
         UNION ALL SELECT 'nps_n', (SELECT nps_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $3)
         UNION ALL SELECT 'fcr_n', (SELECT fcr_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $1)
         UNION ALL SELECT 'fcr_yes', (SELECT fcr_yes FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $1 AND value = 'true')
         UNION ALL SELECT 'sms_segments', (SELECT segments FROM cells)::bigint,
                          (SELECT coalesce(sum(m.segments), 0) FROM messages m JOIN sent ON sent.id = m.survey_id
                            WHERE m.direction = 'outbound'
                              AND m.status IN ('queued', 'sent', 'delivered', 'undelivered'))::bigint",
    )
    .bind(&s.answered[0])
    .bind(&s.answered[1])
    .bind(&s.answered[2])
    .fetch_all(pool)
    .await?;
    let wrong: Vec<String> = row
        .iter()
        .filter(|(_, cells, tables)| cells != tables)
        .map(|(name, cells, tables)| format!("{name}: cells {cells}, tables {tables}"))
        .collect();
    Ok((!wrong.is_empty()).then(|| wrong.join("; ")))
}

// ---------------------------------------------------------------------------------------
// The run.

/// One timed aggregation and the baseline count right after it.
struct Sample {
    summary: Summary,
    ms: f64,
    baseline_ms: f64,
    answers: i64,
}

struct Results {
    seed_seconds: f64,
    rebuilds: Vec<Sample>,
    rounds: Vec<Sample>,
    verify: Sample,
    mismatch: Option<String>,
}

async fn sample(
    pool: &PgPool,
    run: impl Future<Output = anyhow::Result<Summary>>,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let summary = run.await?;
    let ms = ms(started);
    let (answers, baseline_ms) = count_answers(pool).await?;
    Ok(Sample {
        summary,
        ms,
        baseline_ms,
        answers,
    })
}

fn describe(s: &Sample) -> String {
    let f = &s.summary.folded;
    format!(
        "{:.0} ms (changes {}, surveys {}, cells {}); count(*) of {} answers {:.1} ms",
        s.ms, f.changes, f.surveys, f.cells, s.answers, s.baseline_ms
    )
}

async fn run(args: &Args) -> anyhow::Result<Results> {
    let settings = settings(&args.database)?;
    let survey = Survey::from_settings(&settings)?;
    let pool = fresh_database(&settings, &args.database).await?;
    let (next, seed_seconds) = seed_history(&settings, &survey, args.answers).await?;
    // Warms the cache for the baseline as the seed's VACUUM did for the tables.
    count_answers(&pool).await?;

    let aggregator = Aggregator::new(pool.clone(), &settings)?;
    let rebuilds = time_rebuilds(&pool, &aggregator, args.rebuilds).await?;
    println!("{}", sizes(&pool).await?);
    let (rounds, next) = time_rounds(&pool, &aggregator, &survey, next, args).await?;
    let (verify, mismatch) = verify(&pool, &aggregator, &survey).await?;
    if args.leave_changes {
        seed::batch(&pool, &survey, next, args.new).await?;
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM score_changes")
            .fetch_one(&pool)
            .await?;
        println!(
            "left one more batch of {} answers unfolded: {pending} rows in score_changes",
            args.new
        );
    }
    pool.close().await;
    Ok(Results {
        seed_seconds,
        rebuilds,
        rounds,
        verify,
        mismatch,
    })
}

/// Returns the next free call index and the seed's seconds.
async fn seed_history(
    settings: &Settings,
    survey: &Survey,
    answers: u64,
) -> anyhow::Result<(i64, f64)> {
    let calls = seed::history_calls(answers);
    println!("seeding {calls} calls of history for ~{answers} answers…");
    let mut conn = PgConnection::connect(&settings.database.url).await?;
    let (next, timings) = seed::history(&mut conn, survey, calls).await?;
    conn.close().await?;
    let steps: Vec<String> = timings
        .0
        .iter()
        .map(|(step, s)| format!("{step} {s:.1}s"))
        .collect();
    println!("seed {:.1}s: {}", timings.total(), steps.join(", "));
    Ok((next, timings.total()))
}

async fn time_rebuilds(
    pool: &PgPool,
    aggregator: &Aggregator,
    times: usize,
) -> anyhow::Result<Vec<Sample>> {
    let mut rebuilds = Vec::new();
    for i in 1..=times {
        let s = sample(pool, aggregator.rebuild())
            .await
            .context("rebuild")?;
        println!("rebuild {i}/{times}: {}", describe(&s));
        rebuilds.push(s);
        upkeep(pool, "score_cells, score_changes").await?;
    }
    Ok(rebuilds)
}

/// Each round: a batch of new answers, then an incremental run. Returns the samples and
/// the next free call index.
async fn time_rounds(
    pool: &PgPool,
    aggregator: &Aggregator,
    survey: &Survey,
    mut next: i64,
    args: &Args,
) -> anyhow::Result<(Vec<Sample>, i64)> {
    let mut rounds = Vec::new();
    for i in 1..=args.rounds {
        let started = Instant::now();
        next = seed::batch(pool, survey, next, args.new).await?;
        let batch_ms = ms(started);
        let changed: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT survey_id) FROM score_changes")
                .fetch_one(pool)
                .await?;
        let s = sample(pool, aggregator.run_now())
            .await
            .context("incremental run")?;
        println!(
            "round {i}/{}: {} new answers on {changed} surveys written in {batch_ms:.0} ms; \
             incremental {}",
            args.rounds,
            args.new,
            describe(&s)
        );
        rounds.push(s);
        upkeep(pool, "score_changes").await?;
    }
    Ok((rounds, next))
}

/// The cells the incremental runs left against a rebuild's, and the rebuild's totals against
/// the tables. Returns the rebuild's sample and what differed, if anything.
async fn verify(
    pool: &PgPool,
    aggregator: &Aggregator,
    survey: &Survey,
) -> anyhow::Result<(Sample, Option<String>)> {
    let folded = snapshot(pool).await?;
    let rebuild = sample(pool, aggregator.rebuild())
        .await
        .context("verifying rebuild")?;
    let rebuilt = snapshot(pool).await?;
    let mut mismatch = differences(&folded, &rebuilt);
    if let Some(wrong) = totals_mismatch(pool, survey).await? {
        mismatch = Some(format!(
            "{}cell totals differ from the tables: {wrong}",
            mismatch.map(|m| m + "\n").unwrap_or_default()
        ));
    }
    Ok((rebuild, mismatch))
}

// ---------------------------------------------------------------------------------------
// The report.

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.is_empty() {
        f64::NAN
    } else if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// Median of per-sample ratios to the count taken right after each, with their range.
fn ratio(samples: &[Sample]) -> String {
    let ratios: Vec<f64> = samples.iter().map(|s| s.ms / s.baseline_ms).collect();
    let (min, max) = min_max(&ratios);
    format!("{:.2} ({min:.2}–{max:.2})", median(&ratios))
}

fn field(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    median(&samples.iter().map(f).collect::<Vec<_>>())
}

fn print_report(args: &Args, r: &Results) {
    let times = |s: &[Sample]| s.iter().map(|s| s.ms).collect::<Vec<_>>();
    let inc = &r.rounds;
    let (lo, hi) = min_max(&times(inc));
    println!();
    println!(
        "aggregate incremental changes={:.0} surveys={:.0} cells={:.0} median={:.0}ms \
         spread={lo:.0}–{hi:.0}ms baseline_count={:.1}ms ratio={} new_answers={} stored={} \
         rounds={}",
        field(inc, |s| s.summary.folded.changes as f64),
        field(inc, |s| s.summary.folded.surveys as f64),
        field(inc, |s| s.summary.folded.cells as f64),
        median(&times(inc)),
        field(inc, |s| s.baseline_ms),
        ratio(inc),
        args.new,
        inc.last().map_or(0, |s| s.answers),
        inc.len(),
    );
    let reb = &r.rebuilds;
    let (lo, hi) = min_max(&times(reb));
    println!(
        "aggregate rebuild answers={} median={:.0}ms spread={lo:.0}–{hi:.0}ms \
         baseline_count={:.1}ms ratio={} surveys={:.0} cells={:.0} rebuilds={}",
        reb.first().map_or(0, |s| s.answers),
        median(&times(reb)),
        field(reb, |s| s.baseline_ms),
        ratio(reb),
        field(reb, |s| s.summary.folded.surveys as f64),
        field(reb, |s| s.summary.folded.cells as f64),
        reb.len(),
    );
    println!(
        "aggregate verify rebuild answers={} time={:.0}ms baseline_count={:.1}ms seed={:.1}s",
        r.verify.answers, r.verify.ms, r.verify.baseline_ms, r.seed_seconds
    );
    println!(
        "(surveys: sent surveys recounted, every one of every touched cell; the incremental \
         figure's surveys grow by round, as the new calls pile into today's and yesterday's cells)"
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "database {}: ~{} answers stored, {} rounds of {} new answers, {} rebuilds, {} cores",
        args.database,
        args.answers,
        args.rounds,
        args.new,
        args.rebuilds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let results = match run(&args).await {
        Ok(results) => results,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    print_report(&args, &results);
    match &results.mismatch {
        None => {
            println!(
                "correctness: OK (the incremental runs' {} cells equal a rebuild's, row for \
                 row, and their totals equal counts from the tables)",
                results.verify.summary.folded.cells
            );
            ExitCode::SUCCESS
        }
        Some(what) => {
            println!("correctness: FAIL\n{what}");
            ExitCode::FAILURE
        }
    }
}

/// Quiet by default; `BENCH_LOG=postcall=debug` shows postcall's own logs.
fn init_tracing() {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .init();
    }
}
