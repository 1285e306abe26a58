//! What every channel's callbacks share: the request as it arrived, what a verified
//! callback says happened, how it is refused, and the limits on what may be stored.
//! A channel reads; `http::webhooks` acts on what was read, the same way for every channel.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::{ProviderKind, Settings, tencent, webhook::signature::Secret};
use crate::domain::delivery::DeliveryStatus;

/// One callback route: the channel it belongs to, its path, and how its requests are read.
#[derive(Clone, Copy)]
pub struct Route {
    pub channel: ProviderKind,
    pub path: &'static str,
    pub read: fn(&Keys, &Request<'_>) -> Result<Callback, Refusal>,
}

/// A callback as it arrived; nothing in it is trusted until the channel has verified it.
pub struct Request<'a> {
    /// As received: Twilio signs the public URL with the path and query.
    pub path_and_query: &'a str,
    /// The `{token}` segment of the routes that carry one (platforms that sign nothing).
    pub token: Option<&'a str>,
    /// Who connected, for the routes that narrow their callers by address.
    pub peer: Option<std::net::IpAddr>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub now: DateTime<Utc>,
}

/// A verified callback.
#[derive(Debug)]
pub struct Callback {
    /// In the order the provider listed them: Tencent and Aliyun post several at once.
    pub heard: Vec<Heard>,
    /// Set where the provider's signature scheme has a replay guard (Standard Webhooks).
    pub replay: Option<Replay>,
    /// What the provider expects back.
    pub answer: Answer,
}

/// What a callback says happened.
#[derive(Debug)]
pub enum Heard {
    Delivery {
        provider_message_id: String,
        status: DeliveryStatus,
        error_code: Option<String>,
        /// The parts the provider says it billed (Aliyun `sms_size`), which win over
        /// postcall's own count.
        billed_segments: Option<u32>,
    },
    Reply(Reply),
    /// Nothing about our messages (Twilio reports the statuses of inbound ones too).
    Nothing,
}

/// A customer's SMS.
#[derive(Debug)]
pub struct Reply {
    pub provider_message_id: String,
    pub from: String,
    pub to: Option<String>,
    pub body: String,
    pub received_at: DateTime<Utc>,
    /// The signature the reply came under, when it is not ours (Tencent `sign`, Aliyun
    /// `sign_name`): the customer answered another sender, so it is unsolicited here.
    pub other_signature: Option<String>,
}

/// A callback id seen once is not acted on again while a replay of it could still pass the
/// signature's timestamp check.
#[derive(Debug)]
pub struct Replay {
    pub id: String,
    pub remember_for: Duration,
}

/// The acknowledgement: a status and, for Twilio's replies, TwiML.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: StatusCode,
    /// Content type and body.
    pub body: Option<(&'static str, &'static str)>,
}

/// Why a callback is refused; either way nothing changes.
#[derive(Debug)]
pub enum Refusal {
    /// Not signed by the provider (403).
    Forbidden(String),
    /// Signed, but not something that can be acted on or stored (400).
    Malformed(String),
    /// A wrong path token, or a caller outside the allowed addresses: the route does not
    /// exist for them (404).
    NotFound(String),
}

/// Admission for the platforms that sign nothing they post (Tencent, Aliyun): the path
/// token, compared in constant time, then the caller's address. Both refusals look like an
/// unknown path. The default admits no one.
#[derive(Default)]
pub struct PathToken {
    /// The token's config key, for the operator's log line.
    key: &'static str,
    token: Option<SecretString>,
    /// Empty lets any address call.
    allow: Vec<ipnet::IpNet>,
}

impl PathToken {
    /// An empty `token` refuses every callback.
    pub fn new(key: &'static str, token: &SecretString, allow: Vec<ipnet::IpNet>) -> Self {
        Self {
            key,
            token: (!token.expose_secret().is_empty()).then(|| token.clone()),
            allow,
        }
    }

    pub fn admit(&self, request: &Request<'_>) -> Result<(), Refusal> {
        let expected = self
            .token
            .as_ref()
            .ok_or_else(|| Refusal::NotFound(format!("{} is not set", self.key)))?;
        let given = request.token.unwrap_or_default().as_bytes();
        if !bool::from(given.ct_eq(expected.expose_secret().as_bytes())) {
            return Err(Refusal::NotFound(format!("not the {}", self.key)));
        }
        if self.allow.is_empty()
            || request
                .peer
                .is_some_and(|peer| self.allow.iter().any(|net| net.contains(&peer)))
        {
            return Ok(());
        }
        Err(Refusal::NotFound(format!(
            "caller {:?} is outside the allowed networks ({})",
            request.peer, self.key
        )))
    }
}

/// What the callbacks are checked with; absent secrets refuse every request.
pub struct Keys {
    pub public_url: String,
    pub twilio_auth_token: Option<SecretString>,
    pub webhook_secret: Option<Secret>,
    pub tencent: tencent::callbacks::Keys,
    /// `provider.aliyun.callback_token` and `callback_allow`.
    pub aliyun_gate: PathToken,
    /// `provider.aliyun.sign_name`: a reply under another signature is unsolicited.
    pub aliyun_sign_name: String,
}

impl Keys {
    pub fn new(settings: &Settings, public_url: &str) -> anyhow::Result<Self> {
        let token = &settings.twilio.auth_token;
        let secret = settings.webhook.secret.expose_secret();
        let aliyun = &settings.aliyun;
        let aliyun_allow = aliyun
            .allowed_networks()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.key, e.why))?;
        Ok(Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            twilio_auth_token: (!token.expose_secret().is_empty()).then(|| token.clone()),
            webhook_secret: if secret.is_empty() {
                None
            } else {
                Some(
                    Secret::parse(secret)
                        .map_err(|e| anyhow::anyhow!("provider.webhook.secret: {e}"))?,
                )
            },
            tencent: tencent::callbacks::Keys::new(&settings.tencent)?,
            aliyun_gate: PathToken::new(
                "provider.aliyun.callback_token",
                &aliyun.callback_token,
                aliyun_allow,
            ),
            aliyun_sign_name: aliyun.sign_name.clone(),
        })
    }
}

/// PostgreSQL text cannot hold U+0000: a callback carrying one in a field that would be
/// stored is refused as malformed (400, nothing changed) rather than failing the insert
/// with a 500 that the provider would retry for good.
pub fn refuse_nul(field: &str, value: &str) -> Result<(), Refusal> {
    if value.contains('\0') {
        return Err(Refusal::Malformed(format!(
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

pub fn refuse_long(field: &str, value: &str, max: usize) -> Result<(), Refusal> {
    let chars = value.chars().count();
    if chars > max {
        return Err(Refusal::Malformed(format!(
            "{field} is {chars} characters long, over the {max} accepted"
        )));
    }
    Ok(())
}
