//! One call as `GET /api/v1/surveys/{call_id}` shows it: the decision, the survey, every
//! SMS both ways, the answers and the follow-up case, built as one JSON document by
//! PostgreSQL.

use serde_json::Value;
use sqlx::PgPool;

/// The call's view, or none if no call has this id.
pub async fn show(pool: &PgPool, call_id: &str) -> sqlx::Result<Option<Value>> {
    sqlx::query_scalar(
        r#"
        SELECT jsonb_build_object(
            'call_id', c.call_id,
            'decision', CASE WHEN c.decision = 'scheduled' THEN 'scheduled' ELSE 'skipped' END,
            'reason', c.decision,
            'state', s.state,
            'end_reason', s.end_reason,
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
                  FROM answers a WHERE a.survey_id = s.id), '[]'::jsonb),
            -- The survey's follow-up case, if a detractor answer opened one.
            'follow_up', (
                SELECT jsonb_build_object(
                    'state', k.state, 'reasons', to_jsonb(k.reasons),
                    'detractor_at', k.detractor_at, 'opened_at', k.opened_at,
                    'contacted_at', k.contacted_at,
                    'moves', coalesce((
                        SELECT jsonb_agg(jsonb_build_object(
                            'from', m.from_state, 'to', m.to_state, 'by', m.moved_by,
                            'note', m.note, 'at', m.moved_at) ORDER BY m.id)
                          FROM follow_up_moves m WHERE m.survey_id = k.survey_id), '[]'::jsonb))
                  FROM follow_up_cases k WHERE k.survey_id = s.id))
          FROM calls c LEFT JOIN surveys s USING (call_id)
         WHERE c.call_id = $1
        "#,
    )
    .bind(call_id)
    .fetch_optional(pool)
    .await
}
