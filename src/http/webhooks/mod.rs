//! Provider callbacks. Every request is verified over its raw body before anything is read
//! from it; one that fails gets 403 and changes nothing.

mod sms;
mod twilio;

use std::{sync::Arc, time::Duration};

use axum::{extract::DefaultBodyLimit, http::StatusCode};
use tower_http::timeout::TimeoutLayer;

use super::Routes;
use crate::{
    config::{ExposeSecret, SecretString, Settings},
    signing::standard_webhooks::Secret,
};

/// Callbacks are small; anything larger is not from a provider.
const BODY_LIMIT: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the callbacks are checked with; absent secrets refuse every request.
pub struct WebhookAuth {
    pub public_url: String,
    pub twilio_auth_token: Option<SecretString>,
    pub sms_secret: Option<Secret>,
}

impl WebhookAuth {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<Self>> {
        let token = &settings.provider.twilio.auth_token;
        let secret = settings.provider.webhook.secret.expose_secret();
        Ok(Arc::new(Self {
            public_url: settings.http.public_url.trim_end_matches('/').to_owned(),
            twilio_auth_token: (!token.expose_secret().is_empty()).then(|| token.clone()),
            sms_secret: if secret.is_empty() {
                None
            } else {
                Some(
                    Secret::parse(secret)
                        .map_err(|e| anyhow::anyhow!("provider.webhook.secret: {e}"))?,
                )
            },
        }))
    }
}

pub fn routes() -> Routes {
    Routes::new()
        .post(
            crate::providers::twilio::STATUS_CALLBACK_PATH,
            twilio::status,
        )
        .post(crate::providers::twilio::INBOUND_PATH, twilio::inbound)
        .post(crate::providers::webhook::CALLBACK_PATH, sms::callback)
        .wrap(|router| {
            router
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    TIMEOUT,
                ))
        })
}

/// PostgreSQL text cannot hold U+0000: a callback carrying one in a field that would be
/// stored is refused as malformed (400, nothing changed) rather than failing the insert
/// with a 500 that the provider would retry for good.
fn refuse_nul(field: &str, value: &str) -> Result<(), crate::http::error::HttpError> {
    if value.contains('\0') {
        return Err(crate::http::error::HttpError::BadRequest(format!(
            "{field} contains a NUL character"
        )));
    }
    Ok(())
}

/// Longest accepted id (`webhook-id`, `provider_message_id`, Twilio's `MessageSid`, which
/// is 34 characters) and phone number or sender (`from`, `to`), in characters. Each is
/// stored in a unique or indexed column, and an index entry holds at most about 2.7 kB: a
/// longer value would pass the signature check and then fail its insert with a 500 that the
/// provider retries for good, so it is refused as malformed (400, nothing changed).
pub const MAX_ID_CHARS: usize = 256;
pub const MAX_ADDRESS_CHARS: usize = 64;

fn refuse_long(field: &str, value: &str, max: usize) -> Result<(), crate::http::error::HttpError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(crate::http::error::HttpError::BadRequest(format!(
            "{field} is {chars} characters long, over the {max} accepted"
        )));
    }
    Ok(())
}
