//! The `memory` stage: resident memory of a real `postcall run` process (every default
//! role, console provider, its own database and broker names through `POSTCALL__*`) while
//! events arrive at a steady rate (default 3,000/s for 20 s; surveys due at once, so
//! dispatch sends meanwhile). /proc/PID/status is sampled every 100 ms from the first
//! event until every event is recorded; the line's `rss` is the maximum (target < 64 MiB).

mod binary;
mod load;

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use chrono::TimeDelta;
use lapin::{options::QueueDeclareOptions, types::FieldTable};
use sqlx::postgres::PgPoolOptions;
use tokio_util::task::AbortOnDropHandle;

use crate::{
    Args,
    ingest::events::Events,
    proc_stats::rss_mib,
    report::Line,
    services::{AMQP_URL, Names, amqp_connect},
    stats::{describe, median},
};

const RATE: usize = 3_000;
const SECONDS: usize = 20;
const SAMPLE: Duration = Duration::from_millis(100);
const TARGET_MIB: f64 = 64.0;

pub async fn run(args: &Args) -> anyhow::Result<Line> {
    let (rate, n) = if args.quick {
        (300, args.size(0, 300))
    } else {
        (RATE, args.size(RATE * SECONDS, 0))
    };
    let postcall = binary::postcall()?;
    let mut maxima = Vec::new();
    let mut medians = Vec::new();
    let mut idle = Vec::new();
    for run in 1..=args.runs() {
        let names = Names::new("memory");
        let log = std::env::temp_dir().join(format!("{}.log", names.database));
        let result = measure(&postcall, &names, &log, n, rate).await;
        names.clean_up().await;
        let samples = match result {
            Ok(samples) => samples,
            Err(e) => {
                eprintln!("memory: postcall's log is {}", log.display());
                return Err(e);
            }
        };
        let _ = std::fs::remove_file(&log);
        let loaded: Vec<f64> = samples.loaded.clone();
        let max = loaded.iter().copied().fold(f64::NAN, f64::max);
        eprintln!(
            "run {run}/{}: {n} events at {rate}/s: rss max {max:.1} MiB, under load {} MiB, \
             idle before {:.1} MiB ({} samples)",
            args.runs(),
            describe(&loaded, 1),
            samples.idle,
            loaded.len()
        );
        maxima.push(max);
        medians.push(median(&loaded));
        idle.push(samples.idle);
    }
    let max = median(&maxima);
    eprintln!(
        "memory: max rss {} MiB (target < {TARGET_MIB:.0}{}), median under load {} MiB, idle {} MiB",
        describe(&maxima, 1),
        if max < TARGET_MIB {
            ", met"
        } else {
            ", MISSED"
        },
        describe(&medians, 1),
        describe(&idle, 1)
    );
    Ok(Line {
        rss_mib: Some(max),
        ..Line::new("memory")
    }
    .with("rss_median", format!("{:.1}", median(&medians)))
    .with("rss_idle", format!("{:.1}", median(&idle)))
    .with("load", format!("{rate}/s")))
}

struct Samples {
    idle: f64,
    loaded: Vec<f64>,
}

async fn measure(
    postcall: &std::path::Path,
    names: &Names,
    log: &std::path::Path,
    n: usize,
    rate: usize,
) -> anyhow::Result<Samples> {
    let mut child = spawn(postcall, names, log)?;
    let result = async {
        let pid = child.id().to_string();
        wait_for_consumer(&names.queue, &mut child).await?;
        let idle = rss_mib(&pid).context("postcall's RSS")?;

        let events = Events::ended_ago(TimeDelta::minutes(6));
        let connection = amqp_connect("postcall-bench-memory").await?;
        let channel = connection.create_channel().await?;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let sampler = AbortOnDropHandle::new(tokio::spawn(sample(pid.clone(), samples.clone())));
        let published = load::steady(&channel, &names.exchange, &events, n, rate).await;
        let _ = connection.close(200, "bench done".into()).await;
        published?;
        all_recorded(names, n).await?;
        drop(sampler);
        ensure!(child.try_wait()?.is_none(), "postcall exited under load");
        let loaded = samples.lock().expect("the sampler does not panic").clone();
        ensure!(!loaded.is_empty(), "no RSS sample was taken");
        anyhow::Ok(Samples { idle, loaded })
    }
    .await;
    stop(&mut child);
    result
}

fn spawn(
    postcall: &std::path::Path,
    names: &Names,
    log: &std::path::Path,
) -> anyhow::Result<Child> {
    let out = std::fs::File::create(log).context("creating postcall's log file")?;
    Command::new(postcall)
        .arg("run")
        .env("POSTCALL__DATABASE__URL", names.database_url())
        .env("POSTCALL__AMQP__URL", AMQP_URL)
        .env("POSTCALL__AMQP__EXCHANGE", &names.exchange)
        .env("POSTCALL__AMQP__QUEUE", &names.queue)
        .env("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &names.dlx)
        .env("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &names.dlq)
        .env("POSTCALL__HTTP__BIND", "127.0.0.1:0")
        .env("POSTCALL__PROVIDER__KIND", "console")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", postcall.display()))
}

/// Ready when its consumer is on the queue (it declares the queue itself).
async fn wait_for_consumer(queue: &str, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let connection = amqp_connect("postcall-bench-memory-wait").await?;
    let result = async {
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("postcall exited before consuming: {status}");
            }
            let channel = connection.create_channel().await?;
            let options = QueueDeclareOptions {
                passive: true,
                ..Default::default()
            };
            // A passive declare of a queue not there yet closes the channel: a fresh one each time.
            if let Ok(q) = channel
                .queue_declare(queue.into(), options, FieldTable::default())
                .await
                && q.consumer_count() > 0
            {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "postcall did not start consuming within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    let _ = connection.close(200, "bench done".into()).await;
    result
}

async fn sample(pid: String, samples: Arc<Mutex<Vec<f64>>>) {
    let mut ticks = tokio::time::interval(SAMPLE);
    loop {
        ticks.tick().await;
        if let Some(rss) = rss_mib(&pid) {
            samples.lock().expect("no panics while held").push(rss);
        }
    }
}

async fn all_recorded(names: &Names, n: usize) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&names.database_url())
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let result = loop {
        let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM calls")
            .fetch_one(&pool)
            .await?;
        if calls as usize >= n {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "{calls} of {n} events recorded after 120 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    pool.close().await;
    result
}

/// SIGTERM, then SIGKILL if it has not stopped within its shutdown deadline.
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid, which we have not yet waited for.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
