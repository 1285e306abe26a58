//! Housekeeping and waking: expired leases go back to the queue, unanswered surveys
//! expire, and the claims are woken whenever there may be new work (a notification came,
//! a retry or a survey came due, the poll).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::{CHANNEL, Dispatcher};
use crate::{
    backoff,
    providers::SmsProvider,
    store::{messages, surveys},
};

impl<P: SmsProvider + 'static> Dispatcher<P> {
    pub(super) async fn feed(&self, wake: &Notify) {
        let mut listener = self.listen().await;
        let mut delays = backoff::forever(Duration::from_millis(200), Duration::from_secs(30));
        let mut housekeeping = Instant::now();
        while !self.shutdown.is_cancelled() {
            if Instant::now() >= housekeeping {
                match self.housekeeping().await {
                    Ok(rescued) => {
                        delays =
                            backoff::forever(Duration::from_millis(200), Duration::from_secs(30));
                        housekeeping = Instant::now() + self.poll;
                        if rescued {
                            wake.notify_one();
                        }
                    }
                    Err(e) => {
                        let delay = delays.next().unwrap_or(Duration::from_secs(30));
                        tracing::warn!(error = %e, retry_in = ?delay, "dispatch housekeeping failed");
                        self.pause(delay).await;
                        continue;
                    }
                }
            }
            self.wait(&mut listener).await;
            wake.notify_one();
        }
    }

    /// Returns expired leases to the queue and expires unanswered surveys; true if a
    /// message was returned.
    async fn housekeeping(&self) -> sqlx::Result<bool> {
        let rescued = messages::rescue_expired(&self.pool, self.retry.max_attempts as i32).await?;
        if rescued > 0 {
            tracing::warn!(rescued, "returned messages whose lease expired");
        }
        let expired = crate::inbound::expiry::sweep(&self.pool, self.batch_size).await?;
        if expired > 0 {
            tracing::info!(expired, "surveys expired without a reply");
        }
        Ok(rescued > 0)
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
