//! `GET /api/v1/cases`: the follow-up worklist (售后跟踪) — the cases in the states asked for
//! (say `open`: nobody has called back yet), the customer who has waited longest first, a
//! page at a time (DESIGN.md §5).

use axum::{
    Json,
    extract::{Query, State},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    cases::with_next,
    cursor::Position,
    page::{self, Row, text},
    scores::date,
};
use crate::{
    domain::follow_up::CaseState,
    http::{AppState, error::HttpError},
    store::case_list::{self as store, After, Filter},
};

#[derive(Debug, Deserialize)]
pub struct Params {
    state: Option<String>,
    from: Option<String>,
    to: Option<String>,
    agent: Option<String>,
    queue: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Json<Value>, HttpError> {
    let zone = state.scores_zone.name();
    let request = Request::parse(&params, zone).map_err(HttpError::BadRequest)?;
    let rows = store::page(
        &state.pool,
        &request.filter,
        request.after,
        request.limit + 1,
    )
    .await?;
    let rows = rows.into_iter().map(|i| Row {
        at: Position {
            at: i.detractor_at,
            survey_id: i.survey_id,
        },
        customer_phone: i.customer_phone,
        item: with_next(i.item),
    });
    Ok(page::answer(rows.collect(), request.limit))
}

#[derive(Debug)]
struct Request<'a> {
    filter: Filter<'a>,
    after: Option<After>,
    limit: i64,
}

impl<'a> Request<'a> {
    fn parse(params: &'a Params, zone: &'a str) -> Result<Self, String> {
        let after = page::after(params.cursor.as_deref())?.map(|p| After {
            detractor_at: p.at,
            survey_id: p.survey_id,
        });
        Ok(Self {
            filter: Filter {
                states: states(params.state.as_deref())?,
                from: date("from", params.from.as_deref())?,
                to: date("to", params.to.as_deref())?,
                zone,
                agent: text("agent", params.agent.as_deref())?,
                queue: text("queue", params.queue.as_deref())?,
            },
            after,
            limit: page::limit(params.limit.as_deref())?,
        })
    }
}

/// `state`: one or more states joined by commas without spaces; none is all.
fn states(value: Option<&str>) -> Result<Vec<CaseState>, String> {
    let mut out = Vec::new();
    for name in value
        .unwrap_or_default()
        .split(',')
        .filter(|_| value.is_some())
    {
        let s = name.parse::<CaseState>().map_err(|_| {
            let names: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
            format!(
                "state: expected {} (several joined by commas), got {name:?}",
                names.join(", ")
            )
        })?;
        // A state named twice is still that state: the set asked for is the same.
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        Params {
            state: get("state"),
            from: get("from"),
            to: get("to"),
            agent: get("agent"),
            queue: get("queue"),
            limit: get("limit"),
            cursor: get("cursor"),
        }
    }

    #[test]
    fn states_are_named_and_none_is_every_state() {
        assert_eq!(states(None), Ok(vec![]));
        assert_eq!(states(Some("open")), Ok(vec![CaseState::Open]));
        assert_eq!(
            states(Some("open,unreachable")),
            Ok(vec![CaseState::Open, CaseState::Unreachable])
        );
        assert_eq!(states(Some("open,open")), Ok(vec![CaseState::Open]));
        for bad in ["", "closed", "open,", "open, unreachable", "Open"] {
            let err = states(Some(bad)).unwrap_err();
            assert!(err.starts_with("state:"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn each_bad_parameter_is_refused_by_its_name() {
        for (pairs, name) in [
            (&[("limit", "201")][..], "limit:"),
            (&[("limit", "0")], "limit:"),
            (&[("state", "new")], "state:"),
            (&[("from", "2026-13-01")], "from:"),
            (&[("to", "today")], "to:"),
            (&[("agent", "a\0b")], "agent:"),
            (&[("queue", "\0")], "queue:"),
            (&[("cursor", "v2.1.1")], "cursor:"),
        ] {
            let p = params(pairs);
            let err = Request::parse(&p, "Asia/Shanghai").unwrap_err();
            assert!(err.starts_with(name), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn defaults_are_fifty_of_every_state() {
        let p = params(&[]);
        let r = Request::parse(&p, "UTC").unwrap();
        assert_eq!((r.limit, r.after, r.filter.states), (50, None, vec![]));
    }
}
