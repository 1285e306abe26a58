//! SMS providers behind one trait: `console` (development), `twilio`, `webhook`.

mod console;
mod http;
pub mod twilio;
pub mod webhook;

use std::{future::Future, time::Duration};

use uuid::Uuid;

pub use console::Console;
pub use twilio::Twilio;
pub use webhook::Webhook;

use crate::{config::Settings, domain::delivery::DeliveryStatus};

/// One SMS to send. `id` is postcall's message id: the idempotency key where the provider
/// takes one, so a resend after a crash is dropped by the provider.
#[derive(Debug, Clone)]
pub struct Outbound<'a> {
    pub id: Uuid,
    pub to: &'a str,
    pub body: &'a str,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Accepted {
        provider_message_id: String,
        status: DeliveryStatus,
    },
    /// Worth another attempt: a timeout, a connection error, 429, 5xx.
    Retry {
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good: another attempt would be refused the same way.
    Failed {
        code: Option<String>,
        message: String,
        /// The carrier says the recipient opted out (Twilio 21610): record it.
        recipient_opted_out: bool,
    },
}

pub trait SmsProvider: Send + Sync {
    /// The name stored with each message (`messages.provider`).
    fn name(&self) -> &'static str;
    fn send(&self, message: &Outbound<'_>) -> impl Future<Output = SendOutcome> + Send;
}

/// The provider chosen by `provider.kind`.
pub enum Configured {
    Console(Console),
    Twilio(Twilio),
    Webhook(Webhook),
}

impl Configured {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(settings.dispatch.request_timeout_seconds);
        Ok(match settings.provider.kind.as_str() {
            "twilio" => Self::Twilio(Twilio::new(
                &settings.provider.twilio,
                &settings.http.public_url,
                timeout,
            )?),
            "webhook" => Self::Webhook(Webhook::new(
                &settings.provider.webhook,
                &settings.http.public_url,
                timeout,
            )?),
            _ => Self::Console(Console),
        })
    }
}

impl SmsProvider for Configured {
    fn name(&self) -> &'static str {
        match self {
            Self::Console(p) => p.name(),
            Self::Twilio(p) => p.name(),
            Self::Webhook(p) => p.name(),
        }
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        match self {
            Self::Console(p) => p.send(message).await,
            Self::Twilio(p) => p.send(message).await,
            Self::Webhook(p) => p.send(message).await,
        }
    }
}
