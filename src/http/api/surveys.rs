//! `GET /api/v1/surveys/{call_id}`: why a caller got (or did not get) an SMS, and what
//! became of it (DESIGN.md §5).

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::Value;

use crate::{
    domain::event::CALL_ID_MAX_CHARS,
    http::{AppState, error::HttpError},
    store::survey_view,
};

pub async fn show(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    check_call_id(&call_id)?;
    let found = survey_view::show(&state.pool, &call_id).await?;
    found.map(Json).ok_or(HttpError::NotFound)
}

/// A `call_id` no event could have carried is refused before the query: PostgreSQL's text
/// cannot hold a NUL (the query would fail, a 500), and the event contract caps the length.
pub(super) fn check_call_id(call_id: &str) -> Result<(), HttpError> {
    if call_id.contains('\0') {
        return Err(HttpError::BadRequest(
            "call_id must not contain a NUL character".into(),
        ));
    }
    let n = call_id.chars().count();
    if n > CALL_ID_MAX_CHARS {
        return Err(HttpError::BadRequest(format!(
            "call_id must be at most {CALL_ID_MAX_CHARS} characters, got {n}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_no_event_could_carry_are_refused_naming_the_parameter() {
        for bad in ["a\0b", "\0", &"x".repeat(129), &"中".repeat(129)] {
            let err = check_call_id(bad).unwrap_err().to_string();
            assert!(err.contains("call_id"), "{err}");
        }
        for good in ["call-0001", &"x".repeat(128), &"中".repeat(128), " "] {
            check_call_id(good).unwrap();
        }
    }
}
