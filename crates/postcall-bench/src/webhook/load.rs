//! Two ways to drive an HTTP route with prepared requests: closed loop (a fixed number of
//! clients, each sending its next request when the last one is answered: the ceiling) and
//! open loop (requests sent on a fixed schedule whatever the answers, latency counted from
//! the scheduled time, so a stall is not hidden by the client waiting on it).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::task::JoinSet;

use super::replies::Signed;
use crate::proc_stats::{Rate, Window};

#[derive(Clone)]
pub struct Target {
    pub client: reqwest::Client,
    pub url: String,
}

impl Target {
    pub fn new(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            url: format!("http://{addr}{path}"),
        })
    }

    /// Sends one request; the status code, once the whole response is read.
    pub async fn send(&self, request: &Signed) -> anyhow::Result<u16> {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", &request.signature)
            .body(request.body.clone())
            .send()
            .await
            .with_context(|| format!("POST {}", self.url))?;
        let status = response.status().as_u16();
        response.bytes().await?;
        Ok(status)
    }
}

/// Every request sent by `concurrency` clients; fails unless every answer is 200.
pub async fn closed(
    target: &Target,
    requests: Vec<Signed>,
    concurrency: usize,
) -> anyhow::Result<Rate> {
    let total = requests.len();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let window = Window::start();
    let mut clients = JoinSet::new();
    for _ in 0..concurrency.min(total).max(1) {
        let (target, requests, next) = (target.clone(), requests.clone(), next.clone());
        clients.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    return anyhow::Ok(());
                };
                let status = target.send(request).await?;
                anyhow::ensure!(status == 200, "request {i} answered {status}");
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done??;
    }
    Ok(window.finish(total))
}

/// Latencies in milliseconds of requests sent at `per_second`, each measured from the
/// moment it was due, not from when it could be sent.
pub struct Latencies {
    pub ms: Vec<f64>,
    /// Requests not answered 200 (their latency counts to the failure): the caller sends
    /// them again, as a provider retries a failed callback.
    pub failed: Vec<Signed>,
    /// How far the sender itself fell behind the schedule at worst.
    pub max_send_lag_ms: f64,
}

pub async fn open(
    target: &Target,
    requests: Vec<Signed>,
    per_second: f64,
) -> anyhow::Result<Latencies> {
    let start = Instant::now() + Duration::from_millis(20);
    let mut in_flight = JoinSet::new();
    let mut max_send_lag = Duration::ZERO;
    for (i, request) in requests.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / per_second);
        tokio::time::sleep_until(due.into()).await;
        max_send_lag = max_send_lag.max(due.elapsed());
        let target = target.clone();
        in_flight.spawn(async move {
            let ok = matches!(target.send(&request).await, Ok(200));
            let ms = due.elapsed().as_secs_f64() * 1000.0;
            (ms, (!ok).then_some(request))
        });
    }
    let mut ms = Vec::with_capacity(in_flight.len());
    let mut failed = Vec::new();
    while let Some(done) = in_flight.join_next().await {
        let (latency, failure) = done?;
        ms.push(latency);
        failed.extend(failure);
    }
    Ok(Latencies {
        ms,
        failed,
        max_send_lag_ms: max_send_lag.as_secs_f64() * 1000.0,
    })
}
