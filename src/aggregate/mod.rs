//! Score aggregation (DESIGN.md §5): on the cron schedule, one replica at a time (an advisory
//! lock), folding in only the surveys that changed since the last run: their rows of
//! `score_surveys` are recomputed, then their cells of `score_cells` summed again. After a
//! run, the replica that made it erases the personal data past its time (`retention`).

pub mod retention;

use std::{num::NonZeroU32, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Runtime,
    store::aggregation::{self as store, Run},
};
pub use crate::{domain::score_basis::Basis, store::aggregation::Folded};

/// Runs are kept this long for "when were these scores computed?".
const RUN_HISTORY_DAYS: i32 = 90;
/// Retention's share of one tick: at the measured 25 k records/s, about 1.5 M records, far
/// above a day's new ones at 1 M calls a day, so a backlog shrinks tick by tick while the
/// scores stay fresh.
const RETENTION_PER_TICK: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tick of `aggregation.schedule`.
    Scheduled,
    /// `postcall aggregate`.
    Manual,
    /// `postcall aggregate --rebuild`.
    Rebuild,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Scheduled => "scheduled",
            Kind::Manual => "manual",
            Kind::Rebuild => "rebuild",
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub folded: Folded,
    /// Why every cell was recomputed, when they were.
    pub rebuilt: Option<String>,
    pub elapsed: Duration,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Folded {
            changes,
            surveys,
            cells,
        } = self.folded;
        match &self.rebuilt {
            Some(why) => write!(f, "rebuilt ({why}): ")?,
            None => write!(f, "folded in {changes} changes: ")?,
        }
        write!(
            f,
            "{surveys} surveys counted into {cells} cells in {:.0?}",
            self.elapsed
        )
    }
}

/// The result of asking for a scheduled run.
#[derive(Debug, Clone, PartialEq)]
pub enum TickRun {
    Done(RunSummary),
    /// Another replica holds the lock: it is aggregating right now.
    Busy,
    /// Another replica already aggregated this tick.
    AlreadyDone,
}

pub struct Aggregator {
    pool: PgPool,
    basis: Basis,
    rebuild_parts: NonZeroU32,
    replica: String,
    eraser: Option<retention::Eraser>,
}

impl Aggregator {
    pub fn new(pool: PgPool, runtime: &Runtime) -> Self {
        Self {
            pool: pool.clone(),
            basis: Basis::new(runtime.scores_zone.name(), &runtime.survey),
            rebuild_parts: runtime.rebuild_parts,
            replica: crate::replica::name(),
            eraser: runtime
                .retention
                .map(|policy| retention::Eraser::new(pool.clone(), policy)),
        }
    }

    /// Folds in what changed, now, waiting for a run in progress elsewhere to finish.
    pub async fn run_now(&self) -> anyhow::Result<RunSummary> {
        self.run(Kind::Manual, None).await.map(done)
    }

    /// Recomputes every cell from the stored surveys.
    pub async fn rebuild(&self) -> anyhow::Result<RunSummary> {
        self.run(Kind::Rebuild, None).await.map(done)
    }

    /// The run for one scheduled tick, unless another replica has it or had it.
    pub async fn run_tick(&self, tick: DateTime<Utc>) -> anyhow::Result<TickRun> {
        self.run(Kind::Scheduled, Some(tick)).await
    }

