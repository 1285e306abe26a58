//! Twilio's shapes as its REST API and its callbacks use them, public so that tests and the
//! tools speak the same ones.

use serde::{Deserialize, Serialize};

/// The recipient replied STOP to the carrier: Twilio refuses to send until they opt in.
pub const OPTED_OUT: i64 = 21610;
/// Twilio's "too many requests" error code, sometimes with HTTP 400 rather than 429.
pub const TOO_MANY_REQUESTS: i64 = 20429;

/// Where Twilio posts delivery reports (the `StatusCallback` of every send).
pub const STATUS_CALLBACK_PATH: &str = "/webhooks/twilio/status";
/// Where Twilio posts the customers' replies (set on the number in Twilio's console).
pub const INBOUND_PATH: &str = "/webhooks/twilio/inbound";

/// A created message: the answer to a send (`201`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Created {
    pub sid: String,
    #[serde(default)]
    pub status: Option<String>,
    /// The parts Twilio counted, as a string (`"1"`).
    #[serde(default)]
    pub num_segments: Option<String>,
}

/// One page of `GET /2010-04-01/Accounts/{AccountSid}/Messages.json`, newest first.
/// Source: Twilio's Message resource, "Read multiple Message resources"
/// <https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources>.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MessagePage {
    pub messages: Vec<ListedMessage>,
    /// The next page's path and query, relative to the API's host; null on the last page.
    #[serde(default)]
    pub next_page_uri: Option<String>,
}

/// A Message resource as the list shows it (the fields postcall matches on).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ListedMessage {
    pub sid: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// RFC 2822, as every Twilio date: when Twilio created it (set at once, unlike
    /// `date_sent`, which a message still queued lacks).
    #[serde(default)]
    pub date_created: Option<String>,
    /// `outbound-api` for what postcall sent.
    #[serde(default)]
    pub direction: Option<String>,
}

/// Twilio's error body, any field of which may be missing.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}
