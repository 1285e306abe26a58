//! SQL of the `calls`, `surveys` and `opt_outs` tables as ingest uses them: two round trips
//! per batch (read the phones' history, write everything), never one per event.

use std::{borrow::Cow, collections::HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::{
    eligibility::{Decision, History},
    event::CallCompleted,
};

/// What each phone's earlier surveys and opt-outs say, as eligibility needs it. Both
/// survey facts come from one walk of the phone's surveys (`surveys_phone_send_at_idx`):
/// two subqueries probed two indexes per phone, and the batch's 500 probes were most of
/// this read.
pub async fn histories(
    conn: &mut PgConnection,
    phones: &[&str],
) -> sqlx::Result<HashMap<String, History>> {
    let rows: Vec<(String, bool, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        r#"
        SELECT p.phone,
               EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = p.phone),
               coalesce(h.open_survey, false),
               h.last_survey_at
          FROM unnest($1::text[]) AS p(phone)
          CROSS JOIN LATERAL (
              SELECT bool_or(s.state IN ('scheduled', 'sending', 'open')) AS open_survey,
                     max(coalesce(s.sent_at, s.send_at))
                         FILTER (WHERE s.state NOT IN ('cancelled', 'failed')) AS last_survey_at
                FROM surveys s
               WHERE s.customer_phone = p.phone
          ) h
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
    /// The body as received (valid JSON, stored as jsonb), or what erasing keeps of it.
    pub body: Cow<'a, str>,
    /// Stored already erased (`retention::Policy::arrives_erased`): no phone, and the body
    /// as erasing leaves it.
    pub erased: bool,
    pub decision: Decision,
    pub language: &'a str,
}

/// Writes a batch in one statement (`postcall_record_calls`, migration 8): inserts the calls
/// not yet known and schedules the surveys of those decided `Schedule`. Returns each call
/// actually inserted with the decision recorded for it: as decided, or `open_survey` where
/// the phone's single in-flight slot went to another replica's concurrent batch. A call_id
/// already present (a redelivery, a republish) is left exactly as it was and not returned.
pub async fn record(
    conn: &mut PgConnection,
    batch: &[Decided<'_>],
) -> sqlx::Result<Vec<(String, String)>> {
    let call_ids: Vec<&str> = column(batch, |d| d.event.call_id.as_str());
    let event_ids = column(batch, |d| d.event.event_id);
    let phones: Vec<&str> = column(batch, |d| {
        if d.erased {
            ""
        } else {
            d.event.customer_phone.as_e164()
        }
    });
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
    let bodies: Vec<&str> = column(batch, |d| d.body.as_ref());
    fn scheduled<'a>(d: &Decided<'a>) -> Option<(&'a str, &'static str, DateTime<Utc>)> {
        match &d.decision {
            Decision::Schedule { send_at, timezone } => {
                Some((d.language, timezone.name(), *send_at))
            }
            Decision::Skip(_) => None,
        }
    }
    let survey_languages: Vec<Option<&str>> = column(batch, |d| scheduled(d).map(|s| s.0));
    let survey_zones: Vec<Option<&str>> = column(batch, |d| scheduled(d).map(|s| s.1));
    let send_ats: Vec<Option<DateTime<Utc>>> = column(batch, |d| scheduled(d).map(|s| s.2));

    sqlx::query_as(
        r#"
        SELECT recorded_call_id, recorded_decision
          FROM postcall_record_calls($1::text[], $2::uuid[], $3::text[], $4::text[],
                 $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
                 $9::text[], $10::text[], $11::text[], $12::float8[], $13::float8[],
                 $14::text[], $15::text[]::jsonb[], $16::text[], $17::text[],
                 $18::timestamptz[])
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
    .bind(survey_languages)
    .bind(survey_zones)
    .bind(send_ats)
    .fetch_all(conn)
    .await
}

fn column<'b, 'a: 'b, T>(batch: &'b [Decided<'a>], f: impl Fn(&'b Decided<'a>) -> T) -> Vec<T> {
    batch.iter().map(f).collect()
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.as_seconds_f64()
}
