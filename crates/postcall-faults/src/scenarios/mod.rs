//! The scenarios, in the order they run. Each gets a site of its own (database and virtual
//! host), starts its own workers and provider, and fills in its report.

mod abuse;
mod caps;
mod generated;
mod kill9;
mod outage;
mod platform;
mod provider_faults;
mod quiet;
mod reconcile;
mod replicas;

use std::{panic::AssertUnwindSafe, time::Duration, time::Instant};

use futures_util::{FutureExt, future::LocalBoxFuture};
use serde_json::Value;

use crate::{
    lab::{Lab, Site},
    provider::Provider,
    publisher::{Publisher, event, phone},
    report::{Outcome, Report},
    tally,
    worker::{self, Worker},
};

type Run = for<'a> fn(&'a Lab, &'a mut Report) -> LocalBoxFuture<'a, anyhow::Result<()>>;

pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
    run: Run,
}

pub const ALL: &[Scenario] = &[
    Scenario {
        name: "kill9",
        about: "kill -9 of the worker at random moments while 10,000 events flow",
        run: |lab, report| Box::pin(kill9::run(lab, report)),
    },
    Scenario {
        name: "abuse",
        about: "forged, unsigned, stale, replayed and oversized callbacks change nothing",
        run: |lab, report| Box::pin(abuse::run(lab, report)),
    },
    Scenario {
        name: "generated",
        about: "10,000 generated event bodies and 10,000 generated callbacks: dead-lettered or refused",
        run: |lab, report| Box::pin(generated::run(lab, report)),
    },
    Scenario {
        name: "provider-faults",
        about: "the provider answers 500, 429 + Retry-After, hangs, answers slowly, refuses",
        run: |lab, report| Box::pin(provider_faults::run(lab, report)),
    },
    Scenario {
        name: "provider-faults-tencent",
        about: "a Tencent-like platform takes sends and loses the answers: reconciled, never sent twice",
        run: |lab, report| Box::pin(reconcile::run(lab, report, platform::Platform::Tencent)),
    },
    Scenario {
        name: "provider-faults-aliyun",
        about: "an Aliyun-like platform takes sends and loses the answers: found by OutId, never sent twice",
        run: |lab, report| Box::pin(reconcile::run(lab, report, platform::Platform::Aliyun)),
    },
    Scenario {
        name: "provider-faults-twilio",
        about: "a Twilio-like platform takes sends and loses the answers: found by body, never sent twice",
        run: |lab, report| Box::pin(reconcile::run(lab, report, platform::Platform::Twilio)),
    },
    Scenario {
        name: "caps",
        about: "Tencent's 2-a-day and 30-s limits, customers answering everything, a replica killed: never past a cap",
        run: |lab, report| Box::pin(caps::run(lab, report, platform::Platform::Tencent)),
    },
    Scenario {
        name: "caps-aliyun",
        about: "Aliyun's kind of cap (2 in any 24 h, as set in postcall), replies by SmsUp, a replica killed: never past a cap",
        run: |lab, report| Box::pin(caps::run(lab, report, platform::Platform::Aliyun)),
    },
    Scenario {
        name: "rabbitmq-restart",
        about: "RabbitMQ stopped and started again while events flow",
        run: |lab, report| Box::pin(outage::rabbitmq(lab, report)),
    },
    Scenario {
        name: "postgres-restart",
        about: "PostgreSQL stopped and started again while events flow",
        run: |lab, report| Box::pin(outage::postgres(lab, report)),
    },
    Scenario {
        name: "replicas",
        about: "three replicas on one queue and database, aggregating every second",
        run: |lab, report| Box::pin(replicas::run(lab, report)),
    },
    Scenario {
        name: "quiet-optout",
        about: "quiet hours and opt-outs under load, a kill -9, provider faults, both restarts",
        run: |lab, report| Box::pin(quiet::run(lab, report)),
    },
];

/// A scenario that runs longer than this has hung; it fails, and its workers are killed.
const LIMIT: Duration = Duration::from_secs(300);

pub async fn run(scenario: &Scenario, lab: &Lab) -> Outcome {
    let started = Instant::now();
    let mut report = Report::default();
    let running = tokio::time::timeout(LIMIT, (scenario.run)(lab, &mut report));
    let error = match AssertUnwindSafe(running).catch_unwind().await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(e),
        Ok(Err(_)) => Some(anyhow::anyhow!("did not finish within {LIMIT:?}")),
        Err(panic) => Some(anyhow::anyhow!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )),
    };
    report.finish(started.elapsed().as_secs(), error)
}