    #[tracing::instrument(name = "aggregate", skip(self), fields(kind = kind.as_str()))]
    async fn run(&self, kind: Kind, tick: Option<DateTime<Utc>>) -> anyhow::Result<TickRun> {
        let started_at = Utc::now();
        let clock = Instant::now();
        let mut tx = self.pool.begin().await?;
        if let Some(tick) = tick {
            if !store::try_lock(&mut tx).await? {
                return Ok(TickRun::Busy);
            }
            if store::tick_done(&mut tx, tick).await? {
                return Ok(TickRun::AlreadyDone);
            }
        } else {
            store::lock(&mut tx).await?;
        }

        let stored = store::stored_basis(&mut tx).await?;
        let rebuilt = match kind {
            Kind::Rebuild => Some("requested".to_owned()),
            _ => self.basis.differs_from(stored.as_ref()),
        };
        let folded = match &rebuilt {
            Some(why) => {
                tracing::info!(why = %why, "rebuilding scores");
                let folded =
                    store::rebuild(&mut tx, &self.pool, &self.basis, self.rebuild_parts).await?;
                store::save_basis(&mut tx, &self.basis).await?;
                folded
            }
            None => store::fold_changes(&mut tx, &self.basis).await?,
        };
        let recorded = if rebuilt.is_some() {
            Kind::Rebuild
        } else {
            kind
        };
        let run = Run {
            kind: recorded.as_str(),
            scheduled_for: tick,
            replica: &self.replica,
            started_at,
            folded,
        };
        store::record_run(&mut tx, &run, RUN_HISTORY_DAYS).await?;
        tx.commit().await?;

        let summary = RunSummary {
            folded,
            rebuilt,
            elapsed: clock.elapsed(),
        };
        crate::metrics::aggregation(recorded.as_str(), summary.elapsed, summary.folded.changes);
        Ok(TickRun::Done(summary))
    }
}

fn log_retention(outcome: anyhow::Result<retention::Summary>) {
    match outcome {
        Ok(summary) if summary.erased.total() > 0 || summary.yielded => {
            tracing::info!("retention: {summary}")
        }
        Ok(summary) => tracing::debug!("retention: {summary}"),
        Err(e) => {
            crate::metrics::retention_failed();
            tracing::warn!(
                error = format!("{e:#}"),
                "retention failed; the next tick retries"
            )
        }
    }
}

fn done(outcome: TickRun) -> RunSummary {
    match outcome {
        TickRun::Done(summary) => summary,
        // Unscheduled runs wait for the lock and have no tick to have been done already.
        TickRun::Busy | TickRun::AlreadyDone => unreachable!("an unscheduled run always runs"),
    }
}

/// The aggregation role: runs at every tick of `aggregation.schedule`, read in
/// `aggregation.timezone` (so "0 0 6 * * *" is 06:00 local), until shutdown. A failed run
/// leaves its changes logged for the next tick.
pub async fn run_on_schedule(
    aggregator: Aggregator,
    runtime: &Runtime,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (schedule, zone) = (&runtime.schedule, runtime.scores_zone);
    tracing::info!(schedule = %schedule, replica = %aggregator.replica, "aggregation running");
    loop {
        let Some(tick) = schedule.upcoming(zone).next() else {
            tracing::warn!("aggregation.schedule has no future time; nothing to aggregate");
            shutdown.cancelled().await;
            return Ok(());
        };
        let tick = tick.with_timezone(&Utc);
        let wait = (tick - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return Ok(()),
        }
        // Dropping a run on shutdown rolls its transaction back: nothing is half-folded.
        let outcome = tokio::select! {
            outcome = aggregator.run_tick(tick) => outcome,
            _ = shutdown.cancelled() => return Ok(()),
        };
        match outcome {
            Ok(TickRun::Done(summary)) => {
                tracing::info!(%tick, "aggregated: {summary}");
                // Dropping a batch on shutdown rolls it back: nothing is half-erased.
                if let Some(eraser) = &aggregator.eraser {
                    tokio::select! {
                        outcome = eraser.run_within(retention::Lock::Try, RETENTION_PER_TICK) =>
                            log_retention(outcome),
                        _ = shutdown.cancelled() => return Ok(()),
                    }
                }
            }
            Ok(TickRun::Busy) => {
                tracing::debug!(%tick, "another replica is aggregating; skipped")
            }
            Ok(TickRun::AlreadyDone) => {
                tracing::debug!(%tick, "another replica aggregated this tick")
            }
            Err(e) => {
                crate::metrics::aggregation_failed();
                tracing::warn!(%tick, error = format!("{e:#}"), "aggregation failed; the next tick retries")
            }
        }
    }
}
