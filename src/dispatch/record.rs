//! The recorder: accepted sends are written in batches, one transaction for whatever has
//! arrived while the previous batch was being written; each send's slot is freed once its
//! outcome is committed.

use std::time::Duration;

use backon::{ConstantBuilder, Retryable};
use sqlx::PgConnection;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::Dispatcher;
use crate::{
    backoff,
    channels::SmsProvider,
    store::{first_send, messages},
};

/// The most outcomes one transaction records.
const MOST: usize = 1000;

/// How often the recorder tries to reopen its connection while the database is away.
const REOPEN_EVERY: Duration = Duration::from_millis(100);

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
        let mut conn = None;
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
    /// and the message is sent again (with the same idempotency key).
    async fn record(
        &self,
        conn: &mut Option<PgConnection>,
        sends: &[messages::Accepted],
        firsts: &[first_send::Accepted],
    ) {
        let all = sends.len() + firsts.len();
        for delay in backoff::RECORD_SENDS {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match self.record_once(conn, sends, firsts).await {
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

    /// One try, on the recorder's own connection. A kept connection may have died since
    /// its last use (a database restart, say), which a pool would have found on the way: a
    /// failure on it is tried again at once on a new one, so an outage's end does not also
    /// cost a backoff step. A connection an error left in doubt is not used again.
    async fn record_once(
        &self,
        conn: &mut Option<PgConnection>,
        sends: &[messages::Accepted],
        firsts: &[first_send::Accepted],
    ) -> sqlx::Result<usize> {
        if let Some(kept) = conn {
            match self.record_on(kept, sends, firsts).await {
                Ok(n) => return Ok(n),
                Err(e) => {
                    *conn = None;
                    tracing::debug!(error = %e, "the recorder's connection failed; opening another");
                }
            }
        }
        let fresh = conn.insert(self.open().await?);
        let recorded = self.record_on(fresh, sends, firsts).await;
        if recorded.is_err() {
            *conn = None;
        }
        recorded
    }

    /// Opens the recorder's connection, trying again every `REOPEN_EVERY` for as long as
    /// the pool's acquire it replaced would wait (`database.connect_timeout_seconds`): a
    /// database back from a restart takes the batch the moment it is up. Without this the
    /// batch waited for the recorder's next backoff step, up to 10 s, with every send
    /// accepted meanwhile behind it: recorded late, so `sent_at` late, so sent after an
    /// opt-out that came in between, by the record (found by scripts/faults, quiet-optout).
    async fn open(&self) -> sqlx::Result<PgConnection> {
        let patience = self.pool.options().get_acquire_timeout();
        let tries = patience.as_millis() / REOPEN_EVERY.as_millis();
        (|| messages::records_connection(&self.pool))
            .retry(
                ConstantBuilder::default()
                    .with_delay(REOPEN_EVERY)
                    .with_max_times(usize::try_from(tries).unwrap_or(usize::MAX)),
            )
            .await
    }

    async fn record_on(
        &self,
        conn: &mut PgConnection,
        sends: &[messages::Accepted],
        firsts: &[first_send::Accepted],
    ) -> sqlx::Result<usize> {
        messages::accepted(
            conn,
            &self.replica,
            self.provider.name(),
            sends,
            firsts,
            self.expire_after,
        )
        .await
    }
}
