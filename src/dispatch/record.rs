//! The recorder: accepted sends are written in batches, one transaction for whatever has
//! arrived while the previous batch was being written; each send's slot is freed once its
//! outcome is committed.

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::{Dispatcher, connection::Own};
use crate::{
    backoff,
    channels::SmsProvider,
    store::{first_send, messages},
};

/// The most outcomes one transaction records.
const MOST: usize = 1000;

/// An accepted send on its way to the database, holding its slot.
pub(super) struct Sent {
    pub send: Accepted,
    pub slot: OwnedSemaphorePermit,
}

/// A send of a message that had a row when claimed, or of a first question that has none.
pub(super) enum Accepted {
    Queued(messages::Accepted),
    First(Box<first_send::Accepted>),
}

impl<P: SmsProvider + 'static> Dispatcher<P> {
    /// Runs until every sender is gone (after shutdown, once the last send finished).
    pub(super) async fn record_all(&self, mut sent: mpsc::UnboundedReceiver<Sent>) {
        let mut batch = Vec::with_capacity(MOST);
        let mut conn = Own::records(&self.pool);
        while sent.recv_many(&mut batch, MOST).await > 0 {
            let (mut queued, mut firsts, mut slots) = (vec![], vec![], vec![]);
            for sent in batch.drain(..) {
                match sent.send {
                    Accepted::Queued(send) => queued.push(send),
                    Accepted::First(send) => firsts.push(*send),
                }
                slots.push(sent.slot);
            }
            self.record(&mut conn, &queued, &firsts).await;
            drop(slots);
        }
    }

    /// Retries briefly if the database hiccups: an outcome lost here means the lease expires
    /// and the message is sent again (with the same idempotency key). Each try is on the
    /// recorder's own connection (`connection::Own::records`).
    async fn record(
        &self,
        conn: &mut Own,
        sends: &[messages::Accepted],
        firsts: &[first_send::Accepted],
    ) {
        let all = sends.len() + firsts.len();
        for delay in backoff::RECORD_SENDS {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let recorded = conn
                .run(async |conn| {
                    messages::accepted(
                        conn,
                        &self.replica,
                        self.provider.name(),
                        sends,
                        firsts,
                        self.expire_after,
                    )
                    .await
                })
                .await;
            match recorded {
                Ok(n) if n == all => return,
                Ok(n) => {
                    tracing::warn!(
                        lost = all - n,
                        "leases lost before the outcome was recorded; other replicas own those messages"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, sends = all, "could not record accepted sends; retrying")
                }
            }
        }
        tracing::error!(
            sends = all,
            "gave up recording accepted sends; the lease rescuer will return them"
        );
    }
}
