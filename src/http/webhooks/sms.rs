//! `POST /webhooks/sms`: the generic provider's callbacks, Standard Webhooks-signed.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;

use crate::{
    domain::{delivery::DeliveryStatus, phone},
    http::{AppState, error::HttpError},
    inbound,
    signing::standard_webhooks::{self, Headers},
    store::{conversation::Inbound, deliveries},
};

/// The spec's recommended window, both ways.
const TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Deserialize)]
#[serde(tag = "type", content = "data")]
enum Callback {
    #[serde(rename = "message.status")]
    Status {
        provider_message_id: String,
        status: String,
        #[serde(default)]
        error_code: Option<String>,
    },
    #[serde(rename = "message.received")]
    Received {
        provider_message_id: String,
        from: String,
        #[serde(default)]
        to: Option<String>,
        body: String,
        #[serde(default)]
        received_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Callback {
    /// The fields that are stored, with the most characters each may hold.
    fn stored(&self) -> Vec<(&'static str, Option<&str>, Option<usize>)> {
        match self {
            Callback::Status {
                provider_message_id,
                status,
                error_code,
            } => vec![
                (
                    "provider_message_id",
                    Some(provider_message_id),
                    Some(super::MAX_ID_CHARS),
                ),
                ("status", Some(status), None),
                ("error_code", error_code.as_deref(), None),
            ],
            Callback::Received {
                provider_message_id,
                from,
                to,
                body,
                ..
            } => vec![
                (
                    "provider_message_id",
                    Some(provider_message_id),
                    Some(super::MAX_ID_CHARS),
                ),
                ("from", Some(from), Some(super::MAX_ADDRESS_CHARS)),
                ("to", to.as_deref(), Some(super::MAX_ADDRESS_CHARS)),
                ("body", Some(body), None),
            ],
        }
    }

    /// Refuses what no column could store: a NUL anywhere, an over-long id or address.
    fn refuse_unstorable(&self) -> Result<(), HttpError> {
        for (name, value, max) in self.stored() {
            let Some(value) = value else { continue };
            super::refuse_nul(name, value)?;
            if let Some(max) = max {
                super::refuse_long(name, value, max)?;
            }
        }
        Ok(())
    }
}

pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let webhook_id = verify(&state, &headers, &body)?;
    super::refuse_long("webhook-id", &webhook_id, super::MAX_ID_CHARS)?;
    if seen(&state, &webhook_id).await? {
        tracing::info!(webhook_id, "replayed webhook ignored");
        return Ok(StatusCode::NO_CONTENT);
    }
    let callback: Callback = serde_json::from_slice(&body)
        .map_err(|e| HttpError::BadRequest(format!("not a known callback: {e}")))?;
    callback.refuse_unstorable()?;
    match callback {
        Callback::Status {
            provider_message_id,
            status,
            error_code,
        } => {
            let normalised = DeliveryStatus::normalise(&status)
                .ok_or_else(|| HttpError::BadRequest(format!("unknown status {status:?}")))?;
            let applied = deliveries::report(
                &state.pool,
                "webhook",
                &provider_message_id,
                normalised,
                error_code.as_deref(),
            )
            .await?;
            tracing::info!(
                provider_message_id,
                status = normalised.as_str(),
                ?applied,
                "delivery report"
            );
        }
        Callback::Received {
            provider_message_id,
            from,
            to,
            body,
            received_at,
        } => {
            let sms = Inbound {
                provider: "webhook",
                provider_message_id: &provider_message_id,
                from: &from,
                to: to.as_deref(),
                body: &body,
                received_at: received_at.unwrap_or_else(chrono::Utc::now),
            };
            let outcome = inbound::receive(&state.pool, &state.survey, &sms).await?;
            tracing::info!(from = %phone::mask(&from), outcome = outcome.as_str(), "SMS received");
        }
    }
    remember(&state, &webhook_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the signature and the timestamp window; returns the webhook id.
fn verify(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<String, HttpError> {
    let secret =
        state.webhooks.sms_secret.as_ref().ok_or_else(|| {
            HttpError::Forbidden("provider.webhook.secret is not configured".into())
        })?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| HttpError::Forbidden(format!("{name} is missing")))
    };
    let signed = Headers {
        id: header("webhook-id")?,
        timestamp: header("webhook-timestamp")?,
        signature: header("webhook-signature")?,
    };
    standard_webhooks::verify(
        secret,
        &signed,
        body,
        chrono::Utc::now().timestamp(),
        TOLERANCE_SECS,
    )
    .map_err(|e| HttpError::Forbidden(e.to_string()))?;
    Ok(signed.id.to_owned())
}

async fn seen(state: &AppState, webhook_id: &str) -> Result<bool, HttpError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_receipts WHERE webhook_id = $1)")
            .bind(webhook_id)
            .fetch_one(&state.pool)
            .await?,
    )
}

/// Remembers a processed id for as long as a replay of it could still pass the timestamp
/// check, and forgets older ones.
async fn remember(state: &AppState, webhook_id: &str) -> Result<(), HttpError> {
    sqlx::query("INSERT INTO webhook_receipts (webhook_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(webhook_id)
        .execute(&state.pool)
        .await?;
    sqlx::query(
        "DELETE FROM webhook_receipts WHERE received_at < now() - make_interval(secs => $1)",
    )
    .bind((2 * TOLERANCE_SECS) as f64)
    .execute(&state.pool)
    .await?;
    Ok(())
}
