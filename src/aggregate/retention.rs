//! Retention (README "Personal data and retention"): after each aggregation run, the same
//! replica erases the personal data that has outlived `retention.personal_data_days`, part by
//! part, in batches. Each batch is its own short transaction holding the aggregation lock,
//! so replicas take turns and never erase a record twice; the cursors it moves are read
//! under that lock. A batch never waits long behind a row lock (`store::retention`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::Instant;

pub use crate::domain::retention::{Part, Policy, Tally};
use crate::{
    domain::retention::BatchEnd,
    store::{aggregation as lock, retention as store},
};

/// Whether a batch waits for the aggregation lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Scheduled: another replica holding it is aggregating or erasing; stop for this tick.
    Try,
    /// `postcall retention`: wait for it.
    Wait,
}

/// What one run erased.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub erased: Tally,
    /// Records made before this were due.
    pub cutoff: DateTime<Utc>,
    /// A survey still in flight past the window, which the calls wait for.
    pub in_flight: Option<i64>,
    /// Another replica held the lock, so this run stopped early.
    pub yielded: bool,
    /// The run's time ran out with more due; the next run goes on from the cursors.
    pub out_of_time: bool,
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "erased {} records made before {} ({}) in {:.0?}",
            self.erased.total(),
            self.cutoff.format("%Y-%m-%d %H:%M:%SZ"),
            self.erased,
            self.elapsed
        )?;
        if self.yielded {
            f.write_str("; stopped: another replica holds the aggregation lock")?;
        }
        if self.out_of_time {
            f.write_str("; stopped for this tick with more due: the next tick goes on")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Eraser {
    pool: PgPool,
    policy: Policy,
}

impl Eraser {
    pub fn new(pool: PgPool, policy: Policy) -> Self {
        Self { pool, policy }
    }

    /// Erases everything due now.
    pub async fn run(&self, lock: Lock) -> anyhow::Result<Summary> {
        self.run_until(lock, Utc::now(), None).await
    }

    /// Erases what is due now, batch after batch, until `budget` has passed: a scheduled run
    /// after an aggregation tick must not hold its replica's scheduler for hours when
    /// retention is first switched on over a long history. The cursors keep the place.
    pub async fn run_within(&self, lock: Lock, budget: Duration) -> anyhow::Result<Summary> {
        self.run_until(lock, Utc::now(), Some(budget)).await
    }

    /// Erases everything made before the window that ends `now`, within `budget` if given.
    #[tracing::instrument(name = "retention", skip(self), fields(days = self.policy.days))]
    pub async fn run_until(
        &self,
        lock: Lock,
        now: DateTime<Utc>,
        budget: Option<Duration>,
    ) -> anyhow::Result<Summary> {
        let clock = Instant::now();
        let cutoff = self.policy.cutoff(now);
        let mut summary = Summary {
            erased: Tally::default(),
            cutoff,
            in_flight: None,
            yielded: false,
            out_of_time: false,
            elapsed: Duration::ZERO,
        };
        'parts: for part in Part::ALL {
            loop {
                let Some(batch) = self.batch(lock, part, cutoff).await? else {
                    summary.yielded = true;
                    break 'parts;
                };
                summary.erased.add(part, batch.erased);
                crate::metrics::retention_erased(part.as_str(), batch.erased);
                match BatchEnd::of(batch.erased, self.policy.batch_size, batch.in_flight) {
                    BatchEnd::More if budget.is_some_and(|b| clock.elapsed() >= b) => {
                        summary.out_of_time = true;
                        break 'parts;
                    }
                    BatchEnd::More => continue,
                    BatchEnd::Done => break,
                    BatchEnd::InFlight { survey_id } => {
                        summary.in_flight = Some(survey_id);
                        break;
                    }
                }
            }
        }
        summary.elapsed = clock.elapsed();
        if let Some(survey_id) = summary.in_flight {
            tracing::warn!(
                survey_id,
                "a survey is still in flight past the retention window; its call and every \
                 later one wait until it ends"
            );
        }
        Ok(summary)
    }

    /// One batch in its own transaction; `None` if the lock was taken elsewhere.
    async fn batch(
        &self,
        mode: Lock,
        part: Part,
        cutoff: DateTime<Utc>,
    ) -> anyhow::Result<Option<store::Batch>> {
        let mut tx = self.pool.begin().await?;
        match mode {
            Lock::Try if !lock::try_lock(&mut tx).await? => return Ok(None),
            Lock::Try => {}
            Lock::Wait => lock::lock(&mut tx).await?,
        }
        store::begin_batch(&mut tx).await?;
        let batch = store::erase(&mut tx, part, cutoff, self.policy.batch_size).await?;
        tx.commit().await?;
        Ok(Some(batch))
    }

    /// What a run would erase now, per part, without erasing it.
    pub async fn due(&self) -> anyhow::Result<Tally> {
        let cutoff = self.policy.cutoff(Utc::now());
        let mut conn = self.pool.acquire().await?;
        let mut tally = Tally::default();
        for part in Part::ALL {
            tally.add(part, store::due(&mut conn, part, cutoff).await?);
        }
        Ok(tally)
    }
}
