//! `postcall-faults`: the fault suite's driver (run it through `scripts/faults`).
//!
//! It starts a private PostgreSQL and RabbitMQ in a temporary directory, on free ports,
//! so that killing or restarting them disturbs nothing else on the machine; runs real
//! `postcall` processes against them and a local SMS provider; breaks things; and counts
//! what came out from the database and the provider's own record. One line per scenario,
//! then `N passed, M failed`; the exit code is 0 only when every scenario passed.

mod aliyun;
mod customer;
mod garble;
mod lab;
mod ledger;
mod pg;
mod process;
mod provider;
mod publisher;
mod rabbit;
mod report;
mod scenarios;
mod tally;
mod tencent;
mod twilio;
mod worker;

use std::{path::PathBuf, process::ExitCode, time::Instant};

use clap::Parser;

use crate::{lab::Lab, report::Outcome};

#[derive(Parser)]
#[command(about = "Fault suite: kills, outages, provider faults, replicas, abuse")]
struct Cli {
    /// Run only these scenarios (comma-separated names; see --list).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// Keep the work directory (data, logs) instead of removing it.
    #[arg(long)]
    keep: bool,
    /// The `postcall` binary to test; by default the one next to this executable.
    #[arg(long)]
    postcall: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list {
        for s in scenarios::ALL {
            println!("{:<16} {}", s.name, s.about);
        }
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<_> = scenarios::ALL
        .iter()
        .filter(|s| cli.only.is_empty() || cli.only.iter().any(|n| n == s.name))
        .collect();
    if let Some(unknown) = cli
        .only
        .iter()
        .find(|n| !scenarios::ALL.iter().any(|s| s.name == n.as_str()))
    {
        eprintln!("faults: no scenario named {unknown:?} (see --list)");
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("building the tokio runtime");
    let code = runtime.block_on(async {
        tokio::select! {
            code = run(&cli, &chosen) => code,
            _ = interrupted() => {
                eprintln!("faults: interrupted; stopping the private services");
                ExitCode::from(130)
            }
        }
    });
    // Workers and services are stopped by their guards as the futures above are dropped.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    code
}

async fn run(cli: &Cli, chosen: &[&scenarios::Scenario]) -> ExitCode {
    let started = Instant::now();
    let lab = match Lab::start(cli.postcall.clone(), cli.keep).await {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("faults: could not start the private services: {e:#}");
            println!("0 passed, {} failed", chosen.len());
            return ExitCode::FAILURE;
        }
    };
    eprintln!("faults: {}", lab.describe());
    let (mut passed, mut failed) = (0, 0);
    for scenario in chosen {
        let outcome = scenarios::run(scenario, &lab).await;
        println!("{}", outcome.line(scenario.name));
        if let Outcome::Failed { logs, .. } = &outcome {
            for log in logs {
                eprintln!("{}", report::excerpt(log));
            }
        }
        if outcome.passed() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    lab.stop().await;
    println!(
        "{passed} passed, {failed} failed ({} s)",
        started.elapsed().as_secs()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
