//! Claims: due messages are taken whenever a send slot is free, as many as are free, in
//! one statement, and each is handed to a task of its own. A slot is held from the claim
//! until the outcome is recorded, so one slow or hanging request holds only its own.

use std::{sync::Arc, time::Instant};

use tokio::{
    sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};

use chrono::Utc;

use super::{Dispatcher, connection::Own, plan, record::Sent, start};
use crate::{
    backoff,
    channels::{SmsProvider, compose::Texts},
    metrics,
    store::reconcile,
};

/// A claimed message's places: `slot` until its outcome is recorded, `ahead` until the
/// rate limit lets it go (so claims run only a little ahead of the limit).
pub(super) struct Ticket {
    pub slot: OwnedSemaphorePermit,
    pub ahead: Option<OwnedSemaphorePermit>,
}

struct Capacity {
    slots: Arc<Semaphore>,
    ahead: Arc<Semaphore>,
    most: usize,
}

impl<P: SmsProvider + 'static> Dispatcher<P> {
    /// Claims until shutdown; each claimed message is sent by a task on `sends_on`.
    pub(super) async fn claim_all(
        self: Arc<Self>,
        wake: &Notify,
        recorder: mpsc::UnboundedSender<Sent>,
        sends_on: tokio::runtime::Handle,
    ) {
        let most = usize::try_from(self.batch_size).unwrap_or(1).max(1);
        let capacity = Capacity {
            slots: Arc::new(Semaphore::new(most)),
            ahead: Arc::new(Semaphore::new(plan::claim_ahead(
                self.limiter.messages_per_second(),
                most,
            ))),
            most,
        };
        let mut sends = JoinSet::new();
        let mut delays = backoff::DATABASE_LOOP.delays();
        let mut conn = Own::claims(&self.pool);
        while let Some(tickets) = self.tickets(&capacity).await {
            while sends.try_join_next().is_some() {}
            match self
                .claim(&mut conn, tickets, &mut sends, &sends_on, &recorder)
                .await
            {
                Ok(true) => delays.reset(),
                Ok(false) => {
                    delays.reset();
                    self.idle(wake).await;
                }
                Err(e) => {
                    let delay = delays.next_delay();
                    tracing::warn!(error = %e, retry_in = ?delay, "claiming messages failed");
                    self.pause(delay).await;
                }
            }
        }
        // Shutdown: each send finishes or hands its message back.
        while sends.join_next().await.is_some() {}
    }

    /// Claims due messages and starts due surveys, one per ticket at most, and sends each.
    /// True if every ticket found work, so there may be more.
    async fn claim(
        self: &Arc<Self>,
        conn: &mut Own,
        tickets: Vec<Ticket>,
        sends: &mut JoinSet<()>,
        sends_on: &tokio::runtime::Handle,
        recorder: &mpsc::UnboundedSender<Sent>,
    ) -> sqlx::Result<bool> {
        let asked = tickets.len();
        // What a claim reads is as of its start.
        let read_at = Instant::now();
        let claimant = start::Claimant {
            replica: &self.replica,
            lease: self.lease,
            drops_duplicates: self.drops_duplicates,
            max_attempts: i32::try_from(self.retry.max_attempts).unwrap_or(i32::MAX),
        };
        let take = start::Take {
            texts: &Texts::new(&self.survey, &self.channel),
            policy: &self.policy,
            caps: &self.caps,
            limit: asked as i64,
            now: Utc::now(),
            claimant: &claimant,
        };
        let started = conn
            .run(async |conn| start::claim_due(conn, &take).await)
            .await?;
        if started.deferred + started.cancelled > 0 {
            tracing::info!(
                deferred = started.deferred,
                cancelled = started.cancelled,
                "due surveys not sent"
            );
        }
        for (cap, hit) in &started.cap_hits {
            metrics::cap_hit(self.provider.name(), cap.as_str(), hit.as_str());
        }
        if !started.cap_hits.is_empty() {
            tracing::info!(hits = ?started.cap_hits, "per-number caps held sends back");
        }
        let handled = started.handled();
        let mut tickets = tickets.into_iter();
        for (m, ticket) in started.claimed.into_iter().zip(tickets.by_ref()) {
            sends.spawn_on(
                self.clone().send_one(m, read_at, ticket, recorder.clone()),
                sends_on,
            );
        }
        // Lookups take what sends left: they send nothing, and are few. On the claims' own
        // connection too: a pooled one killed while idle (a database restart) failed this
        // claim once, which the pool's next acquire would only then have found out.
        let room = asked - handled;
        let lookups = if room > 0 {
            conn.run(async |conn| {
                reconcile::claim(conn, room as i64, self.lease, &self.replica).await
            })
            .await?
        } else {
            vec![]
        };
        let more = handled + lookups.len() == asked;
        // Tickets left over go back as they drop.
        for (due, ticket) in lookups.into_iter().zip(tickets) {
            sends.spawn_on(
                self.clone().reconcile_one(due, ticket, recorder.clone()),
                sends_on,
            );
        }
        Ok(more)
    }

    /// Waits for a free slot, then takes every free one (up to a claim's most); None at
    /// shutdown.
    async fn tickets(&self, capacity: &Capacity) -> Option<Vec<Ticket>> {
        let slot = self.permit(&capacity.slots).await?;
        let ahead = self.permit(&capacity.ahead).await?;
        let mut tickets = vec![Ticket {
            slot,
            ahead: Some(ahead),
        }];
        let more = capacity
            .slots
            .available_permits()
            .min(capacity.ahead.available_permits())
            .min(capacity.most - 1);
        if more > 0 {
            // Only this loop takes permits, so what was available still is.
            let mut slots = capacity
                .slots
                .clone()
                .try_acquire_many_owned(more as u32)
                .ok()?;
            let mut ahead = capacity
                .ahead
                .clone()
                .try_acquire_many_owned(more as u32)
                .ok()?;
            for _ in 1..more {
                tickets.push(Ticket {
                    slot: slots.split(1)?,
                    ahead: ahead.split(1),
                });
            }
            tickets.push(Ticket {
                slot: slots,
                ahead: Some(ahead),
            });
        }
        Some(tickets)
    }

    async fn permit(&self, semaphore: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
        tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => None,
            permit = semaphore.clone().acquire_owned() => permit.ok(),
        }
    }

    /// Nothing more is due: waits for the feed's word, the poll, or shutdown.
    async fn idle(&self, wake: &Notify) {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(self.poll) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }
}
