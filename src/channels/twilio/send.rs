//! A send: one form post to Twilio's Messages resource, its answer judged.

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use super::{
    Settings,
    wire::{ApiError, Created, OPTED_OUT, STATUS_CALLBACK_PATH, TOO_MANY_REQUESTS},
};
use crate::{
    channels::{Lookup, Outbound, ProviderKind, SendOutcome, SmsProvider, http_client as http},
    domain::delivery::DeliveryStatus,
};

pub struct Twilio {
    pub(super) client: reqwest::Client,
    /// The API's scheme and host: the list's next pages are relative to it.
    pub(super) base_url: String,
    pub(super) messages_url: String,
    pub(super) account_sid: String,
    pub(super) auth_token: SecretString,
    pub(super) from: String,
    pub(super) messaging_service_sid: String,
    status_callback: String,
}

impl Twilio {
    pub fn new(settings: &Settings, public_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the Twilio HTTP client")?;
        Ok(Self {
            client,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            messages_url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.base_url.trim_end_matches('/'),
                settings.account_sid
            ),
            account_sid: settings.account_sid.clone(),
            auth_token: settings.auth_token.clone(),
            from: settings.from.clone(),
            messaging_service_sid: settings.messaging_service_sid.clone(),
            status_callback: format!("{}{STATUS_CALLBACK_PATH}", public_url.trim_end_matches('/')),
        })
    }

    fn form<'a>(&'a self, message: &'a Outbound<'_>) -> Vec<(&'static str, &'a str)> {
        let sender = if self.from.is_empty() {
            ("MessagingServiceSid", self.messaging_service_sid.as_str())
        } else {
            ("From", self.from.as_str())
        };
        vec![
            ("To", message.to),
            sender,
            ("Body", message.body),
            ("StatusCallback", self.status_callback.as_str()),
        ]
    }
}

impl SmsProvider for Twilio {
    fn name(&self) -> &'static str {
        ProviderKind::Twilio.as_str()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        let request = self
            .client
            .post(&self.messages_url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&self.form(message));
        http::exchange(request, http::Resend::AfterLookup, outcome).await
    }

    async fn find(&self, message: &Outbound<'_>, since: chrono::DateTime<chrono::Utc>) -> Lookup {
        self.list_sent(message, since).await
    }
}

fn outcome(
    http::Answer {
        status,
        retry_after,
        body,
    }: http::Answer,
) -> SendOutcome {
    if status.is_success() {
        return match serde_json::from_str::<Created>(&body) {
            Ok(created) => SendOutcome::Accepted {
                provider_message_id: created.sid,
                status: created
                    .status
                    .as_deref()
                    .and_then(DeliveryStatus::normalise)
                    .unwrap_or(DeliveryStatus::Queued),
                // `num_segments` is Twilio's count of what it will bill.
                billed_segments: created.num_segments.as_deref().and_then(|n| n.parse().ok()),
            },
            // Accepted but unreadable: Twilio may have sent it, and it takes no idempotency
            // key, so it is looked up before anything is sent again.
            Err(e) => http::unreadable(format!(
                "HTTP {status} with an unreadable body ({e}): {}",
                http::excerpt(&body)
            )),
        };
    }
    let error: ApiError = serde_json::from_str(&body).unwrap_or_default();
    let code = error.code.map(|c| c.to_string());
    let message = format!(
        "HTTP {status}: {}",
        error.message.unwrap_or_else(|| http::excerpt(&body))
    );
    if error.code == Some(TOO_MANY_REQUESTS) {
        return SendOutcome::Retry {
            code,
            message,
            retry_after,
        };
    }
    if let Some(outcome) = http::unavailable(
        status,
        http::Resend::AfterLookup,
        code.clone(),
        message.clone(),
        retry_after,
    ) {
        return outcome;
    }
    SendOutcome::Failed {
        recipient_opted_out: error.code == Some(OPTED_OUT),
        code,
        message,
    }
}
