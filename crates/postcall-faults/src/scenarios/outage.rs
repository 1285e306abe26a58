//! RabbitMQ, then PostgreSQL, stopped and started again while events flow and SMS go out.
//! The worker is left alone: it must notice (`/readyz` 503 during the outage), recover by
//! itself within 30 s of the service's return (`/readyz` 200 again), and drain the backlog
//! with nothing lost or sent twice. The publisher plays a platform that republishes what
//! the broker did not confirm.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::{calls, drain, publish, start_worker, stop_workers};
use crate::{
    lab::Lab,
    provider::Provider,
    report::Report,
    tally::{self, FirstSms},
};

const EVENTS: u32 = 3_000;
const PER_SECOND: f64 = 150.0;
/// When the service goes down, after the flow started, and for how long.
const DOWN_AFTER: Duration = Duration::from_secs(5);
/// `POSTCALL_FAULTS_OUTAGE_SECONDS` lengthens it, to look at the worker's backoff after a
/// long outage.
fn down_for() -> Duration {
    let seconds = std::env::var("POSTCALL_FAULTS_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    Duration::from_secs(seconds)
}
const RECOVERY: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Service {
    RabbitMq,
    Postgres,
}

pub async fn rabbitmq(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    outage(lab, report, Service::RabbitMq).await
}

pub async fn postgres(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    outage(lab, report, Service::Postgres).await
}

/// `/readyz` answers as they came: when, and the status (None: no answer).
type Probes = Arc<Mutex<Vec<(Instant, Option<u16>)>>>;

/// The service's down and up instants.
pub struct Outage {
    pub down: Instant,
    pub up: Instant,
}

async fn outage(lab: &Lab, report: &mut Report, service: Service) -> anyhow::Result<()> {
    let (name, prefix) = match service {
        Service::RabbitMq => ("rabbitmq_restart", 4),
        Service::Postgres => ("postgres_restart", 5),
    };
    let site = lab.site(name).await?;
    let provider = Provider::start().await?;
    let mut w = start_worker(&site, &provider, &[], report).await?;
    let client = reqwest::Client::new();
    let (calls, events) = calls(name, prefix, EVENTS, |_| None);

    let probes: Probes = Arc::default();
    let probing = {
        let (probes, client, base) = (probes.clone(), client.clone(), w.base.clone());
        tokio::spawn(async move {
            loop {
                let status = client
                    .get(format!("{base}/readyz"))
                    .timeout(Duration::from_secs(3))
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16());
                probes.lock().unwrap().push((Instant::now(), status));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let publishing = publish(&site, &events, PER_SECOND, Duration::from_secs(120));
    let breaking = async {
        tokio::time::sleep(DOWN_AFTER).await;
        restart(lab, service, down_for()).await
    };
    let (republished, outage) = tokio::join!(publishing, breaking);
    let outage = outage?;
    let republished = republished?;

    let recovered = tally::wait_for(RECOVERY + Duration::from_secs(30), || async {
        probes
            .lock()
            .unwrap()
            .iter()
            .any(|(at, s)| *at > outage.up && *s == Some(200))
    })
    .await;
    let recovered = recovered.map(|_| {
        let probes = probes.lock().unwrap();
        let first = probes
            .iter()
            .find(|(at, s)| *at > outage.up && *s == Some(200))
            .expect("seen above");
        first.0.duration_since(outage.up)
    });
    let (drained, settled) = drain(&site, &provider, EVENTS as usize).await;
    let drained = drained.map(|_| outage.up.elapsed());
    probing.abort();
    let unready = probes
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, s)| *at >= outage.down && *at <= outage.up && *s == Some(503))
        .count();
    let first = FirstSms::count(&site, &provider.receipts(), &calls).await?;
    let alive = w.alive();
    stop_workers(std::slice::from_mut(&mut w), report).await;
    let secs =
        |d: Option<Duration>| d.map_or("never".into(), |d| format!("{:.1}s", d.as_secs_f64()));

    report
        .show("events", EVENTS)
        .show("down", secs(Some(outage.up - outage.down)))
        .show("sent", first.reached)
        .show("readyz_503", unready)
        .show("ready_after", secs(recovered))
        .show("drained_after", secs(drained))
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .show("resent", first.resent)
        .zero("stuck", tally::in_flight(&site).await)
        .show("republished_chunks", republished)
        .check(unready > 0, "/readyz never answered 503 during the outage")
        .check(
            recovered.is_some_and(|d| d <= RECOVERY),
            format!("not ready within {RECOVERY:?} of the restart"),
        )
        .check(alive, "the worker exited during the outage")
        .check(
            drained.is_some() && settled.is_some(),
            format!("did not drain: {}", tally::states(&site).await),
        );
    Ok(())
}

/// Stops `service`, waits `down`, starts it again.
pub async fn restart(lab: &Lab, service: Service, down: Duration) -> anyhow::Result<Outage> {
    let started = Instant::now();
    stop(lab, service).await?;
    tokio::time::sleep(down).await;
    start(lab, service).await?;
    Ok(Outage {
        down: started,
        up: Instant::now(),
    })
}

async fn stop(lab: &Lab, service: Service) -> anyhow::Result<()> {
    match service {
        Service::RabbitMq => lab.rabbit.lock().await.stop().await,
        Service::Postgres => lab.pg.lock().await.stop().await,
    }
}

async fn start(lab: &Lab, service: Service) -> anyhow::Result<()> {
    match service {
        Service::RabbitMq => lab.rabbit.lock().await.start().await,
        Service::Postgres => lab.pg.lock().await.start().await,
    }
}
