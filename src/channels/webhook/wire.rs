//! The webhook provider contract (DESIGN.md §4) as types, public so that tests and the
//! fault suite's provider speak exactly the shapes postcall does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the provider posts delivery reports and replies (the `status_callback` of every send).
pub const CALLBACK_PATH: &str = "/webhooks/sms";

/// The signed `POST` to `provider.webhook.url`; `id` is also its `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SendRequest {
    pub id: String,
    pub to: String,
    pub body: String,
    pub status_callback: String,
}

/// The provider's 2xx answer to a send.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Accepted {
    pub provider_message_id: String,
}

/// A signed callback to [`CALLBACK_PATH`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", content = "data")]
pub enum Callback {
    #[serde(rename = "message.status")]
    Status {
        provider_message_id: String,
        /// One of the statuses `DeliveryStatus::normalise` knows; any other is refused.
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
        received_at: Option<DateTime<Utc>>,
    },
}
