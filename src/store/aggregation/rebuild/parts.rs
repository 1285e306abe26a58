//! The parts of the per-survey pass that run on other connections: each computes its range
//! of surveys into a staging table and commits it; the rebuild's transaction then appends
//! the table to its own new one and drops it.

use futures_util::future::join_all;
use sqlx::{Executor, PgPool, Postgres, Transaction};

use super::{
    ranges::Range,
    statements::{NEXT, SETTINGS, per_survey},
};
use crate::domain::score_basis::Basis;

/// A staging table: its run (the rebuild transaction's id) and its part's number (2, 3, …;
/// part 1 is the rebuild's own transaction). Named per run so that the transaction can drop
/// a failed run's leftovers without ever holding the name a part of its own is about to
/// create: that part would wait for the transaction to end, while the transaction waits for
/// the part. UNLOGGED: it lives a few seconds and a crash only leaves a table the next
/// rebuild drops, so writing it to the WAL would buy nothing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Staging {
    pub run: i64,
    pub number: usize,
}

impl std::fmt::Display for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "score_surveys_part_{}_{}", self.run, self.number)
    }
}

/// Drops every staging table earlier rebuilds left (a failure or crash after a part
/// committed), whatever their number of parts. Only a rebuild writes them, and the caller
/// holds the aggregation lock.
const DROP_LEFTOVERS: &str = r"
    DO $$
    DECLARE leftover text;
    BEGIN
        FOR leftover IN SELECT tablename FROM pg_tables
                         WHERE schemaname = current_schema()
                           AND tablename LIKE 'score\_surveys\_part\_%'
        LOOP
            EXECUTE format('DROP TABLE %I', leftover);
        END LOOP;
    END $$";

/// A part waits at most this long for a table lock. The rebuild's transaction waits for its
/// parts, so a part queued behind someone's DDL — itself queued behind the transaction's
/// own locks — would wait forever, unseen by PostgreSQL's deadlock check. Failing fails the
/// rebuild, whose rollback lets the DDL through; the next rebuild starts over.
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '10s'";

/// Run in the rebuild's transaction, before any part starts.
pub(super) async fn drop_leftovers(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<()> {
    tx.execute(DROP_LEFTOVERS).await.map(drop)
}

/// The id of the rebuild's transaction, which names its staging tables.
pub(super) async fn run_id(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT txid_current()")
        .fetch_one(&mut **tx)
        .await
}

/// Computes each part's range into its staging table, each on a pooled connection of its
/// own, side by side. Every part runs to its end before this returns, so no staging table is
/// still being written when the rebuild reads them; the first failure is returned.
pub(super) async fn compute(
    pool: &PgPool,
    basis: &Basis,
    parts: &[(Staging, Range)],
) -> sqlx::Result<()> {
    let done = join_all(
        parts
            .iter()
            .map(|&(staging, range)| compute_one(pool, basis, staging, range)),
    )
    .await;
    done.into_iter().collect()
}

async fn compute_one(
    pool: &PgPool,
    basis: &Basis,
    staging: Staging,
    range: Range,
) -> sqlx::Result<()> {
    let table = format!("UNLOGGED TABLE {staging}");
    let mut tx = pool.begin().await?;
    tx.execute(SETTINGS).await?;
    tx.execute(LOCK_TIMEOUT).await?;
    tx.execute(per_survey(&table, basis, range).as_str())
        .await?;
    tx.commit().await
}

/// Appends a computed part to the new table and drops its staging table; returns its rows.
/// Should the transaction roll back after, the table stays, for the next rebuild to drop.
pub(super) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    table: Staging,
) -> sqlx::Result<u64> {
    let rows = tx
        .execute(format!("INSERT INTO {NEXT} SELECT * FROM {table}").as_str())
        .await?
        .rows_affected();
    tx.execute(format!("DROP TABLE {table}").as_str()).await?;
    Ok(rows)
}
