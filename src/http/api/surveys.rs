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
};

pub async fn show(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    check_call_id(&call_id)?;
    let found: Option<Value> = sqlx::query_scalar(
        r#"
        SELECT jsonb_build_object(
            'call_id', c.call_id,
            'decision', CASE WHEN c.decision = 'scheduled' THEN 'scheduled' ELSE 'skipped' END,
            'reason', c.decision,
            'state', s.state,
            'send_at', s.send_at,
            'messages', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'id', m.id, 'direction', m.direction, 'body', m.body, 'segments', m.segments,
                    'status', m.status, 'provider_message_id', m.provider_message_id,
                    'created_at', m.created_at) ORDER BY m.created_at)
                  FROM messages m WHERE m.survey_id = s.id), '[]'::jsonb)
              || coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'id', i.id::text, 'direction', 'inbound', 'body', i.body, 'segments', NULL,
                    'status', 'received', 'provider_message_id', i.provider_message_id,
                    'created_at', i.received_at) ORDER BY i.received_at)
                  FROM inbound_messages i WHERE i.survey_id = s.id), '[]'::jsonb),
            'answers', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'question_id', a.question_id, 'value', a.value, 'raw', a.raw,
                    'received_at', a.received_at, 'late', a.late) ORDER BY a.id)
                  FROM answers a WHERE a.survey_id = s.id), '[]'::jsonb))
          FROM calls c LEFT JOIN surveys s USING (call_id)
         WHERE c.call_id = $1
        "#,
    )
    .bind(&call_id)
    .fetch_optional(&state.pool)
    .await?;
    found.map(Json).ok_or(HttpError::NotFound)
}

/// A `call_id` no event could have carried is refused before the query: PostgreSQL's text
/// cannot hold a NUL (the query would fail, a 500), and the event contract caps the length.
fn check_call_id(call_id: &str) -> Result<(), HttpError> {
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
