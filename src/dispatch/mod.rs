//! Due surveys and queued SMS → the provider: claimed in one statement per batch
//! (`FOR UPDATE SKIP LOCKED` and a lease), re-checked just before sending, rate-limited,
//! retried with backoff, recorded under the lease. Woken by `pg_notify`, polling as a
//! fallback; several replicas never send one message twice.

pub mod plan;
mod rate;
mod send;
pub mod start;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sqlx::{PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

use crate::{
    backoff,
    config::Settings,
    domain::{eligibility::Policy, survey::SurveyDefinition},
    providers::SmsProvider,
    store::{messages, surveys},
};

pub use rate::Limiter;

pub const CHANNEL: &str = "postcall_dispatch";

pub struct Dispatcher<P> {
    pub pool: PgPool,
    pub provider: Arc<P>,
    pub survey: Arc<SurveyDefinition>,
    pub policy: Arc<Policy>,
    pub retry: plan::RetryPolicy,
    pub limiter: Arc<Limiter>,
    pub batch_size: i64,
    pub lease: Duration,
    pub poll: Duration,
    /// How long an opened survey waits for replies.
    pub expire_after: Duration,
    /// Names this replica's leases, so only it records the outcome of what it claimed.
    pub replica: String,
    pub shutdown: CancellationToken,
}

impl<P: SmsProvider> Dispatcher<P> {
    pub fn new(
        settings: &Settings,
        pool: PgPool,
        provider: Arc<P>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let d = &settings.dispatch;
        Ok(Self {
            pool,
            provider,
            survey: Arc::new(settings.survey_definition()?),
            policy: Arc::new(settings.policy()?),
            retry: plan::RetryPolicy {
                base: Duration::from_secs(d.retry.base_delay_seconds),
                max: Duration::from_secs(d.retry.max_delay_seconds),
                max_attempts: d.retry.max_attempts,
            },
            limiter: Arc::new(Limiter::new(&d.rate_limit)),
            batch_size: d.batch_size.into(),
            lease: Duration::from_secs(d.lease_seconds),
            poll: Duration::from_millis(d.poll_interval_ms),
            expire_after: Duration::from_secs(u64::from(settings.survey.expire_after_hours) * 3600),
            replica: crate::app::replica_name(),
            shutdown,
        })
    }

    /// Runs until shutdown. Database errors are logged and retried after a backoff; the
    /// dispatcher never exits on its own.
    pub async fn run(self) {
        tracing::info!(provider = self.provider.name(), replica = %self.replica, "dispatch running");
        let mut listener = self.listen().await;
        let mut delays = backoff::forever(Duration::from_millis(200), Duration::from_secs(30));
        while !self.shutdown.is_cancelled() {
            match self.round().await {
                Ok(true) => continue,
                Ok(false) => {
                    delays = backoff::forever(Duration::from_millis(200), Duration::from_secs(30));
                    self.wait(&mut listener).await;
                }
                Err(e) => {
                    let delay = delays.next().unwrap_or(Duration::from_secs(30));
                    tracing::warn!(error = %e, retry_in = ?delay, "dispatch round failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.cancelled() => {}
                    }
                }
            }
        }
        tracing::info!("dispatch stopped");
    }

    /// One round: rescue expired leases, start due surveys, send a batch. True if there
    /// was work, so the caller goes round again at once.
    pub async fn round(&self) -> sqlx::Result<bool> {
        let rescued = messages::rescue_expired(&self.pool, self.retry.max_attempts as i32).await?;
        if rescued > 0 {
            tracing::warn!(rescued, "returned messages whose lease expired");
        }
        let expired = crate::inbound::expiry::sweep(&self.pool, self.batch_size).await?;
        if expired > 0 {
            tracing::info!(expired, "surveys expired without a reply");
        }
        let started = start::start_due(
            &self.pool,
            &self.survey,
            &self.policy,
            self.batch_size,
            Utc::now(),
        )
        .await?;
        if started != start::Started::default() {
            tracing::info!(
                queued = started.queued,
                deferred = started.deferred,
                cancelled = started.cancelled,
                "due surveys"
            );
        }
        let claimed =
            messages::claim(&self.pool, self.batch_size, self.lease, &self.replica).await?;
        let busy = !claimed.is_empty() || started.queued > 0 || rescued > 0;
        futures_util::stream::iter(claimed)
            .for_each_concurrent(None, |m| self.send_one(m))
            .await;
        Ok(busy)
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Sleeps until the earliest due work, the poll interval, a notification or shutdown.
    async fn wait(&self, listener: &mut Option<PgListener>) {
        let now = Utc::now();
        let until = self
            .next_due()
            .await
            .map_or(now + self.poll_delta(), |due| {
                due.min(now + self.poll_delta())
            });
        // Never spin: work due now but locked by another replica is looked at again shortly.
        let sleep = (until - now)
            .to_std()
            .unwrap_or_default()
            .max(Duration::from_millis(50));
        let notified = async {
            match listener {
                Some(l) => {
                    if let Err(e) = l.recv().await {
                        // recv reconnects on its next call; until then, the poll covers.
                        tracing::debug!(error = %e, "dispatch notifications interrupted");
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = notified => {}
            _ = self.shutdown.cancelled() => {}
        }
        if listener.is_none() {
            *listener = self.listen().await;
        }
    }

    async fn next_due(&self) -> Option<DateTime<Utc>> {
        let surveys = surveys::next_due(&self.pool).await.ok().flatten();
        let messages = messages::next_due(&self.pool).await.ok().flatten();
        surveys.into_iter().chain(messages).min()
    }

    fn poll_delta(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.poll).unwrap_or(chrono::TimeDelta::seconds(1))
    }
}
