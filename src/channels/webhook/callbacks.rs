//! The webhook provider's callbacks: delivery reports and replies as JSON, signed with
//! Standard Webhooks, each `webhook-id` acted on once.

use std::time::Duration;

use axum::http::StatusCode;

use super::{
    signature::{self, Headers},
    wire::{CALLBACK_PATH, Callback as Wire},
};
use crate::{
    channels::{
        ProviderKind,
        callbacks::{
            Answer, Callback, Heard, Keys, MAX_ADDRESS_CHARS, MAX_ID_CHARS, Refusal, Replay, Reply,
            Request, Route, refuse_long, refuse_nul,
        },
    },
    domain::delivery::DeliveryStatus,
};

/// The spec's recommended window, both ways.
const TOLERANCE_SECS: i64 = 5 * 60;

pub fn routes() -> Vec<Route> {
    vec![Route {
        channel: ProviderKind::Webhook,
        path: CALLBACK_PATH,
        read: callback,
    }]
}

fn callback(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    let webhook_id = verify(keys, request)?;
    refuse_long("webhook-id", &webhook_id, MAX_ID_CHARS)?;
    let wire: Wire = serde_json::from_slice(request.body)
        .map_err(|e| Refusal::Malformed(format!("not a known callback: {e}")))?;
    refuse_unstorable(&wire)?;
    Ok(Callback {
        heard: vec![heard(wire, request)?],
        // A replay older than the tolerance fails the timestamp check anyway.
        replay: Some(Replay {
            id: webhook_id,
            remember_for: Duration::from_secs((2 * TOLERANCE_SECS) as u64),
        }),
        answer: Answer {
            status: StatusCode::NO_CONTENT,
            body: None,
        },
    })
}

fn heard(wire: Wire, request: &Request<'_>) -> Result<Heard, Refusal> {
    Ok(match wire {
        Wire::Status {
            provider_message_id,
            status,
            error_code,
        } => Heard::Delivery {
            status: DeliveryStatus::normalise(&status)
                .ok_or_else(|| Refusal::Malformed(format!("unknown status {status:?}")))?,
            provider_message_id,
            error_code,
            billed_segments: None,
        },
        Wire::Received {
            provider_message_id,
            from,
            to,
            body,
            received_at,
        } => Heard::Reply(Reply {
            provider_message_id,
            from,
            to,
            body,
            received_at: received_at.unwrap_or(request.now),
            other_signature: None,
        }),
    })
}

/// The fields that are stored, with the most characters each may hold.
fn stored(wire: &Wire) -> Vec<(&'static str, Option<&str>, Option<usize>)> {
    match wire {
        Wire::Status {
            provider_message_id,
            status,
            error_code,
        } => vec![
            (
                "provider_message_id",
                Some(provider_message_id),
                Some(MAX_ID_CHARS),
            ),
            ("status", Some(status), None),
            ("error_code", error_code.as_deref(), None),
        ],
        Wire::Received {
            provider_message_id,
            from,
            to,
            body,
            ..
        } => vec![
            (
                "provider_message_id",
                Some(provider_message_id),
                Some(MAX_ID_CHARS),
            ),
            ("from", Some(from), Some(MAX_ADDRESS_CHARS)),
            ("to", to.as_deref(), Some(MAX_ADDRESS_CHARS)),
            ("body", Some(body), None),
        ],
    }
}

/// Refuses what no column could store: a NUL anywhere, an over-long id or address.
fn refuse_unstorable(wire: &Wire) -> Result<(), Refusal> {
    for (name, value, max) in stored(wire) {
        let Some(value) = value else { continue };
        refuse_nul(name, value)?;
        if let Some(max) = max {
            refuse_long(name, value, max)?;
        }
    }
    Ok(())
}

/// Checks the signature and the timestamp window; returns the webhook id.
fn verify(keys: &Keys, request: &Request<'_>) -> Result<String, Refusal> {
    let secret = keys
        .webhook_secret
        .as_ref()
        .ok_or_else(|| Refusal::Forbidden("provider.webhook.secret is not configured".into()))?;
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Refusal::Forbidden(format!("{name} is missing")))
    };
    let signed = Headers {
        id: header("webhook-id")?,
        timestamp: header("webhook-timestamp")?,
        signature: header("webhook-signature")?,
    };
    signature::verify(
        secret,
        &signed,
        request.body,
        request.now.timestamp(),
        TOLERANCE_SECS,
    )
    .map_err(|e| Refusal::Forbidden(e.to_string()))?;
    Ok(signed.id.to_owned())
}
