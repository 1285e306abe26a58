//! The `postcall` binary: parse the command line, load config, dispatch.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use postcall::{app, config::Settings, store::db, telemetry};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(version, about = "Post-call SMS satisfaction surveys")]
struct Cli {
    /// A TOML file overlaid on config/default.toml (then POSTCALL__* variables on top).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the worker: migrations, then ingest and HTTP (the default).
    Run,
    /// Create the database if needed and apply migrations, then exit.
    Migrate,
    /// Validate the configuration, print it with secrets hidden, and exit.
    CheckConfig,
    /// Aggregate scores once, now, and print what was folded in.
    Aggregate {
        /// Recompute every score from the stored answers instead of folding in changes.
        #[arg(long)]
        rebuild: bool,
    },
    /// Erase now the personal data past `retention.personal_data_days` (as the aggregation
    /// role does after each run), and print how many records of each kind were erased.
    Retention {
        /// Only count what is due; erase nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Move dead-lettered events back to the calls exchange (after a fix); prints each
    /// event's call_id and the reason it was dead-lettered.
    ReplayDeadLetters {
        /// Only list them; leave the dead-letter queue as it is.
        #[arg(long)]
        dry_run: bool,
        /// At most this many events.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
    },
    /// A walk-through: an hour of calls through the real worker against the local services
    /// and the console provider, simulated customers' replies, the score table; in a
    /// database and broker names of its own, removed at the end.
    Demo {
        /// How many calls to publish.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u16).range(1..=20_000))]
        calls: u16,
        /// Seed for the calls and the replies: the same seed gives the same table.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep the demo database afterwards (the next demo replaces it).
        #[arg(long)]
        keep: bool,
        /// Suffix of the demo's database and broker names (`postcall_demo`, `calls.demo`).
        #[arg(long, env = "POSTCALL_DEMO_NAMESPACE", default_value = "demo",
              value_parser = postcall::demo::check_namespace)]
        namespace: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("postcall: refusing to start: {}", printable(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Run);
    if let Command::CheckConfig = command {
        return check_config(&settings);
    }
    if let Command::Demo { .. } = command {
        postcall::demo::quiet_logs(&mut settings.log);
    }
    telemetry::init(&settings.log);
    let runtime = tokio::runtime::Runtime::new().expect("building the tokio runtime");
    let result = runtime.block_on(async {
        match command {
            Command::ReplayDeadLetters { dry_run, limit } => {
                let done = postcall::ingest::replay::replay(&settings.amqp, dry_run, limit).await?;
                eprintln!(
                    "postcall: {} replayed, {} listed (dry run)",
                    done.moved, done.listed
                );
                Ok(())
            }
            Command::Aggregate { rebuild } => {
                let pool = db::connect(&settings.database).await?;
                db::migrate(&pool).await?;
                let aggregator = postcall::aggregate::Aggregator::new(pool, &settings.runtime()?);
                let summary = if rebuild {
                    aggregator.rebuild().await?
                } else {
                    aggregator.run_now().await?
                };
                println!("postcall: {summary}");
                Ok(())
            }
            Command::Retention { dry_run } => {
                let pool = db::connect(&settings.database).await?;
                db::migrate(&pool).await?;
                let Some(policy) = settings.runtime()?.retention else {
                    anyhow::bail!("retention.enabled is false: nothing is erased");
                };
                let eraser = postcall::aggregate::retention::Eraser::new(pool, policy);
                if dry_run {
                    let due = eraser.due().await?;
                    println!("postcall: due for erasure (dry run): {due}");
                } else {
                    let lock = postcall::aggregate::retention::Lock::Wait;
                    println!("postcall: {}", eraser.run(lock).await?);
                }
                Ok(())
            }
            Command::Demo {
                calls,
                seed,
                keep,
                namespace,
            } => {
                let options = postcall::demo::Options {
                    calls: calls.into(),
                    seed,
                    keep,
                    namespace,
                };
                postcall::demo::run(settings, options).await
            }
            Command::Migrate => {
                let pool = db::connect(&settings.database).await?;
                db::migrate(&pool).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            _ => {
                let shutdown = CancellationToken::new();
                app::cancel_on_signal(shutdown.clone());
                app::run(settings, shutdown).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let shown = printable(&format!("{e:#}"));
            tracing::error!(error = shown, "postcall failed");
            eprintln!("postcall: {shown}");
            ExitCode::FAILURE
        }
    }
}

/// An error as it may be printed: it can echo a broker's, a database's or an event's text,
/// with a phone number or control characters in it.
fn printable(text: &str) -> String {
    telemetry::escape_controls(&postcall::domain::phone::redact(text)).into_owned()
}

fn check_config(settings: &Settings) -> ExitCode {
    match toml::to_string_pretty(settings) {
        Ok(text) => {
            println!("{text}");
            eprintln!("postcall: configuration is valid");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("postcall: cannot print configuration: {e}");
            ExitCode::FAILURE
        }
    }
}
