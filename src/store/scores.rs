//! Reading score cells: sums over a date range, grouped as the scores API asks; and the
//! follow-up cases' figures, grouped the same way.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgExecutor, Row};

use crate::domain::{follow_up::Figures, scores::Tally};

/// What a group can be keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Agent,
    Queue,
    Day,
}

impl Dimension {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "agent" => Some(Self::Agent),
            "queue" => Some(Self::Queue),
            "day" => Some(Self::Day),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Queue => "queue",
            Self::Day => "day",
        }
    }

    /// The column, and the key field in the API's JSON and CSV.
    pub fn column(self) -> &'static str {
        match self {
            Self::Agent => "agent_id",
            Self::Queue => "queue",
            Self::Day => "day",
        }
    }
}

/// A group's key: only the grouped parts are set (and serialised).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Key {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
}

/// One group's key and its summed counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub key: Key,
    pub tally: Tally,
}

/// How many groups `sum` would return, counted without summing anything, so a caller can
/// refuse a request before the groups are built. No dimension: the one group of totals.
pub async fn count<'e>(
    db: impl PgExecutor<'e>,
    from: NaiveDate,
    to: NaiveDate,
    by: &[Dimension],
) -> sqlx::Result<u64> {
    if by.is_empty() {
        return Ok(1);
    }
    let keys: Vec<&str> = by.iter().map(|d| d.column()).collect();
    let sql = format!(
        "SELECT count(*) FROM (SELECT FROM score_cells WHERE day BETWEEN $1 AND $2
                                GROUP BY {}) g",
        keys.join(", ")
    );
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(from)
        .bind(to)
        .fetch_one(db)
        .await?;
    Ok(n.max(0) as u64)
}

/// Sums the cells with `from ≤ day ≤ to` per group of `by`, ordered by the key in `by`'s
/// order. No dimension: one group with the totals, even when there is nothing to sum.
pub async fn sum<'e>(
    db: impl PgExecutor<'e>,
    from: NaiveDate,
    to: NaiveDate,
    by: &[Dimension],
) -> sqlx::Result<Vec<Group>> {
    let (keys, grouping) = key_columns(by);
    let sql = format!(
        "SELECT {keys},
                {sums}
           FROM score_cells WHERE day BETWEEN $1 AND $2 {grouping}",
        sums = COUNTS
            .iter()
            .map(|c| format!("coalesce(sum({c}), 0)::bigint AS {c}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let rows = sqlx::query(&sql).bind(from).bind(to).fetch_all(db).await?;
    rows.iter().map(group).collect()
}

/// The key columns `agent_id, queue, day` (NULL where not grouped by), and the GROUP BY
/// and ORDER BY of `by`, for a FROM that has the three columns.
fn key_columns(by: &[Dimension]) -> (String, String) {
    let pick = |d: Dimension, null: &str| {
        if by.contains(&d) {
            d.column().to_owned()
        } else {
            format!("NULL::{null} AS {}", d.column())
        }
    };
    let keys = [
        pick(Dimension::Agent, "text"),
        pick(Dimension::Queue, "text"),
        pick(Dimension::Day, "date"),
    ]
    .join(", ");
    let grouped: Vec<&str> = by.iter().map(|d| d.column()).collect();
    let grouping = if grouped.is_empty() {
        String::new()
    } else {
        format!("GROUP BY {0} ORDER BY {0}", grouped.join(", "))
    };
    (keys, grouping)
}

/// The follow-up figures of the calls with `from ≤ local day ≤ to` (days in `zone`, as the
/// cells'), per group of `by`, keyed as [`sum`]'s groups. Counted from the cases as they
/// are now, not from the cells: a median cannot be summed, and a move made a minute ago
/// counts at once. Groups without a case are absent.
pub async fn follow_up<'e>(
    db: impl PgExecutor<'e>,
    from: NaiveDate,
    to: NaiveDate,
    zone: &str,
    by: &[Dimension],
) -> sqlx::Result<Vec<(Key, Figures)>> {
    let (keys, grouping) = key_columns(by);
    let sql = format!(
        "SELECT {keys},
                count(*) AS detractors,
                count(*) FILTER (WHERE contacted_at IS NOT NULL) AS contacted,
                count(*) FILTER (WHERE state = 'resolved') AS resolved,
                percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY extract(epoch FROM contacted_at - detractor_at) / 3600)
                    FILTER (WHERE contacted_at IS NOT NULL) AS median_hours
           FROM (SELECT c.agent_id, c.queue, (c.ended_at AT TIME ZONE $3)::date AS day,
                        k.state, k.detractor_at, k.contacted_at
                   FROM follow_up_cases k JOIN calls c USING (call_id)
                  -- The local days as bounds on the call's time, which its index serves.
                  WHERE c.ended_at >= ($1::date::timestamp AT TIME ZONE $3)
                    AND c.ended_at < (($2::date + 1)::timestamp AT TIME ZONE $3)) f
          {grouping}"
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .bind(zone)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let n = |c: &str| row.try_get::<i64, _>(c).map(|v| v.max(0) as u64);
            let key = Key {
                agent_id: row.try_get("agent_id")?,
                queue: row.try_get("queue")?,
                day: row.try_get("day")?,
            };
            let figures = Figures {
                detractors: n("detractors")?,
                contacted: n("contacted")?,
                resolved: n("resolved")?,
                median_hours_to_contact: row.try_get("median_hours")?,
            };
            Ok((key, figures))
        })
        .collect()
}

/// The summed columns of `score_cells`.
const COUNTS: [&str; 15] = [
    "sent",
    "delivered",
    "responses",
    "csat_n",
    "csat_satisfied",
    "csat_sum",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "fcr_n",
    "fcr_yes",
    "wait_n",
    "wait_ms_sum",
    "sms_segments",
];

fn group(row: &sqlx::postgres::PgRow) -> sqlx::Result<Group> {
    let n = |c: &str| row.try_get::<i64, _>(c).map(|v| v.max(0) as u64);
    Ok(Group {
        key: Key {
            agent_id: row.try_get("agent_id")?,
            queue: row.try_get("queue")?,
            day: row.try_get("day")?,
        },
        tally: Tally {
            sent: n("sent")?,
            delivered: n("delivered")?,
            responses: n("responses")?,
            csat_n: n("csat_n")?,
            csat_satisfied: n("csat_satisfied")?,
            csat_sum: n("csat_sum")?,
            nps_n: n("nps_n")?,
            promoters: n("promoters")?,
            passives: n("passives")?,
            detractors: n("detractors")?,
            fcr_n: n("fcr_n")?,
            fcr_yes: n("fcr_yes")?,
            wait_seconds_sum: row.try_get::<i64, _>("wait_ms_sum")? as f64 / 1000.0,
            wait_n: n("wait_n")?,
            sms_segments: n("sms_segments")?,
        },
    })
}

/// When the last aggregation run committed, if any has.
pub async fn aggregated_at<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT max(finished_at) FROM score_runs")
        .fetch_one(db)
        .await
}
