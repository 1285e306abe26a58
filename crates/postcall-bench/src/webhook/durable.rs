//! The durable baseline: the least a reply webhook does that must never lose or double an
//! answer, in the same process and over the same HTTP stack as the other two sides (axum, a
//! pool built by `postcall::store::db::connect`), against postcall's real migrated schema in a
//! database of its own, seeded as postcall's is.
//!
//! Per request: the X-Twilio-Signature checked with postcall's own
//! `channels::twilio::signature::validate` over the public URL and the form; the body taken
//! as an answer if it is one digit (no other reading of it); then ONE statement, no explicit
//! transaction, that writes what the contract asks of a reply and nothing else, into the same
//! tables as postcall's guarded write (`store/conversation/reply.rs`), so the same indexes,
//! foreign keys, CHECKs and triggers fire:
//!
//! - the phone's open survey found and locked by one probe of `surveys_one_in_flight_per_phone`
//!   (no read of it before the write);
//! - the inbound SMS row, deduplicated on `(provider, provider_message_id)`: a retried callback
//!   writes nothing else either, as every part below hangs off it;
//! - the answer to the question the survey is on, its value the digit;
//! - the survey one question on, guarded by its state and question as locked;
//! - the next question's SMS queued (`pending`), its body a fixed text composed once at start
//!   (what postcall composes for question 2 of a zh-CN survey to a mainland number), with the
//!   same `postcall.notify_after_commit` flag set as postcall's statement sets, so the
//!   dispatchers' trigger does not fire: no wake-up, before or after the commit.
//!
//! Not done, being postcall's own work beyond the contract: the conversation's state machine
//! (re-prompts, skips, keywords, opt-outs, the last question, late replies, pairs), reading
//! the call for templates, composing text per reply, events, metrics, the wake-up. A request
//! this baseline cannot take (no open survey for the phone, a body that is not one digit) is
//! answered 422 and writes nothing: the bench sends none.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::post,
};
use postcall::{channels::twilio::signature, config::Settings, domain::segments};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::replies::{PATH, PUBLIC_URL, TOKEN};

const TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// The survey's language and the phones' region, as the stage seeds them.
const LANGUAGE: &str = "zh-CN";

/// What the statement writes that postcall works out per reply, fixed once from the
/// survey postcall is configured with.
struct Fixed {
    /// The questions' ids, in order: the answer's and the next message's `question_id`.
    questions: Vec<String>,
    /// Question 2's SMS to a mainland number, signature included, and its cost.
    next_body: String,
    encoding: &'static str,
    segments: i32,
}

impl Fixed {
    fn of(settings: &Settings) -> anyhow::Result<Self> {
        let survey = settings.runtime()?.survey;
        let next_body = survey.signed(&survey.question_text(1, LANGUAGE), true);
        let cost = segments::mainland(&next_body)?;
        Ok(Self {
            questions: survey.questions.iter().map(|q| q.id.clone()).collect(),
            next_body,
            encoding: cost.encoding.as_str(),
            segments: i32::try_from(cost.count)?,
        })
    }
}

struct Side {
    pool: PgPool,
    fixed: Fixed,
}

/// Migrates `pool`'s fresh database (it is then seeded by the caller, as postcall's is).
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    postcall::store::db::migrate(pool)
        .await
        .context("migrating the durable baseline's database")
}

/// Serves the durable route on 127.0.0.1:0 until `shutdown`; `settings` are postcall's, for
/// the survey's questions and texts.
pub async fn serve(
    pool: PgPool,
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let side = Arc::new(Side {
        pool,
        fixed: Fixed::of(settings)?,
    });
    let app = Router::new().route(PATH, post(reply)).with_state(side);
    super::baseline::serve_on_any_port(app, "webhook durable baseline", shutdown).await
}

async fn reply(
    State(side): State<Arc<Side>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let signed = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| {
            let path = uri.path_and_query().map_or(PATH, |p| p.as_str());
            signature::validate(TOKEN, &format!("{PUBLIC_URL}{path}"), &params, sig)
        });
    if !signed {
        return StatusCode::FORBIDDEN.into_response();
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let text = field("Body");
    let digit = match text.as_bytes() {
        [d] if d.is_ascii_digit() => i32::from(d - b'0'),
        _ => return (StatusCode::UNPROCESSABLE_ENTITY, "not one digit").into_response(),
    };
    let sms = Sms {
        sid: field("MessageSid"),
        from: field("From"),
        to: field("To"),
        text,
        digit,
    };
    match write(&side, &sms).await {
        Ok(true) => ([(header::CONTENT_TYPE, "text/xml")], TWIML).into_response(),
        Ok(false) => (StatusCode::UNPROCESSABLE_ENTITY, "no open survey").into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

struct Sms<'a> {
    sid: &'a str,
    from: &'a str,
    to: &'a str,
    text: &'a str,
    digit: i32,
}

/// The reply in one statement. `false`: the phone has no open survey with a question after
/// the one it is on, nothing was written;
/// `true`: recorded now, or by an earlier delivery of the same callback (nothing written).
async fn write(side: &Side, sms: &Sms<'_>) -> sqlx::Result<bool> {
    let f = &side.fixed;
    let row = sqlx::query(
        r#"
        WITH s AS (
            SELECT id, customer_phone, question_index FROM surveys
             WHERE customer_phone = $1 AND state = 'open'
               AND question_index < cardinality($5::text[]) - 1
               FOR UPDATE
        ), ins AS (
            INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body,
                                          received_at, survey_id, outcome)
            SELECT 'twilio', $2, $1, $3, $4, now(), s.id, 'answer' FROM s
            ON CONFLICT (provider, provider_message_id) DO NOTHING
            RETURNING id, received_at
        ), saved AS (
            UPDATE surveys SET question_index = s.question_index + 1, updated_at = now()
              FROM s, ins
             WHERE surveys.id = s.id AND surveys.state = 'open'
               AND surveys.question_index = s.question_index
        ), answered AS (
            INSERT INTO answers (survey_id, question_id, value, raw, received_at, inbound_id)
            SELECT s.id, ($5::text[])[s.question_index + 1], to_jsonb($6::int), $4,
                   ins.received_at, ins.id
              FROM s, ins
        ), quiet AS (
            SELECT set_config('postcall.notify_after_commit', 'on', true)
        ), queued AS (
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                  segments)
            SELECT $7, s.id, 'follow_up', ($5::text[])[s.question_index + 2], s.customer_phone,
                   $8, $9, $10
              FROM s, ins, quiet
        )
        SELECT EXISTS (SELECT 1 FROM s)
        "#,
    )
    .bind(sms.from)
    .bind(sms.sid)
    .bind(sms.to)
    .bind(sms.text)
    .bind(&f.questions)
    .bind(sms.digit)
    .bind(Uuid::new_v4())
    .bind(&f.next_body)
    .bind(f.encoding)
    .bind(f.segments)
    .fetch_one(&side.pool)
    .await?;
    row.try_get(0)
}
