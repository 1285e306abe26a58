//! The recorder: accepted sends are written in batches, one transaction for whatever has
//! arrived while the previous batch was being written; each send's slot is freed once its
//! outcome is committed.

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::Dispatcher;
use crate::{backoff, channels::SmsProvider, store::messages};

/// The most outcomes one transaction records.
const MOST: usize = 1000;

/// An accepted send on its way to the database, holding its slot.
pub(super) struct Sent {
    pub send: messages::Accepted,
    pub slot: OwnedSemaphorePermit,
}

impl<P: SmsProvider + 'static> Dispatcher<P> {
    /// Runs until every sender is gone (after shutdown, once the last send finished).
    pub(super) async fn record_all(&self, mut sent: mpsc::UnboundedReceiver<Sent>) {
        let mut batch = Vec::with_capacity(MOST);
        while sent.recv_many(&mut batch, MOST).await > 0 {
            let (sends, slots): (Vec<_>, Vec<_>) =
                batch.drain(..).map(|s| (s.send, s.slot)).unzip();
            self.record(&sends).await;
            drop(slots);
        }
    }

    /// Retries briefly if the database hiccups: an outcome lost here means the lease expires
    /// and the message is sent again (with the same idempotency key).
    async fn record(&self, sends: &[messages::Accepted]) {
        for delay in backoff::RECORD_SENDS {
            tokio::time::sleep(delay).await;
            let recorded = messages::accepted(
                &self.pool,
                &self.replica,
                self.provider.name(),
                sends,
                self.expire_after,
            )
            .await;
            match recorded {
                Ok(n) if n == sends.len() => return,
                Ok(n) => {
                    tracing::warn!(
                        lost = sends.len() - n,
                        "leases lost before the outcome was recorded; other replicas own those messages"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, sends = sends.len(), "could not record accepted sends; retrying")
                }
            }
        }
        tracing::error!(
            sends = sends.len(),
            "gave up recording accepted sends; the lease rescuer will return them"
        );
    }
}
