//! `GET /api/v1/scores`: the aggregated scores of a date range, grouped by agent, queue
//! and/or day, as JSON or CSV.

mod csv_file;

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        follow_up::Figures,
        scores::{Scores, scores},
    },
    http::{AppState, error::HttpError},
    store::scores::{self as store, Dimension, Key},
};

/// Without `from`, the range is the last 30 days up to `to`.
const DEFAULT_DAYS: i64 = 30;
/// The first day a query may name. RFC 3339's four-digit year allows 0000, but many date
/// libraries (Python's, so most OpenAPI tools' `format: date`) have no year 0.
const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date");

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
    ranking: Ranking,
}

/// How a reader should rank the groups (the dashboard does): only those with at least
/// `min_answers` responses, so a group resting on one or two answers is neither top nor
/// bottom (`scores.min_answers_to_rank`).
#[derive(Debug, Serialize)]
struct Ranking {
    min_answers: u64,
}

#[derive(Debug, Serialize)]
struct Group {
    key: Key,
    #[serde(flatten)]
    scores: Scores,
    follow_up: Figures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// A validated request. `from` after `to` is an empty range, answered with no groups (or
/// totals of zero), not refused: a client asking for "the 1st to yesterday" on the 1st gets
/// an empty report rather than an error it must special-case.
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
    // One snapshot for the count, the groups and the run time: an aggregation committing in
    // between cannot push the groups past the count that was checked. The count is a
    // grouping without sums, several times cheaper than the answer it refuses.
    let mut tx = state
        .pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?;
    let count = store::count(&mut *tx, request.from, request.to, &request.by).await?;
    if count > state.max_groups {
        return Err(HttpError::BadRequest(
            request.too_many(count, state.max_groups),
        ));
    }
    let groups = store::sum(&mut *tx, request.from, request.to, &request.by).await?;
    let zone = state.scores_zone.name();
    let follow_up: HashMap<Key, Figures> =
        store::follow_up(&mut *tx, request.from, request.to, zone, &request.by)
            .await?
            .into_iter()
            .collect();
    let aggregated_at = store::aggregated_at(&mut *tx).await?;
    tx.commit().await?;
    let body = Body {
        from: request.from,
        to: request.to,
        group_by: request.by.iter().map(|d| d.name()).collect(),
        groups: groups
            .into_iter()
            .map(|g| Group {
                follow_up: follow_up.get(&g.key).copied().unwrap_or_default(),
                key: g.key,
                scores: scores(&g.tally),
            })
            .collect(),
        ranking: Ranking {
            min_answers: state.min_answers_to_rank,
        },
    };
    let mut response = match request.format {
        Format::Json => Json(&body).into_response(),
        Format::Csv => csv_file::response(&body, &request.by)?,
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
        let to = date("to", params.to.as_deref())?.unwrap_or(today);
        let from = date("from", params.from.as_deref())?
            .unwrap_or_else(|| (to - TimeDelta::days(DEFAULT_DAYS - 1)).max(FIRST_DAY));
        let mut by = Vec::new();
        // Exactly as documented: names joined by single commas, no spaces; empty is none.
        let group_by = params.group_by.as_deref().unwrap_or_default();
        for name in group_by.split(',').filter(|_| !group_by.is_empty()) {
            let d = Dimension::parse(name).ok_or_else(|| {
                format!(
                    "group_by: unknown group {name:?}; use agent, queue and/or day, joined by commas without spaces"
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

    /// Why a request for `count` groups is refused, and how to ask for fewer.
    fn too_many(&self, count: u64, max: u64) -> String {
        let by: Vec<&str> = self.by.iter().map(|d| d.name()).collect();
        format!(
            "group_by={} from {} to {} gives {count} groups, more than the {max} one answer may \
             hold (api.max_groups): ask for a shorter range or fewer group_by dimensions",
            by.join(","),
            self.from,
            self.to
        )
    }
}

/// A query date: `YYYY-MM-DD` exactly, a real day from 0001-01-01 to 9999-12-31. chrono alone
/// would also take a sign, a year of other than four digits, or single-digit fields.
pub(super) fn date(name: &str, value: Option<&str>) -> Result<Option<NaiveDate>, String> {
    let Some(v) = value else { return Ok(None) };
    let shaped = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
        .filter(|d| *d >= FIRST_DAY)
        .map(Some)
        .ok_or_else(|| {
            format!("{name}: expected a date as YYYY-MM-DD (0001-01-01 to 9999-12-31), got {v:?}")
        })
}

fn internal(e: impl Into<anyhow::Error>) -> HttpError {
    HttpError::Internal(e.into())
}

#[cfg(test)]
mod tests;
