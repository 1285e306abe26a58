//! The rebuild's SQL: the per-survey rows of one range of surveys as a new table, the cells
//! summed from the new rows, and the swap that puts them in place of `score_surveys`.

use super::{
    inline::{array, inline, literal},
    ranges::Range,
};
use crate::{
    domain::score_basis::Basis,
    store::aggregation::cells::{ANSWER_COLUMNS, CELL_ROW, MESSAGE_COLUMNS, survey_row},
};

/// For each transaction that computes per-survey rows. `enable_hashagg`: the planner
/// underestimates the surveys per answer or message (1.3 M and 0.55 M groups for 3.4 M and
/// 4.2 M) and would hash them, spilling to disk; grouped in index order nothing is sorted or
/// spilled. `work_mem`: the hash tables left fit in memory at 4 M surveys
/// (`hash_mem_multiplier` 2) instead of being split into batches on disk — in one pass three
/// (surveys, answer sums, message sums; 60–100 bytes a survey), in a range the calls alone
/// (429 MB), the sums being merged in survey order. No parallel workers: each survey's few rows make partial sums
/// as large as the input (BENCHMARKS.md, aggregate); the parts are the parallelism.
/// `maintenance_work_mem`: the two index builds sort 4 M entries in memory rather than
/// through temp files.
pub(super) const SETTINGS: &str = "
    SET LOCAL work_mem = '256MB';
    SET LOCAL maintenance_work_mem = '512MB';
    SET LOCAL max_parallel_workers_per_gather = 0;
    SET LOCAL enable_hashagg = off";

/// Hash aggregation is turned back on for the cells (200 k groups, in memory).
pub(super) const CELL_SETTINGS: &str = "SET LOCAL enable_hashagg = on";

/// The table the rebuild's own transaction fills and swaps in.
pub(super) const NEXT: &str = "score_surveys_next";

/// The per-survey rows of the sent surveys in `range`, as the new table `table` (`TABLE
/// name` or `UNLOGGED TABLE name`). Answers and outbound messages are read from their
/// covering indexes in survey order and summed survey by survey; the sums and the calls are
/// then joined by hash. The range is repeated on each input: the planner carries equalities
/// across a join, not ranges. `CREATE TABLE AS` takes no bind parameters, so the basis is
/// inlined as quoted literals.
pub(super) fn per_survey(table: &str, basis: &Basis, range: Range) -> String {
    let survey_row = survey_row("a", "m");
    let (surveys, answers, messages) = (
        range.condition("s.id"),
        range.condition("survey_id"),
        range.condition("survey_id"),
    );
    let sql = format!(
        "CREATE {table} AS
         SELECT {survey_row}
           FROM surveys s
           JOIN calls c ON c.call_id = s.call_id
           LEFT JOIN (SELECT survey_id, {ANSWER_COLUMNS} FROM answers
                       WHERE NOT late AND {answers} GROUP BY survey_id) a ON a.survey_id = s.id
           LEFT JOIN (SELECT survey_id, {MESSAGE_COLUMNS} FROM messages
                       WHERE direction = 'outbound' AND {messages}
                       GROUP BY survey_id) m ON m.survey_id = s.id
          WHERE s.sent_at IS NOT NULL AND {surveys}"
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

/// Every cell, from the new per-survey rows; returns how many.
pub(super) fn all_cells() -> String {
    format!(
        "WITH written AS (
            INSERT INTO score_cells SELECT {CELL_ROW} FROM {NEXT}
             GROUP BY day, agent_id, queue
            RETURNING 1
        )
        SELECT count(*) FROM written"
    )
}

/// The new table gets the migration's constraints and index names, then replaces the old.
pub(super) const SWAP: &str = "
    ALTER TABLE score_surveys_next ADD CONSTRAINT score_surveys_next_pkey PRIMARY KEY (survey_id),
        ALTER day SET NOT NULL, ALTER agent_id SET NOT NULL, ALTER queue SET NOT NULL,
        ALTER delivered SET NOT NULL, ALTER responded SET NOT NULL, ALTER segments SET NOT NULL;
    CREATE INDEX score_surveys_next_cell_idx ON score_surveys_next (day, agent_id, queue);
    DROP TABLE score_surveys;
    ALTER TABLE score_surveys_next RENAME TO score_surveys;
    ALTER INDEX score_surveys_next_pkey RENAME TO score_surveys_pkey;
    ALTER INDEX score_surveys_next_cell_idx RENAME TO score_surveys_cell_idx;
    ANALYZE score_surveys";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_restricts_surveys_answers_and_messages_alike() {
        let basis = Basis {
            model: 2,
            timezone: "Asia/Shanghai".into(),
            csat: vec!["q1".into()],
            nps: vec![],
            fcr: vec![],
        };
        let all = per_survey("TABLE t", &basis, Range::ALL);
        assert_eq!(all.matches("AND true").count(), 3, "{all}");
        assert!(!all.contains('$'), "every parameter inlined: {all}");
    }
}
