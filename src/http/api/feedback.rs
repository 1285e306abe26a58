//! `GET /api/v1/feedback`: what customers said — the surveys with a comment, a detractor
//! answer or an answer read past a remark, newest call first, a page at a time (DESIGN.md
//! §5).

use axum::{
    Json,
    extract::{Query, State},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    cursor::Position,
    page::{self, Row, text},
    scores::date,
};
use crate::{
    http::{AppState, error::HttpError},
    store::feedback::{self as store, After, Filter, Kind},
};

#[derive(Debug, Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    agent: Option<String>,
    queue: Option<String>,
    kind: Option<String>,
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
            at: i.ended_at,
            survey_id: i.survey_id,
        },
        customer_phone: i.customer_phone,
        item: i.item,
    });
    Ok(page::answer(rows.collect(), request.limit))
}

/// A validated request.
#[derive(Debug)]
struct Request<'a> {
    filter: Filter<'a>,
    after: Option<After>,
    limit: i64,
}

impl<'a> Request<'a> {
    fn parse(params: &'a Params, zone: &'a str) -> Result<Self, String> {
        let kind = params
            .kind
            .as_deref()
            .map(|k| {
                Kind::parse(k).ok_or_else(|| {
                    format!("kind: expected comment, detractor or remark, got {k:?}")
                })
            })
            .transpose()?;
        Ok(Self {
            filter: Filter {
                from: date("from", params.from.as_deref())?,
                to: date("to", params.to.as_deref())?,
                zone,
                agent: text("agent", params.agent.as_deref())?,
                queue: text("queue", params.queue.as_deref())?,
                kind,
            },
            after: page::after(params.cursor.as_deref())?.map(|p| After {
                ended_at: p.at,
                survey_id: p.survey_id,
            }),
            limit: page::limit(params.limit.as_deref())?,
        })
    }
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
            from: get("from"),
            to: get("to"),
            agent: get("agent"),
            queue: get("queue"),
            kind: get("kind"),
            limit: get("limit"),
            cursor: get("cursor"),
        }
    }

    fn refusal(pairs: &[(&str, &str)]) -> String {
        let p = params(pairs);
        Request::parse(&p, "Asia/Shanghai").unwrap_err()
    }

    #[test]
    fn defaults_are_the_newest_fifty_of_everything() {
        let p = params(&[]);
        let r = Request::parse(&p, "Asia/Shanghai").unwrap();
        assert_eq!(r.limit, 50);
        assert_eq!(r.after, None);
        assert_eq!(
            (r.filter.from, r.filter.to, r.filter.kind),
            (None, None, None)
        );
    }

    #[test]
    fn each_bad_parameter_is_refused_by_its_name() {
        for (pairs, name) in [
            (&[("limit", "201")][..], "limit:"),
            (&[("limit", "0")], "limit:"),
            (&[("limit", "-1")], "limit:"),
            (&[("limit", "ten")], "limit:"),
            (&[("kind", "praise")], "kind:"),
            (&[("from", "2026-13-01")], "from:"),
            (&[("to", "yesterday")], "to:"),
            (&[("agent", "a\0b")], "agent:"),
            (&[("queue", "\0")], "queue:"),
            (&[("cursor", "nope")], "cursor:"),
        ] {
            let err = refusal(pairs);
            assert!(err.starts_with(name), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn each_kind_is_taken_by_its_name_and_the_refusal_lists_them() {
        for (name, kind) in [
            ("comment", Kind::Comment),
            ("detractor", Kind::Detractor),
            ("remark", Kind::Remark),
        ] {
            let p = params(&[("kind", name)]);
            assert_eq!(Request::parse(&p, "UTC").unwrap().filter.kind, Some(kind));
        }
        let err = refusal(&[("kind", "remarks")]);
        assert_eq!(
            err,
            r#"kind: expected comment, detractor or remark, got "remarks""#
        );
    }

    #[test]
    fn the_limit_goes_up_to_two_hundred() {
        for n in ["1", "200"] {
            let p = params(&[("limit", n)]);
            assert_eq!(
                Request::parse(&p, "UTC").unwrap().limit,
                n.parse::<i64>().unwrap()
            );
        }
    }
}
