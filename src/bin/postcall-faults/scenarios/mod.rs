//! The scenarios, in the order they run. Each gets a site of its own (database and virtual
//! host), starts its own workers and provider, and fills in its report.

mod abuse;
mod kill9;
mod outage;
mod provider_faults;
mod quiet;
mod replicas;

use std::{panic::AssertUnwindSafe, time::Duration, time::Instant};

use futures_util::{FutureExt, future::LocalBoxFuture};

use crate::{
    lab::Lab,
    report::{Outcome, Report},
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
        name: "provider-faults",
        about: "the provider answers 500, 429 + Retry-After, hangs, answers slowly, refuses",
        run: |lab, report| Box::pin(provider_faults::run(lab, report)),
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
        about: "quiet hours and opt-outs under load, a kill -9 and provider faults",
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