/// The rate limiter far above any scenario's flow: they are paced by their own event rates.
const UNLIMITED: [(&str, &str); 2] = [
    ("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "500"),
    (
        "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
        "2000",
    ),
];

/// Starts `names` as workers of `site` sending through `provider`, with `extra` settings
/// (the rate limiter out of the way unless they say otherwise); their logs go into the
/// report; returns once every one answers `/readyz`.
pub async fn start_workers(
    site: &Site,
    provider: &Provider,
    names: &[&str],
    extra: &[(&str, &str)],
    report: &mut Report,
) -> anyhow::Result<Vec<Worker>> {
    start_replicas(site, provider.env(), &[], names, extra, report).await
}

/// As [`start_workers`], on a platform's settings `platform` and with `args` after `run`.
pub async fn start_replicas(
    site: &Site,
    platform: Vec<(String, String)>,
    args: &[String],
    names: &[&str],
    extra: &[(&str, &str)],
    report: &mut Report,
) -> anyhow::Result<Vec<Worker>> {
    let mut env = platform;
    // A later setting of the same key wins.
    env.extend(worker::env(&UNLIMITED));
    env.extend(worker::env(extra));
    let mut workers = Vec::new();
    for name in names {
        let w = Worker::start_with(site, name, &env, args)?;
        report.watch(&w.log);
        workers.push(w);
    }
    let client = reqwest::Client::new();
    for w in &mut workers {
        w.ready(&client, Duration::from_secs(60)).await?;
    }
    Ok(workers)
}

/// `--config FILE` for a worker, the file in the site's logs holding `toml` (a platform's
/// approved templates); nothing without it.
pub fn config_args(site: &Site, toml: Option<String>) -> anyhow::Result<Vec<String>> {
    let Some(toml) = toml else {
        return Ok(Vec::new());
    };
    let config = site.logs.join(format!("{}-config.toml", site.name));
    std::fs::write(&config, toml)?;
    Ok(vec!["--config".to_owned(), config.display().to_string()])
}

/// A send whose answer was lost is looked up soon: requests time out after 2 s, lookups
/// start 2 s after, due work is polled for every 250 ms.
pub const LOOKUP_SOON: [(&str, &str); 3] = [
    ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "2"),
    ("POSTCALL__DISPATCH__RECONCILE__GRACE_SECONDS", "2"),
    ("POSTCALL__DISPATCH__POLL_INTERVAL_MS", "250"),
];

/// One worker, as [`start_workers`].
pub async fn start_worker(
    site: &Site,
    provider: &Provider,
    extra: &[(&str, &str)],
    report: &mut Report,
) -> anyhow::Result<Worker> {
    let mut workers = start_workers(site, provider, &["worker"], extra, report).await?;
    Ok(workers.remove(0))
}

/// `n` eligible calls named `{name}-{i}`, ended two minutes ago, one phone each (phone
/// prefix `prefix`, so that scenarios never share a customer), in `zone(i)` if any.
pub fn calls(
    name: &str,
    prefix: u32,
    n: u32,
    zone: impl Fn(u32) -> Option<&'static str>,
) -> (Vec<String>, Vec<Value>) {
    let ended = chrono::Utc::now() - chrono::TimeDelta::minutes(2);
    (0..n)
        .map(|i| {
            let call = format!("{name}-{i}");
            let event = event(&call, &phone(prefix, i), ended, zone(i));
            (call, event)
        })
        .unzip()
}

/// `n` customers (phone prefix `prefix`) in an open survey, waiting to answer: their phones.
pub async fn open_surveys(
    site: &Site,
    name: &str,
    prefix: u32,
    n: u32,
) -> anyhow::Result<Vec<String>> {
    let (_, events) = calls(name, prefix, n, |_| None);
    publish(site, &events, 100.0, Duration::from_secs(30)).await?;
    let opened = tally::wait_for(Duration::from_secs(60), || async {
        site.count("SELECT count(*) FROM surveys WHERE state = 'open'")
            .await
            == i64::from(n)
    })
    .await;
    anyhow::ensure!(
        opened.is_some(),
        "surveys did not open: {}",
        tally::states(site).await
    );
    Ok((0..n).map(|i| phone(prefix, i)).collect())
}

/// Publishes `events` to `site` at about `per_second`, through outages for up to
/// `patience` a chunk; how many chunks had to be published again.
pub async fn publish(
    site: &Site,
    events: &[Value],
    per_second: f64,
    patience: Duration,
) -> anyhow::Result<u32> {
    let mut publisher = Publisher::new(&site.amqp_url);
    let published = publisher.publish(events, per_second, patience).await;
    let retried = publisher.retried_chunks;
    publisher.close().await;
    published.map(|()| retried)
}

/// Waits until `phones` customers got an SMS, then until nothing is left in flight; how
/// long each took (None: not within its limit).
pub async fn drain(
    site: &Site,
    provider: &Provider,
    phones: usize,
) -> (Option<Duration>, Option<Duration>) {
    let reached = tally::wait_for(Duration::from_secs(120), || async {
        tally::phones_reached(provider) >= phones
    })
    .await;
    let settled = tally::wait_for(Duration::from_secs(60), || async {
        tally::in_flight(site).await == 0
    })
    .await;
    (reached, settled)
}

/// SIGTERMs every worker; each must exit cleanly within the shutdown deadline.
pub async fn stop_workers(workers: &mut [Worker], report: &mut Report) {
    let mut stopped = Vec::new();
    for w in workers {
        stopped.push(w.terminate(Duration::from_secs(40)).await);
    }
    report.check(
        stopped.iter().all(|s| s.is_some_and(|s| s.success())),
        format!("SIGTERM at the end: {stopped:?}"),
    );
}
