//! `GET /api/v1/scores` (DESIGN.md §5): the aggregated scores of a date range, grouped by
//! agent, queue and/or day, as JSON or CSV.

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::scores::{Scores, scores},
    http::{AppState, error::HttpError},
    store::scores::{self as store, Dimension},
};

/// A range longer than this is a typo, not a report (a year of data is the expected use).
const MAX_DAYS: i64 = 3660;
/// Without `from`, the range is the last 30 days up to `to`.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Serialize)]
struct Body {
    from: NaiveDate,
    to: NaiveDate,
    group_by: Vec<&'static str>,
    groups: Vec<Group>,
}

#[derive(Debug, Serialize)]
struct Group {
    key: Key,
    #[serde(flatten)]
    scores: Scores,
}

#[derive(Debug, Serialize)]
struct Key {
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// A validated request.
#[derive(Debug, PartialEq)]
struct Request {
    from: NaiveDate,
    to: NaiveDate,
    by: Vec<Dimension>,
    format: Format,
}

pub async fn show(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HttpError> {
    let today = Utc::now().with_timezone(&state.scores_zone).date_naive();
    let request = Request::parse(params, today).map_err(HttpError::BadRequest)?;
    let groups = store::sum(&state.pool, request.from, request.to, &request.by).await?;
    let aggregated_at = store::aggregated_at(&state.pool).await?;
    let body = Body {
        from: request.from,
        to: request.to,
        group_by: request.by.iter().map(|d| d.name()).collect(),
        groups: groups
            .into_iter()
            .map(|g| Group {
                key: Key {
                    agent_id: g.agent_id,
                    queue: g.queue,
                    day: g.day,
                },
                scores: scores(&g.tally),
            })
            .collect(),
    };
    let mut response = match request.format {
        Format::Json => Json(&body).into_response(),
        Format::Csv => csv_response(&body, &request.by)?,
    };
    // When the figures were computed: they lag the answers by up to one schedule interval.
    if let Some(at) = aggregated_at
        && let Ok(value) = HeaderValue::from_str(&at.to_rfc3339())
    {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-postcall-aggregated-at"), value);
    }
    Ok(response)
}

impl Request {
    fn parse(params: Params, today: NaiveDate) -> Result<Self, String> {
        let date = |name: &str, value: Option<&str>| -> Result<Option<NaiveDate>, String> {
            value
                .map(|v| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .filter(|_| v.len() == 10)
                        .ok_or_else(|| format!("{name}: expected a date as YYYY-MM-DD, got {v:?}"))
                })
                .transpose()
        };
        let to = date("to", params.to.as_deref())?.unwrap_or(today);
        let from =
            date("from", params.from.as_deref())?.unwrap_or(to - TimeDelta::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(format!("from … to spans more than {MAX_DAYS} days"));
        }
        let mut by = Vec::new();
        for name in params
            .group_by
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let d = Dimension::parse(name).ok_or_else(|| {
                format!(
                    "group_by: unknown group {name:?}; use agent, queue and/or day, comma-joined"
                )
            })?;
            if by.contains(&d) {
                return Err(format!("group_by: {name} is given twice"));
            }
            by.push(d);
        }
        let format = match params.format.as_deref() {
            None | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(other) => return Err(format!("format: expected json or csv, got {other:?}")),
        };
        Ok(Self {
            from,
            to,
            by,
            format,
        })
    }
}

/// The same groups as CSV: the key's columns, then every figure, intervals as two columns;
/// a null is an empty field.
fn csv_response(body: &Body, by: &[Dimension]) -> Result<Response, HttpError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = by
        .iter()
        .map(|d| d.column())
        .chain(FIGURE_COLUMNS)
        .collect();
    out.write_record(&header).map_err(internal)?;
    for g in &body.groups {
        let mut record: Vec<String> = by
            .iter()
            .map(|d| match d {
                Dimension::Agent => g.key.agent_id.clone().unwrap_or_default(),
                Dimension::Queue => g.key.queue.clone().unwrap_or_default(),
                Dimension::Day => g.key.day.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect();
        record.extend(figures(&g.scores));
        out.write_record(&record).map_err(internal)?;
    }
    let bytes = out.into_inner().map_err(|e| internal(e.into_error()))?;
    let filename = format!(
        "attachment; filename=\"scores_{}_{}.csv\"",
        body.from, body.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        bytes,
    )
        .into_response())
}

const FIGURE_COLUMNS: [&str; 24] = [
    "sent",
    "delivered",
    "responses",
    "response_rate",
    "csat_n",
    "csat_satisfied",
    "csat_score",
    "csat_mean",
    "csat_ci95_low",
    "csat_ci95_high",
    "nps_n",
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
    "nps_score",
    "nps_ci95_low",
    "nps_ci95_high",
    "fcr_n",
    "fcr_yes",
    "fcr_rate",
    "fcr_ci95_low",
    "fcr_ci95_high",
    "avg_wait_seconds",
    "sms_segments",
];

fn figures(s: &Scores) -> [String; 24] {
    let n = |v: u64| v.to_string();
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let low = |ci: Option<[f64; 2]>| f(ci.map(|c| c[0]));
    let high = |ci: Option<[f64; 2]>| f(ci.map(|c| c[1]));
    [
        n(s.sent),
        n(s.delivered),
        n(s.responses),
        f(s.response_rate),
        n(s.csat.n),
        n(s.csat.satisfied),
        f(s.csat.score),
        f(s.csat.mean),
        low(s.csat.ci95),
        high(s.csat.ci95),
        n(s.nps.n),
        n(s.nps.promoters),
        n(s.nps.passives),
        n(s.nps.detractors),
        f(s.nps.score),
        low(s.nps.ci95),
        high(s.nps.ci95),
        n(s.fcr.n),
        n(s.fcr.yes),
        f(s.fcr.rate),
        low(s.fcr.ci95),
        high(s.fcr.ci95),
        f(s.avg_wait_seconds),
        n(s.sms_segments),
    ]
}

fn internal(e: impl Into<anyhow::Error>) -> HttpError {
    HttpError::Internal(e.into())
}

#[cfg(test)]
mod tests;
