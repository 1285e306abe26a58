//! Waking: the claims are woken whenever there may be new work (a notification came, a
//! retry or a survey came due, the poll).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::Dispatcher;
use crate::{
    channels::SmsProvider,
    store::{messages, surveys, wake::DISPATCH_CHANNEL},
};

impl<P: SmsProvider + 'static> Dispatcher<P> {
    pub(super) async fn feed(&self, wake: &Notify) {
        let mut listener = self.listen().await;
        while !self.shutdown.is_cancelled() {
            self.wait(&mut listener).await;
            wake.notify_one();
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(DISPATCH_CHANNEL).await.ok()?;
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
