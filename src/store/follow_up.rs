//! Follow-up cases: one call's case as the cases API shows it, and a move made on it. Cases
//! are opened by the database itself (the `survey.detractor` outbox trigger, migration
//! `20261203000004_follow_up.sql`), never here.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::domain::follow_up::{CaseState, Refused};

/// A move asked for: to which state, by whom, and why.
pub struct Move<'a> {
    pub to: CaseState,
    pub by: &'a str,
    pub note: &'a str,
}

pub enum Moved {
    /// The case after the move.
    Done(Value),
    /// Not allowed from the state the case is in; nothing changed.
    Refused(Refused),
    /// The call has no case.
    NoCase,
}

/// The case of `call_id` with every move made on it, or none.
pub async fn show(pool: &PgPool, call_id: &str) -> sqlx::Result<Option<Value>> {
    let mut conn = pool.acquire().await?;
    view(&mut conn, call_id).await
}

/// Makes `m` on the case of `call_id` if its state allows it, with the case locked so two
/// moves at once are judged one after the other.
pub async fn make(pool: &PgPool, call_id: &str, m: &Move<'_>) -> sqlx::Result<Moved> {
    let mut tx = pool.begin().await?;
    let found: Option<(i64, String)> = sqlx::query_as(
        "SELECT survey_id, state FROM follow_up_cases WHERE call_id = $1 FOR UPDATE",
    )
    .bind(call_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((survey_id, state)) = found else {
        return Ok(Moved::NoCase);
    };
    let from: CaseState = state
        .parse()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    if let Err(why) = from.move_to(m.to) {
        return Ok(Moved::Refused(why));
    }
    sqlx::query(
        "WITH moved AS (
             UPDATE follow_up_cases
                SET state = $2, updated_at = now(),
                    contacted_at = CASE WHEN $2 = 'contacted' THEN coalesce(contacted_at, now())
                                        ELSE contacted_at END
              WHERE survey_id = $1
         )
         INSERT INTO follow_up_moves (survey_id, from_state, to_state, moved_by, note)
         VALUES ($1, $3, $2, $4, $5)",
    )
    .bind(survey_id)
    .bind(m.to.as_str())
    .bind(from.as_str())
    .bind(m.by)
    .bind(m.note)
    .execute(&mut *tx)
    .await?;
    let case = view(&mut tx, call_id).await?;
    tx.commit().await?;
    Ok(case.map_or(Moved::NoCase, Moved::Done))
}

async fn view(conn: &mut PgConnection, call_id: &str) -> sqlx::Result<Option<Value>> {
    sqlx::query_scalar(
        r#"
        SELECT jsonb_build_object(
            'call_id', k.call_id,
            'state', k.state,
            'reasons', to_jsonb(k.reasons),
            'detractor_at', k.detractor_at,
            'opened_at', k.opened_at,
            'contacted_at', k.contacted_at,
            'moves', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'from', m.from_state, 'to', m.to_state, 'by', m.moved_by, 'note', m.note,
                    'at', m.moved_at) ORDER BY m.id)
                  FROM follow_up_moves m WHERE m.survey_id = k.survey_id), '[]'::jsonb))
          FROM follow_up_cases k WHERE k.call_id = $1
        "#,
    )
    .bind(call_id)
    .fetch_optional(conn)
    .await
}
