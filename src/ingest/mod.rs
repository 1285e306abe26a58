//! RabbitMQ → PostgreSQL: consume `call.completed`, dead-letter poison, decide and record
//! the rest in batches, ack after commit. Supervised: it reconnects, it does not exit.

mod batch;
mod consumer;
mod dead_letter;
mod record;
pub mod replay;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    backoff,
    config::Settings,
    domain::{eligibility::Policy, retention},
    health::Health,
};

/// A session that ran this long was healthy: its failure starts the backoff over.
const HEALTHY_SESSION: Duration = Duration::from_secs(60);

/// Everything an ingest session needs; cheap to clone into each attempt.
#[derive(Clone)]
pub struct Ingest {
    pub settings: Arc<Settings>,
    pub policy: Arc<Policy>,
    /// `retention.*` when on: a call already past its window arrives erased.
    pub retention: Option<retention::Policy>,
    pub pool: PgPool,
    pub health: Arc<Health>,
    pub shutdown: CancellationToken,
}

impl Ingest {
    /// Runs sessions until shutdown. A session that fails (broker gone, channel closed,
    /// consumer cancelled or its stream ended) is logged and restarted after a backoff;
    /// its unacked deliveries return to the queue when its connection closes.
    pub async fn run(self) {
        let mut delays = backoff::RECONNECT.delays();
        while !self.shutdown.is_cancelled() {
            let started = tokio::time::Instant::now();
            let result = consumer::session(&self).await;
            self.health.set_broker(false);
            match result {
                Ok(()) => break,
                Err(e) => {
                    if started.elapsed() > HEALTHY_SESSION {
                        delays.reset();
                    }
                    let delay = delays.next_delay();
                    tracing::error!(error = format!("{e:#}"), retry_in = ?delay, "ingest session failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.cancelled() => break,
                    }
                }
            }
        }
        tracing::info!("ingest stopped");
    }
}
