//! Correctness, checked at the end of every invocation: the cells the incremental runs left
//! must be exactly what a rebuild computes, and their totals what simpler SQL counts
//! straight from surveys, answers and messages.

use std::collections::BTreeSet;

use sqlx::PgPool;

use super::seed::Survey;

/// Every cell as text, in key order.
pub async fn snapshot(pool: &PgPool) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT c::text FROM score_cells c ORDER BY day, agent_id, queue")
            .fetch_all(pool)
            .await?,
    )
}

/// The rows of `folded` and `rebuilt` that differ, described; None if they are identical.
pub fn differences(folded: &[String], rebuilt: &[String]) -> Option<String> {
    if folded == rebuilt {
        return None;
    }
    let (a, b): (BTreeSet<_>, BTreeSet<_>) = (folded.iter().collect(), rebuilt.iter().collect());
    let only = |x: &BTreeSet<&String>, y: &BTreeSet<&String>| -> Vec<String> {
        x.difference(y)
            .take(5)
            .map(|s| format!("    {s}"))
            .collect()
    };
    Some(format!(
        "{} cells after the incremental runs, {} after a rebuild; {} rows only in the \
         incremental result, {} only in the rebuild's. First of each:\n  incremental:\n{}\n  \
         rebuild:\n{}",
        folded.len(),
        rebuilt.len(),
        a.difference(&b).count(),
        b.difference(&a).count(),
        only(&a, &b).join("\n"),
        only(&b, &a).join("\n"),
    ))
}

/// The cells' totals against counts taken straight from the tables, by simpler SQL than
/// the aggregation's: catches a mistake both aggregation paths would share.
pub async fn totals_mismatch(pool: &PgPool, s: &Survey) -> anyhow::Result<Option<String>> {
    let row: Vec<(String, i64, i64)> = sqlx::query_as(
        "WITH sent AS (SELECT id FROM surveys WHERE sent_at IS NOT NULL),
              valid AS (SELECT a.* FROM answers a JOIN sent ON sent.id = a.survey_id WHERE NOT a.late),
              cells AS (SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(responses), 0) AS responses,
                               coalesce(sum(csat_n), 0) AS csat_n, coalesce(sum(nps_n), 0) AS nps_n,
                               coalesce(sum(fcr_n), 0) AS fcr_n, coalesce(sum(fcr_yes), 0) AS fcr_yes,
                               coalesce(sum(sms_segments), 0) AS segments
                          FROM score_cells)
         SELECT 'sent', (SELECT sent FROM cells)::bigint, (SELECT count(*) FROM sent)
         UNION ALL SELECT 'responses', (SELECT responses FROM cells)::bigint,
                          (SELECT count(DISTINCT survey_id) FROM valid)
         UNION ALL SELECT 'csat_n', (SELECT csat_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $2)
         UNION ALL SELECT 'nps_n', (SELECT nps_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $3)
         UNION ALL SELECT 'fcr_n', (SELECT fcr_n FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $1)
         UNION ALL SELECT 'fcr_yes', (SELECT fcr_yes FROM cells)::bigint,
                          (SELECT count(*) FROM valid WHERE question_id = $1 AND value = 'true')
         UNION ALL SELECT 'sms_segments', (SELECT segments FROM cells)::bigint,
                          (SELECT coalesce(sum(m.segments), 0) FROM messages m JOIN sent ON sent.id = m.survey_id
                            WHERE m.direction = 'outbound'
                              AND m.status IN ('queued', 'sent', 'delivered', 'undelivered'))::bigint",
    )
    .bind(&s.answered[0])
    .bind(&s.answered[1])
    .bind(&s.answered[2])
    .fetch_all(pool)
    .await?;
    let wrong: Vec<String> = row
        .iter()
        .filter(|(_, cells, tables)| cells != tables)
        .map(|(name, cells, tables)| format!("{name}: cells {cells}, tables {tables}"))
        .collect();
    Ok((!wrong.is_empty()).then(|| wrong.join("; ")))
}
