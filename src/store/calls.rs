//! SQL of the `calls`, `surveys` and `opt_outs` tables as ingest uses them: one round trip
//! per statement for a whole batch (`UNNEST` of column arrays), never one per event.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, types::Json};

use crate::domain::{
    eligibility::{Decision, History},
    event::CallCompleted,
};

/// What each phone's earlier surveys and opt-outs say, as eligibility needs it.
pub async fn histories(
    conn: &mut PgConnection,
    phones: &[&str],
) -> sqlx::Result<HashMap<String, History>> {
    let rows: Vec<(String, bool, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        r#"
        SELECT p.phone,
               EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = p.phone),
               EXISTS (SELECT 1 FROM surveys s WHERE s.customer_phone = p.phone
                         AND s.state IN ('scheduled', 'sending', 'open')),
               (SELECT max(coalesce(s.sent_at, s.send_at)) FROM surveys s
                 WHERE s.customer_phone = p.phone AND s.state NOT IN ('cancelled', 'failed'))
          FROM unnest($1::text[]) AS p(phone)
        "#,
    )
    .bind(phones)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(phone, opted_out, open_survey, last_survey_at)| {
            let history = History {
                opted_out,
                open_survey,
                last_survey_at,
            };
            (phone, history)
        })
        .collect())
}

/// One event with the decision taken for it, ready to be written.
pub struct Decided<'a> {
    pub event: &'a CallCompleted,
    pub body: &'a serde_json::Value,
    pub decision: Decision,
    pub language: &'a str,
}

/// Inserts the calls that are not yet known and returns the call_ids actually inserted;
/// a call_id already present (a redelivery, a republish) is left exactly as it was.
pub async fn insert_calls(
    conn: &mut PgConnection,
    batch: &[Decided<'_>],
) -> sqlx::Result<HashSet<String>> {
    let call_ids: Vec<&str> = column(batch, |d| d.event.call_id.as_str());
    let event_ids = column(batch, |d| d.event.event_id);
    let phones: Vec<&str> = column(batch, |d| d.event.customer_phone.as_e164());
    let agents: Vec<&str> = column(batch, |d| d.event.agent_id.as_str());
    let queues: Vec<&str> = column(batch, |d| d.event.queue.as_str());
    let started = column(batch, |d| d.event.started_at.to_utc());
    let answered = column(batch, |d| d.event.answered_at.map(|t| t.to_utc()));
    let ended = column(batch, |d| d.event.ended_at.to_utc());
    let dispositions: Vec<&str> = column(batch, |d| d.event.disposition.as_str());
    let languages: Vec<Option<&str>> = column(batch, |d| d.event.language.as_deref());
    let zones: Vec<Option<&str>> = column(batch, |d| d.event.customer_timezone.map(|z| z.name()));
    let waits = column(batch, |d| d.event.wait().map(seconds));
    let talks = column(batch, |d| seconds(d.event.talk()));
    let decisions: Vec<&str> = column(batch, |d| d.decision.reason().as_str());
    let bodies = column(batch, |d| Json(d.body));

    let inserted: Vec<String> = sqlx::query_scalar(
        r#"
        INSERT INTO calls (call_id, event_id, customer_phone, agent_id, queue, started_at,
                           answered_at, ended_at, disposition, language, customer_timezone,
                           wait_seconds, talk_seconds, decision, event)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                             $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
                             $9::text[], $10::text[], $11::text[], $12::float8[],
                             $13::float8[], $14::text[], $15::jsonb[])
        ON CONFLICT (call_id) DO NOTHING
        RETURNING call_id
        "#,
    )
    .bind(call_ids)
    .bind(event_ids)
    .bind(phones)
    .bind(agents)
    .bind(queues)
    .bind(started)
    .bind(answered)
    .bind(ended)
    .bind(dispositions)
    .bind(languages)
    .bind(zones)
    .bind(waits)
    .bind(talks)
    .bind(decisions)
    .bind(bodies)
    .fetch_all(conn)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// Schedules the surveys; returns the call_ids whose survey lost the race for the phone's
/// single in-flight slot to another replica's concurrent batch.
pub async fn insert_surveys(
    conn: &mut PgConnection,
    scheduled: &[&Decided<'_>],
) -> sqlx::Result<Vec<String>> {
    let mut call_ids = Vec::with_capacity(scheduled.len());
    let mut phones = Vec::with_capacity(scheduled.len());
    let mut languages = Vec::with_capacity(scheduled.len());
    let mut zones = Vec::with_capacity(scheduled.len());
    let mut send_ats = Vec::with_capacity(scheduled.len());
    for d in scheduled {
        if let Decision::Schedule { send_at, timezone } = &d.decision {
            call_ids.push(d.event.call_id.as_str());
            phones.push(d.event.customer_phone.as_e164());
            languages.push(d.language);
            zones.push(timezone.name());
            send_ats.push(*send_at);
        }
    }
    let inserted: HashSet<String> = sqlx::query_scalar(
        r#"
        INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
        ON CONFLICT (customer_phone) WHERE state IN ('scheduled', 'sending', 'open') DO NOTHING
        RETURNING call_id
        "#,
    )
    .bind(&call_ids)
    .bind(phones)
    .bind(languages)
    .bind(zones)
    .bind(send_ats)
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect();
    Ok(call_ids
        .into_iter()
        .filter(|id| !inserted.contains(*id))
        .map(str::to_owned)
        .collect())
}

/// Re-records calls whose survey could not be scheduled after all.
pub async fn set_decision(
    conn: &mut PgConnection,
    call_ids: &[String],
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE calls SET decision = $2 WHERE call_id = ANY($1)")
        .bind(call_ids)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}

fn column<'b, 'a: 'b, T>(batch: &'b [Decided<'a>], f: impl Fn(&'b Decided<'a>) -> T) -> Vec<T> {
    batch.iter().map(f).collect()
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.as_seconds_f64()
}
