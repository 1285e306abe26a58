//! The aggregation's tables: the lock one run at a time holds, `score_runs`, `score_basis`,
//! and (in the submodules) the statements that fill `score_surveys` and `score_cells`.

mod cells;
mod incremental;
mod rebuild;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction, types::Json};

pub use incremental::fold_changes;
pub use rebuild::rebuild;

use crate::domain::score_basis::Basis;

type Tx<'t, 'c> = &'t mut Transaction<'c, Postgres>;

/// The advisory lock key all replicas take to aggregate ("postcall" in ASCII).
const LOCK: i64 = 0x706f_7374_6361_6c6c;

/// What one pass read and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Change-log rows consumed (answers, status moves).
    pub changes: i64,
    /// Surveys (re)counted: the changed ones, or every sent survey for a rebuild.
    pub surveys: i64,
    /// Cells written.
    pub cells: i64,
}

/// One row of `score_runs`.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub kind: &'a str,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub replica: &'a str,
    pub started_at: DateTime<Utc>,
    pub folded: Folded,
}

/// Takes the aggregation lock for this transaction unless another holds it; false if so.
pub async fn try_lock(tx: Tx<'_, '_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(LOCK)
        .fetch_one(&mut **tx)
        .await
}

/// Takes the aggregation lock for this transaction, waiting for a run in progress.
pub async fn lock(tx: Tx<'_, '_>) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Whether a run for this scheduled tick is recorded already.
pub async fn tick_done(tx: Tx<'_, '_>, tick: DateTime<Utc>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM score_runs WHERE scheduled_for = $1)")
        .bind(tick)
        .fetch_one(&mut **tx)
        .await
}

/// The basis the stored cells were built with, if any were.
pub async fn stored_basis(tx: Tx<'_, '_>) -> sqlx::Result<Option<Basis>> {
    let stored: Option<Json<Basis>> = sqlx::query_scalar("SELECT basis FROM score_basis")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(stored.map(|b| b.0))
}

pub async fn save_basis(tx: Tx<'_, '_>, basis: &Basis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO score_basis (basis, built_at) VALUES ($1, now())
         ON CONFLICT (id) DO UPDATE SET basis = EXCLUDED.basis, built_at = now()",
    )
    .bind(Json(basis))
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Records a run, and forgets runs finished more than `keep_days` ago.
pub async fn record_run(tx: Tx<'_, '_>, run: &Run<'_>, keep_days: i32) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO score_runs
             (kind, scheduled_for, replica, started_at, changes, surveys, cells)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(run.kind)
    .bind(run.scheduled_for)
    .bind(run.replica)
    .bind(run.started_at)
    .bind(run.folded.changes)
    .bind(run.folded.surveys)
    .bind(run.folded.cells)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM score_runs WHERE finished_at < now() - make_interval(days => $1)")
        .bind(keep_days)
        .execute(&mut **tx)
        .await
        .map(drop)
}
