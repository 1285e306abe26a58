//! Due surveys and queued SMS → the provider, as a pipeline. The feed wakes the claims
//! (expired leases and unanswered surveys are `housekeeping`'s); the claims take due
//! messages (`FOR UPDATE SKIP LOCKED` and a lease) whenever a send slot is free, each then
//! rate-limited, re-checked if it waited, and sent by a task of its own; the
//! recorder writes accepted sends in batches, under their leases. A hanging request holds
//! only its own slot. Woken by `pg_notify`, polling as a fallback; several replicas never
//! send one message twice. The claims and the recorder run on a thread of their own
//! (`thread`), each on a connection of its own (`connection`), the sends on the worker's
//! runtime.

mod caps;
mod claim;
mod connection;
mod feed;
pub(crate) mod plan;
mod rate;
mod reconcile;
mod record;
mod send;
pub(crate) mod start;
mod thread;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    channels::{self, SmsProvider},
    config::{Runtime, Settings},
    domain::{caps::Caps, eligibility::Policy, survey::SurveyDefinition},
};

pub use rate::Limiter;

pub struct Dispatcher<P> {
    pub pool: PgPool,
    pub provider: Arc<P>,
    pub survey: Arc<SurveyDefinition>,
    /// The chosen channel's settings, for its templates (`channels::compose::Texts`).
    pub channel: Arc<channels::Settings>,
    pub policy: Arc<Policy>,
    /// The channel's per-number caps, counted in every claim.
    pub caps: Caps,
    pub retry: plan::RetryPolicy,
    pub limiter: Arc<Limiter>,
    /// Messages in flight at most, from claim to recorded outcome; also the most one claim
    /// takes.
    pub batch_size: i64,
    pub lease: Duration,
    pub poll: Duration,
    /// How long an opened survey waits for replies.
    pub expire_after: Duration,
    /// Names this replica's leases, so only it records the outcome of what it claimed.
    pub replica: String,
    /// The platform drops a resend with the same id; otherwise a send whose outcome is
    /// unknown is looked up before anything goes again.
    pub drops_duplicates: bool,
    pub shutdown: CancellationToken,
}

impl<P: SmsProvider + 'static> Dispatcher<P> {
    pub fn new(
        settings: &Settings,
        runtime: &Runtime,
        pool: PgPool,
        provider: Arc<P>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let d = &settings.dispatch;
        Ok(Self {
            pool,
            provider,
            survey: runtime.survey.clone(),
            channel: runtime.provider.clone(),
            policy: runtime.policy.clone(),
            caps: runtime
                .provider
                .caps()
                .map_err(|e| anyhow::anyhow!("config key `{}`: {}", e.key, e.why))?,
            retry: plan::RetryPolicy {
                base: Duration::from_secs(d.retry.base_delay_seconds),
                max: Duration::from_secs(d.retry.max_delay_seconds),
                max_attempts: d.retry.max_attempts,
                reconcile: plan::ReconcilePolicy {
                    grace: Duration::from_secs(d.reconcile.grace_seconds),
                    max_checks: d.reconcile.max_checks,
                },
            },
            limiter: Arc::new(Limiter::new(&d.rate_limit)),
            batch_size: d.batch_size.into(),
            lease: Duration::from_secs(d.lease_seconds),
            poll: Duration::from_millis(d.poll_interval_ms),
            expire_after: Duration::from_secs(u64::from(settings.survey.expire_after_hours) * 3600),
            replica: crate::replica::name(),
            drops_duplicates: settings.provider.kind.drops_duplicates(),
            shutdown,
        })
    }

    /// Runs until shutdown: the feed, the claims (each message sent by a task of its own on
    /// the caller's runtime) and the recorder (with the claims, on a thread of their own),
    /// side by side. Database errors are logged and retried after a backoff; the dispatcher
    /// never exits on its own. At shutdown, claims stop, messages still waiting for the
    /// rate limit are handed back, and what is in flight is recorded.
    pub async fn run(mut self) {
        tracing::info!(provider = self.provider.name(), replica = %self.replica, "dispatch running");
        // The loops' thread would outlive this future if it were dropped unfinished (its
        // runtime shutting down), claiming messages no send task would ever take: they
        // stop with it. A token of the dispatcher's own, so only it is cancelled.
        self.shutdown = self.shutdown.child_token();
        let _stop_loops = self.shutdown.clone().drop_guard();
        let this = Arc::new(self);
        let wake = Arc::new(Notify::new());
        let (sent, recorder) = mpsc::unbounded_channel();
        let sends_on = tokio::runtime::Handle::current();
        // One thread for both loops: a thread each measured no faster on two cores.
        let loops = thread::own("postcall-dispatch", {
            let (this, wake) = (this.clone(), wake.clone());
            move || async move {
                tokio::join!(
                    this.clone().claim_all(&wake, sent, sends_on),
                    this.record_all(recorder),
                );
            }
        });
        tokio::join!(this.feed(&wake), loops);
        tracing::info!("dispatch stopped");
    }

    /// Sleeps for `delay`, or less if shutdown comes first.
    async fn pause(&self, delay: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }
}
