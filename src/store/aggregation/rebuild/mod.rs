//! Recomputing everything: every sent survey's row of `score_surveys` from all answers and
//! messages, then every cell from those rows. One transaction publishes it: readers of
//! `score_cells` see the old scores until the new ones commit, and a rebuild that fails or
//! crashes midway leaves the old tables as they were.
//!
//! One pass over the inputs: answers and outbound messages are read from their covering
//! indexes in survey order (index-only scans, not the 5 GB of their tables) and summed
//! survey by survey, with no sort and nothing spilled to disk. The rows go into a new table
//! (`CREATE TABLE … AS`: no index to maintain while it fills), the cells are summed from it,
//! and only then is it indexed, once, by sorting in memory, and swapped in for
//! `score_surveys`. Only the aggregator reads `score_surveys`, under the lock this
//! transaction holds, so the swap's exclusive lock stops no one.
//!
//! That pass is most of the time and one backend does it on one core, so it is cut by
//! survey id into `aggregation.rebuild_parts` ranges run side by side (`ranges.rs`): the
//! transaction computes the first into its new table while each other range is computed on
//! a pooled connection of its own into a staging table it commits (`parts.rs`); the
//! transaction then appends those tables to its own and drops them.
//!
//! Why the parts add up to what one pass would: each survey falls in exactly one range and
//! is read whole (its call, answers and messages) by one statement, in one snapshot. Every
//! snapshot used is taken after the transaction's DELETE of the change log: a change
//! committed before that DELETE's snapshot is seen by every part, and one committed after it
//! kept its `score_changes` row, so the next incremental run folds its survey again, from
//! whatever rows it finds — the guarantee a single pass gives. If any part fails, the
//! rebuild fails and its transaction rolls back: the old scores stay, and a staging table
//! left behind is dropped when the next rebuild starts (the lock it holds means no other
//! rebuild is using it).

mod inline;
mod parts;
mod ranges;
mod statements;

use std::num::NonZeroU32;

use sqlx::{Executor, PgPool, Postgres, Transaction};

use super::Folded;
use crate::domain::score_basis::Basis;
use parts::Staging;
use ranges::Range;
use statements::{CELL_SETTINGS, NEXT, SETTINGS, SWAP, all_cells, per_survey};

/// Recomputes every survey's row and every cell; the change log is consumed with them.
/// `pool` lends the connections for the parts beyond the first.
pub async fn rebuild(
    tx: &mut Transaction<'_, Postgres>,
    pool: &PgPool,
    basis: &Basis,
    parts: NonZeroU32,
) -> sqlx::Result<Folded> {
    tx.execute(SETTINGS).await?;
    let changes: i64 = sqlx::query_scalar(
        "WITH changed AS (DELETE FROM score_changes RETURNING 1) SELECT count(*) FROM changed",
    )
    .fetch_one(&mut **tx)
    .await?;
    let surveys = per_survey_rows(tx, pool, basis, parts).await?;
    tx.execute(CELL_SETTINGS).await?;
    tx.execute("DELETE FROM score_cells").await?;
    let cells: i64 = sqlx::query_scalar(&all_cells())
        .fetch_one(&mut **tx)
        .await?;
    tx.execute(SWAP).await?;
    Ok(Folded {
        changes,
        surveys: surveys as i64,
        cells,
    })
}

/// Fills the new table with every sent survey's row, part by part; returns the rows.
async fn per_survey_rows(
    tx: &mut Transaction<'_, Postgres>,
    pool: &PgPool,
    basis: &Basis,
    parts: NonZeroU32,
) -> sqlx::Result<u64> {
    parts::drop_leftovers(tx).await?;
    let (own, others) = if parts.get() > 1 {
        let split = ranges::split(ranges::sent_bounds(tx).await?, parts);
        let run = parts::run_id(tx).await?;
        let staging = (2..).map(|number| Staging { run, number });
        (split[0], staging.zip(split[1..].iter().copied()).collect())
    } else {
        (Range::ALL, Vec::new())
    };
    let own_sql = per_survey(&format!("TABLE {NEXT}"), basis, own);
    let (own_rows, computed) = tokio::join!(
        tx.execute(own_sql.as_str()),
        parts::compute(pool, basis, &others),
    );
    let mut rows = own_rows?.rows_affected();
    computed?;
    for &(staging, _) in &others {
        rows += parts::append(tx, staging).await?;
    }
    Ok(rows)
}
