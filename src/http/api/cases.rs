//! `GET /api/v1/cases/{call_id}` and `POST /api/v1/cases/{call_id}/moves`: a detractor's
//! follow-up case (售后跟踪), and the moves people make on it (DESIGN.md §5). A move the
//! case's state does not allow is a 409 saying why, and changes nothing.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::surveys::check_call_id;
use crate::{
    domain::follow_up::CaseState,
    http::{AppState, error::HttpError},
    store::follow_up::{self as store, Move, Moved},
};

/// Bounds on what a move stores: a name, and a note a person types.
const BY_MAX_CHARS: usize = 200;
const NOTE_MAX_CHARS: usize = 2000;
/// As the webhooks' limit: a move at its longest (2000 four-byte characters and the JSON
/// around them) is well under it, and a larger body is refused (413) before it is read.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    to: String,
    by: String,
    #[serde(default)]
    note: String,
}

pub async fn show(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    check_call_id(&call_id)?;
    let case = store::show(&state.pool, &call_id).await?;
    case.map(|c| Json(with_next(c))).ok_or(HttpError::NotFound)
}

pub async fn make_move(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, HttpError> {
    check_call_id(&call_id)?;
    // Read as JSON whatever its Content-Type says, as the webhooks do: a wrong header is
    // no reason to refuse a body that reads.
    let body: MoveBody =
        serde_json::from_slice(&body).map_err(|e| HttpError::BadRequest(format!("body: {e}")))?;
    let to = parse(&body).map_err(HttpError::BadRequest)?;
    let m = Move {
        to,
        by: body.by.trim(),
        note: body.note.trim(),
    };
    match store::make(&state.pool, &call_id, &m).await? {
        Moved::Done(case) => Ok(Json(with_next(case))),
        Moved::Refused(why) => Err(HttpError::Conflict(why.to_string())),
        Moved::NoCase => Err(HttpError::NotFound),
    }
}

/// The state asked for, once the body's texts are within bounds.
fn parse(body: &MoveBody) -> Result<CaseState, String> {
    let to = body.to.parse::<CaseState>().map_err(|_| {
        let names: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "to: expected one of {}, got {:?}",
            names.join(", "),
            body.to
        )
    })?;
    bounded("by", &body.by, BY_MAX_CHARS)?;
    if body.by.trim().is_empty() {
        return Err("by: say who made the move".into());
    }
    bounded("note", &body.note, NOTE_MAX_CHARS)?;
    Ok(to)
}

fn bounded(name: &str, value: &str, max: usize) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{name}: must not contain a NUL character"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(format!("{name}: at most {max} characters, got {n}"));
    }
    Ok(())
}

/// The case with the states it may move to next, so a client offers only those.
pub(super) fn with_next(mut case: Value) -> Value {
    let next: Vec<&str> = case["state"]
        .as_str()
        .and_then(|s| s.parse::<CaseState>().ok())
        .map(|s| s.next().into_iter().map(CaseState::as_str).collect())
        .unwrap_or_default();
    case["next"] = json!(next);
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(to: &str, by: &str, note: &str) -> MoveBody {
        MoveBody {
            to: to.into(),
            by: by.into(),
            note: note.into(),
        }
    }

    #[test]
    fn a_move_names_a_state_and_who_made_it() {
        assert_eq!(
            parse(&body("contacted", "wang.li", "called back")),
            Ok(CaseState::Contacted)
        );
        assert_eq!(
            parse(&body("resolved", "wang.li", "")),
            Ok(CaseState::Resolved)
        );
    }

    #[test]
    fn each_bad_field_is_refused_by_its_name() {
        for (b, name) in [
            (body("closed", "wang.li", ""), "to:"),
            (body("Contacted", "wang.li", ""), "to:"),
            (body("contacted", "", ""), "by:"),
            (body("contacted", "   ", ""), "by:"),
            (body("contacted", "a\0", ""), "by:"),
            (body("contacted", &"x".repeat(201), ""), "by:"),
            (body("contacted", "wang.li", &"说".repeat(2001)), "note:"),
            (body("contacted", "wang.li", "\0"), "note:"),
        ] {
            let err = parse(&b).unwrap_err();
            assert!(err.starts_with(name), "{err}");
        }
    }

    #[test]
    fn the_case_lists_its_next_states() {
        let case = with_next(json!({"state": "open"}));
        assert_eq!(case["next"], json!(["contacted", "unreachable"]));
        assert_eq!(with_next(json!({"state": "resolved"}))["next"], json!([]));
    }
}
