//! SMS channels, one folder each: how a message is sent, how the provider's callbacks are
//! verified and read, its wire shapes and its settings. Adding a channel is its folder, a
//! `ProviderKind` variant, a `Configured` variant, its section in `Settings` and its line in
//! `callback_routes`; no match has a catch-all, so the compiler points at every other place.
//!
//! Channels import nothing from the crate but `domain`: they send and they read, and the
//! roles act on what they read (`http::webhooks` stores a report or hands a reply to
//! `inbound`), so `config` can hold and check each channel's settings.

// Tencent Cloud and Aliyun: signatures, wire types, error classes and template rules, ready
// to be wired as channels (issue "Mainland-China SMS").
pub mod aliyun;
pub mod callbacks;
pub mod caps;
pub mod compose;
mod console;
pub mod errors;
mod http_client;
pub mod settings;
pub mod templates;
pub mod tencent;
pub mod twilio;
pub mod webhook;

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use aliyun::Aliyun;
pub use console::Console;
pub use settings::{ProviderKind, Settings};
pub use templates::TemplateCall;
pub use tencent::Tencent;
pub use twilio::Twilio;
pub use webhook::Webhook;

use crate::domain::delivery::DeliveryStatus;

/// One SMS to send. `id` is postcall's message id: the idempotency key where the provider
/// takes one, so a resend after a crash is dropped by the provider.
#[derive(Debug, Clone)]
pub struct Outbound<'a> {
    pub id: Uuid,
    pub to: &'a str,
    /// Exactly what the customer reads, signature included.
    pub body: &'a str,
    /// Set for the platforms that send approved templates only: what goes out as `body`.
    pub template: Option<TemplateCall<'a>>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Accepted {
        provider_message_id: String,
        status: DeliveryStatus,
        /// The parts the provider says it billed (Tencent `Fee`), which win over postcall's
        /// own count.
        billed_segments: Option<u32>,
    },
    /// Worth another attempt: a timeout, a connection error, 429, 5xx.
    Retry {
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The request may have reached the provider and been sent (a timeout or a lost
    /// connection after it was written, a 5xx, a platform's own "try again" after it took
    /// the message): never resent blind where the provider takes no idempotency key
    /// (DESIGN §4 "No blind resend").
    Unknown {
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Refused under a per-number, per-content or daily cap (DESIGN §4 "Per-number caps"):
    /// another attempt before the window passes is refused the same way.
    CapExceeded {
        code: Option<String>,
        message: String,
    },
    /// Refused for good: another attempt would be refused the same way.
    Failed {
        code: Option<String>,
        message: String,
        /// The carrier says the recipient opted out (Twilio 21610): record it.
        recipient_opted_out: bool,
    },
}

/// What the platform says of a send whose outcome was unknown (DESIGN §4 "No blind
/// resend").
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// It went out: recorded exactly like an accepted send.
    Found {
        provider_message_id: String,
        status: DeliveryStatus,
    },
    /// The platform has no such send: it may be sent again.
    NotFound,
    /// The platform could not be asked, or its answer not read.
    CannotAsk { message: String },
}

pub trait SmsProvider: Send + Sync {
    /// The name stored with each message (`messages.provider`).
    fn name(&self) -> &'static str;
    fn send(&self, message: &Outbound<'_>) -> impl Future<Output = SendOutcome> + Send;
    /// Asks the platform whether `message` went out at or after `since`.
    fn find(
        &self,
        message: &Outbound<'_>,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Lookup> + Send;
}

/// The provider chosen by `provider.kind`.
pub enum Configured {
    Console(Console),
    Twilio(Twilio),
    Webhook(Webhook),
    Tencent(Tencent),
    Aliyun(Aliyun),
}

impl Configured {
    /// `public_url` is where the provider posts its callbacks back to this service.
    pub fn new(settings: &Settings, public_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(match settings.kind {
            ProviderKind::Console => Self::Console(Console),
            ProviderKind::Twilio => {
                Self::Twilio(Twilio::new(&settings.twilio, public_url, timeout)?)
            }
            ProviderKind::Webhook => {
                Self::Webhook(Webhook::new(&settings.webhook, public_url, timeout)?)
            }
            ProviderKind::Tencent => Self::Tencent(Tencent::new(&settings.tencent, timeout)?),
            ProviderKind::Aliyun => Self::Aliyun(Aliyun::new(&settings.aliyun, timeout)?),
        })
    }
}

impl SmsProvider for Configured {
    fn name(&self) -> &'static str {
        match self {
            Self::Console(p) => p.name(),
            Self::Twilio(p) => p.name(),
            Self::Webhook(p) => p.name(),
            Self::Tencent(p) => p.name(),
            Self::Aliyun(p) => p.name(),
        }
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        match self {
            Self::Console(p) => p.send(message).await,
            Self::Twilio(p) => p.send(message).await,
            Self::Webhook(p) => p.send(message).await,
            Self::Tencent(p) => p.send(message).await,
            Self::Aliyun(p) => p.send(message).await,
        }
    }

    async fn find(&self, message: &Outbound<'_>, since: DateTime<Utc>) -> Lookup {
        match self {
            Self::Console(p) => p.find(message, since).await,
            Self::Twilio(p) => p.find(message, since).await,
            Self::Webhook(p) => p.find(message, since).await,
            Self::Tencent(p) => p.find(message, since).await,
            Self::Aliyun(p) => p.find(message, since).await,
        }
    }
}

/// Every channel's callback routes, whichever provider sends: a replica switched from one
/// provider to another still takes the last reports of the old one.
pub fn callback_routes() -> Vec<callbacks::Route> {
    [
        twilio::callbacks::routes(),
        webhook::callbacks::routes(),
        tencent::callbacks::routes(),
        aliyun::callbacks::routes(),
    ]
    .concat()
}

/// The kind of batch a route's callbacks are stored as before they are acted on
/// (`callback_inbox`), for the platforms that answer late pushes by pushing again.
pub fn stored_first(route: &callbacks::Route) -> Option<&'static str> {
    match route.channel {
        ProviderKind::Aliyun => aliyun::callbacks::inbox_kind(route.path),
        ProviderKind::Console
        | ProviderKind::Twilio
        | ProviderKind::Webhook
        | ProviderKind::Tencent => None,
    }
}

/// A stored batch read again by the channel that stored it.
pub fn read_stored(
    keys: &callbacks::Keys,
    provider: &str,
    kind: &str,
    body: &serde_json::Value,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<callbacks::Heard>, callbacks::Refusal> {
    let unknown = || callbacks::Refusal::Malformed(format!("no stored batches from {provider:?}"));
    match ProviderKind::try_from(provider.to_owned()).map_err(|_| unknown())? {
        ProviderKind::Aliyun => aliyun::callbacks::read_stored(keys, kind, body, received_at),
        ProviderKind::Console
        | ProviderKind::Twilio
        | ProviderKind::Webhook
        | ProviderKind::Tencent => Err(unknown()),
    }
}
