//! The SQL that turns surveys into score figures: one row per sent survey in
//! `score_surveys`, summed into one row per local day, agent and queue in `score_cells`.
//!
//! Both paths (`incremental.rs`, `rebuild.rs`) share the expressions below, so folding in
//! changes and rebuilding cannot drift apart; they differ only in which surveys they read and
//! how (index lookups for a few surveys, scans over everything for a rebuild).

/// Per survey, from its valid answers. $2, $3, $4: the csat, nps and fcr question ids.
/// A value that is not a whole number on the metric's scale (or not a boolean for fcr) is
/// ignored rather than miscounted — and never cast in a way that could fail: one bad answer
/// must not stop every later run. Every column reads only rows with a `question_id`, so a
/// rebuild can sum answers and messages in one stream (`rebuild.rs`), where a message's row
/// has none.
pub(super) const ANSWER_COLUMNS: &str = "
    count(question_id) AS answered,
    max(round((value::text)::numeric)::int) FILTER (
        WHERE question_id = ANY($2) AND jsonb_typeof(value) = 'number'
          AND (value::text)::numeric IN (1, 2, 3, 4, 5)) AS csat,
    max(round((value::text)::numeric)::int) FILTER (
        WHERE question_id = ANY($3) AND jsonb_typeof(value) = 'number'
          AND (value::text)::numeric IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) AS nps,
    bool_or(value = 'true'::jsonb) FILTER (WHERE question_id = ANY($4) AND jsonb_typeof(value) = 'boolean') AS fcr";

/// Per survey, from its outbound messages: segments the provider accepted, and whether the
/// first question (the one message with purpose `question`; later ones are `follow_up`) was
/// delivered. No ordering needed: a sort of every message slows a rebuild down (BENCHMARKS.md,
/// "Measurements behind the code"). Every column reads only rows with a `status`, so an
/// answer's row in a rebuild's one stream counts for nothing here.
pub(super) const MESSAGE_COLUMNS: &str = "
    sum(segments) FILTER (WHERE status IN ('queued', 'sent', 'delivered', 'undelivered')) AS segments,
    coalesce(bool_or(status = 'delivered') FILTER (WHERE purpose = 'question'), false) AS delivered";

/// A `score_surveys` row, in its column order, from survey `s`, its call `c`, and the
/// columns above under the aliases `a` (answers) and `m` (messages) — one alias for both
/// in a rebuild. Either may be missing: no answers, no messages.
pub(super) fn survey_row(a: &str, m: &str) -> String {
    format!(
        "s.id AS survey_id, (c.ended_at AT TIME ZONE $1)::date AS day, c.agent_id, c.queue,
         coalesce({m}.delivered, false) AS delivered, coalesce({a}.answered, 0) > 0 AS responded,
         {a}.csat::smallint AS csat, {a}.nps::smallint AS nps, {a}.fcr,
         round(c.wait_seconds * 1000)::bigint AS wait_ms,
         coalesce({m}.segments, 0)::bigint AS segments"
    )
}

/// A `score_cells` row, in its column order, from `score_surveys` rows grouped by cell.
/// Integer sums only (wait in ms): the same surveys give the same row, whichever runs wrote
/// them.
pub(super) const CELL_ROW: &str = "
    day, agent_id, queue,
    count(*) AS sent,
    count(*) FILTER (WHERE delivered) AS delivered,
    count(*) FILTER (WHERE responded) AS responses,
    count(csat) AS csat_n,
    count(*) FILTER (WHERE csat >= 4) AS csat_satisfied,
    coalesce(sum(csat), 0) AS csat_sum,
    count(nps) AS nps_n,
    count(*) FILTER (WHERE nps >= 9) AS promoters,
    count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
    count(*) FILTER (WHERE nps <= 6) AS detractors,
    count(fcr) AS fcr_n,
    count(*) FILTER (WHERE fcr) AS fcr_yes,
    count(wait_ms) AS wait_n,
    coalesce(sum(wait_ms), 0) AS wait_ms_sum,
    coalesce(sum(segments), 0) AS sms_segments";
