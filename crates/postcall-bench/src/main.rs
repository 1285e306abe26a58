//! `postcall-bench`: every stage of postcall measured against this machine's own limit.
//!
//! `cargo run --release --bin postcall-bench -- STAGE [--runs N] [--quick]`, STAGE one of
//! `ingest`, `dispatch`, `webhook`, `aggregate`, `memory`, `retention`, `history` or `all`. Each stage sets up its own
//! database, broker names and local provider, runs itself and its baseline back to back
//! `--runs` times (interleaved, so a noisy minute hits both alike), and prints one line:
//!
//! `STAGE rate=<n>/s baseline=<n>/s ratio=<r> p99=<ms> rss=<MiB>` (fields that do not apply
//! are left out; stage-specific figures follow as more `key=value` fields).
//!
//! Only result lines go to stdout; progress and the detail behind each figure go to stderr.
//! The exit code is 1 if a stage failed to run or its results did not check out (a lost or
//! duplicated message is a failure, not a slow run); missed targets are reported, not fatal.
//! See BENCHMARKS.md for the figures and what limits them.

mod aggregate;
mod dispatch;
mod history;
mod ingest;
mod memory;
mod proc_stats;
mod report;
mod retention;
mod services;
mod stats;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use crate::report::Line;

#[derive(Parser, Debug, Clone)]
#[command(about = "Benchmarks: each stage against a baseline measured in the same run")]
pub struct Cli {
    /// The stage to measure.
    #[arg(value_enum)]
    stage: Stage,
    /// How many times each stage and its baseline run (interleaved); figures are medians.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// One tiny iteration of everything: proves the bench works, measures nothing.
    #[arg(long)]
    quick: bool,
    /// Items per run (events, sends, replies, answers); each stage has its own default.
    #[arg(long)]
    size: Option<usize>,
    /// Calls of history in the full database of the `history` stage (default 10 M).
    #[arg(long)]
    history: Option<u64>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Ingest,
    Dispatch,
    Webhook,
    Aggregate,
    Memory,
    Retention,
    History,
    All,
}

/// What every stage is given.
#[derive(Debug, Clone)]
pub struct Args {
    pub runs: usize,
    pub quick: bool,
    pub size: Option<usize>,
    pub history: Option<u64>,
}

impl Args {
    /// `--size`, else the stage's default, else (with `--quick`) its tiny size.
    pub fn size(&self, full: usize, tiny: usize) -> usize {
        self.size.unwrap_or(if self.quick { tiny } else { full })
    }

    pub fn runs(&self) -> usize {
        if self.quick { 1 } else { self.runs.max(1) }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    services::init_tracing();
    let args = Args {
        runs: cli.runs,
        quick: cli.quick,
        size: cli.size,
        history: cli.history,
    };
    let stages = match cli.stage {
        Stage::All => vec![
            Stage::Ingest,
            Stage::Dispatch,
            Stage::Webhook,
            Stage::Aggregate,
            Stage::Memory,
            Stage::Retention,
            Stage::History,
        ],
        one => vec![one],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut failed = false;
    for stage in stages {
        match runtime.block_on(run(stage, &args)) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("{stage:?}: failed: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(stage: Stage, args: &Args) -> anyhow::Result<Line> {
    match stage {
        Stage::Ingest => ingest::run(args).await,
        Stage::Dispatch => dispatch::run(args).await,
        Stage::Webhook => webhook::run(args).await,
        Stage::Aggregate => aggregate::run(args).await,
        Stage::Memory => memory::run(args).await,
        Stage::Retention => retention::run(args).await,
        Stage::History => history::run(args).await,
        Stage::All => unreachable!("expanded above"),
    }
}
