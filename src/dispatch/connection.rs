//! A dispatch loop's own connection, kept outside the pool: the loops' thread never waits
//! for an acquire, or for a connection the worker's runtime drives. The claims and the
//! recorder lose theirs the same way (an error leaves it in doubt; a database restart kills
//! it while it sits idle) and get it back the same way.

use std::time::Duration;

use backon::{ConstantBuilder, Retryable};
use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};

use crate::store::messages;

/// How often a connection is tried again while the database is away.
const REOPEN_EVERY: Duration = Duration::from_millis(100);

type Open = for<'a> fn(&'a PgPool) -> BoxFuture<'a, sqlx::Result<PgConnection>>;

pub(super) struct Own {
    pool: PgPool,
    open: Open,
    /// How long opening keeps trying while the database is away.
    patience: Duration,
    kept: Option<PgConnection>,
}

impl Own {
    /// The claims' connection (`messages::claims_connection`). Opening tries once: the
    /// claims' loop backs off itself, and watches for shutdown while it does.
    pub fn claims(pool: &PgPool) -> Self {
        Self::new(
            pool,
            |pool| Box::pin(messages::claims_connection(pool)),
            Duration::ZERO,
        )
    }

    /// The recorder's connection (`messages::records_connection`). Opening keeps trying
    /// for as long as the pool's acquire it replaced would wait
    /// (`database.connect_timeout_seconds`), so a database back from a restart takes the
    /// batch the moment it is up. Without this the batch waited for the recorder's next
    /// backoff step, up to 10 s, with every send accepted meanwhile behind it: recorded
    /// late, so `sent_at` late, so sent after an opt-out that came in between, by the
    /// record (found by scripts/faults, quiet-optout).
    pub fn records(pool: &PgPool) -> Self {
        Self::new(
            pool,
            |pool| Box::pin(messages::records_connection(pool)),
            pool.options().get_acquire_timeout(),
        )
    }

    fn new(pool: &PgPool, open: Open, patience: Duration) -> Self {
        Self {
            pool: pool.clone(),
            open,
            patience,
            kept: None,
        }
    }

    /// Runs `work` on the kept connection. It may have died since its last use, which a
    /// pool would have found on the way: a failure on it is tried again at once on a new
    /// one, so an outage's end does not also cost the loop a backoff step. A connection an
    /// error left in doubt is never used again.
    pub async fn run<T>(
        &mut self,
        mut work: impl AsyncFnMut(&mut PgConnection) -> sqlx::Result<T>,
    ) -> sqlx::Result<T> {
        if let Some(kept) = &mut self.kept {
            match work(kept).await {
                Ok(done) => return Ok(done),
                Err(e) => {
                    self.kept = None;
                    tracing::debug!(error = %e, "a dispatch loop's connection failed; opening another");
                }
            }
        }
        let fresh = self.kept.insert(self.open().await?);
        let done = work(fresh).await;
        if done.is_err() {
            self.kept = None;
        }
        done
    }

    async fn open(&self) -> sqlx::Result<PgConnection> {
        let tries = self.patience.as_millis() / REOPEN_EVERY.as_millis();
        (|| (self.open)(&self.pool))
            .retry(
                ConstantBuilder::default()
                    .with_delay(REOPEN_EVERY)
                    .with_max_times(usize::try_from(tries).unwrap_or(usize::MAX)),
            )
            .await
    }
}
