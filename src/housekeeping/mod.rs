//! Housekeeping beside the dispatchers: expired leases go back to the queue and unanswered
//! surveys expire, once per `dispatch.poll_interval_ms`, on every replica that dispatches
//! (rows are taken with `SKIP LOCKED`, so replicas never do the same work twice).

pub(crate) mod expiry;
pub(crate) mod leases;

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{backoff, config::Settings};

pub struct Housekeeping {
    pub pool: PgPool,
    /// A message out of attempts when its lease expires is failed, not returned.
    pub max_attempts: i32,
    /// Where the provider drops no duplicates, a send whose lease expired may have gone
    /// out: it is looked up after this grace instead of sent again.
    pub reconcile_after: Option<Duration>,
    /// Surveys expired per round at most.
    pub batch_size: i64,
    pub every: Duration,
    pub shutdown: CancellationToken,
}

impl Housekeeping {
    pub fn new(settings: &Settings, pool: PgPool, shutdown: CancellationToken) -> Self {
        let d = &settings.dispatch;
        Self {
            pool,
            max_attempts: d.retry.max_attempts as i32,
            reconcile_after: (!settings.provider.kind.drops_duplicates())
                .then(|| Duration::from_secs(d.reconcile.grace_seconds)),
            batch_size: d.batch_size.into(),
            every: Duration::from_millis(d.poll_interval_ms),
            shutdown,
        }
    }

    /// Runs a round now and then every `every` until shutdown; a failed round is retried
    /// after a backoff, so housekeeping never exits on its own.
    pub async fn run(self) {
        let mut delays = backoff::DATABASE_LOOP.delays();
        while !self.shutdown.is_cancelled() {
            let pause = match self.round().await {
                Ok(()) => {
                    delays.reset();
                    self.every
                }
                Err(e) => {
                    let delay = delays.next_delay();
                    tracing::warn!(error = %e, retry_in = ?delay, "housekeeping failed");
                    delay
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.shutdown.cancelled() => {}
            }
        }
    }

    async fn round(&self) -> sqlx::Result<()> {
        leases::rescue(&self.pool, self.max_attempts, self.reconcile_after).await?;
        let expired = expiry::sweep(&self.pool, self.batch_size).await?;
        if expired > 0 {
            tracing::info!(expired, "surveys expired without a reply");
        }
        Ok(())
    }
}
