//! Recomputing everything: every sent survey's row of `score_surveys` from all answers and
//! messages, then every cell from those rows. One transaction: readers of `score_cells` see
//! the old scores until the new ones commit, and a rebuild that fails or crashes midway
//! leaves the old tables as they were.
//!
//! One pass over the inputs: answers and outbound messages are read from their covering
//! indexes in survey order (index-only scans, not the 5 GB of their tables) and summed
//! survey by survey, with no sort and nothing spilled to disk. The rows go into
//! a new table (`CREATE TABLE … AS`: no index to maintain while it fills), the cells are
//! summed from it, and only then is it indexed, once, by sorting in memory, and swapped in
//! for `score_surveys`. Only the aggregator reads `score_surveys`, under the lock this
//! transaction holds, so the swap's exclusive lock stops no one.

use sqlx::{Executor, Postgres, Transaction};

use super::{
    Folded,
    cells::{ANSWER_COLUMNS, CELL_ROW, MESSAGE_COLUMNS, survey_row},
};
use crate::domain::score_basis::Basis;

/// For this transaction only. `enable_hashagg`: the planner underestimates the surveys
/// per answer or message (1.3 M and 0.55 M groups for 3.4 M and 4.2 M) and would hash them,
/// spilling to disk; grouped in index order nothing is sorted or spilled. `work_mem`: the
/// three hash tables left (calls, answer sums, message sums; 60–100 bytes a survey) fit in
/// memory at 4 M surveys (`hash_mem_multiplier` 2) instead of being split into batches on
/// disk. No parallel workers: each survey's few rows make partial sums as large as the
/// input (BENCHMARKS.md, aggregate). `maintenance_work_mem`: the two index builds sort 4 M
/// entries in memory rather than through temp files. Hash aggregation is turned back on
/// for the cells (200 k groups, in memory).
const SETTINGS: &str = "
    SET LOCAL work_mem = '256MB';
    SET LOCAL maintenance_work_mem = '512MB';
    SET LOCAL max_parallel_workers_per_gather = 0;
    SET LOCAL enable_hashagg = off";
const CELL_SETTINGS: &str = "SET LOCAL enable_hashagg = on";

/// The per-survey rows of every sent survey, as a new table. Answers and outbound messages
/// are read from their covering indexes in survey order and summed survey by survey; the
/// sums and the calls are then joined by hash. `CREATE TABLE AS` takes no bind parameters,
/// so the basis is inlined as quoted literals.
fn create_next(basis: &Basis) -> String {
    let survey_row = survey_row("a", "m");
    let sql = format!(
        "CREATE TABLE score_surveys_next AS
         SELECT {survey_row}
           FROM surveys s
           JOIN calls c ON c.call_id = s.call_id
           LEFT JOIN (SELECT survey_id, {ANSWER_COLUMNS} FROM answers WHERE NOT late
                       GROUP BY survey_id) a ON a.survey_id = s.id
           LEFT JOIN (SELECT survey_id, {MESSAGE_COLUMNS} FROM messages
                       WHERE direction = 'outbound' GROUP BY survey_id) m ON m.survey_id = s.id
          WHERE s.sent_at IS NOT NULL"
    );
    inline(
        &sql,
        &[
            literal(&basis.timezone),
            array(&basis.csat),
            array(&basis.nps),
            array(&basis.fcr),
        ],
    )
}

/// Every cell, from the new per-survey rows.
fn all_cells() -> String {
    format!(
        "WITH written AS (
            INSERT INTO score_cells SELECT {CELL_ROW} FROM score_surveys_next
             GROUP BY day, agent_id, queue
            RETURNING 1
        )
        SELECT count(*) FROM written"
    )
}

/// The new table gets the migration's constraints and index names, then replaces the old.
const SWAP: &str = "
    ALTER TABLE score_surveys_next ADD CONSTRAINT score_surveys_next_pkey PRIMARY KEY (survey_id),
        ALTER day SET NOT NULL, ALTER agent_id SET NOT NULL, ALTER queue SET NOT NULL,
        ALTER delivered SET NOT NULL, ALTER responded SET NOT NULL, ALTER segments SET NOT NULL;
    CREATE INDEX score_surveys_next_cell_idx ON score_surveys_next (day, agent_id, queue);
    DROP TABLE score_surveys;
    ALTER TABLE score_surveys_next RENAME TO score_surveys;
    ALTER INDEX score_surveys_next_pkey RENAME TO score_surveys_pkey;
    ALTER INDEX score_surveys_next_cell_idx RENAME TO score_surveys_cell_idx;
    ANALYZE score_surveys";

/// Recomputes every survey's row and every cell; the change log is consumed with them.
pub async fn rebuild(tx: &mut Transaction<'_, Postgres>, basis: &Basis) -> sqlx::Result<Folded> {
    tx.execute(SETTINGS).await?;
    let changes: i64 = sqlx::query_scalar(
        "WITH changed AS (DELETE FROM score_changes RETURNING 1) SELECT count(*) FROM changed",
    )
    .fetch_one(&mut **tx)
    .await?;
    let surveys = tx
        .execute(create_next(basis).as_str())
        .await?
        .rows_affected();
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

/// `sql` with each `$n` replaced by `values[n - 1]`, in one pass (a value may hold a `$`).
fn inline(sql: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
        match values.get(n.wrapping_sub(1)) {
            Some(value) if digits > 0 => out.push_str(value),
            _ => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// A string constant; with `standard_conforming_strings` (on since PostgreSQL 9.1) only the
/// quote needs doubling.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn array(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_inlined_as_quoted_literals_in_one_pass() {
        let values = [
            literal("Asia/Shanghai"),
            array(&["it's".into(), "$2".into()]),
        ];
        assert_eq!(
            inline("zone $1, ids $2, $3 and $ stay", &values),
            "zone 'Asia/Shanghai', ids ARRAY['it''s', '$2']::text[], $3 and $ stay"
        );
        assert_eq!(array(&[]), "ARRAY[]::text[]");
    }
}
