//! A send: one signed JSON post to `provider.webhook.url`, its answer judged.

use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;

use super::{
    Settings,
    signature::{self, Secret},
    wire::{Accepted, CALLBACK_PATH, SendRequest},
};
use crate::{
    channels::{Lookup, Outbound, ProviderKind, SendOutcome, SmsProvider, http_client as http},
    domain::delivery::DeliveryStatus,
};

pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: Secret,
    status_callback: String,
}

impl Webhook {
    pub fn new(settings: &Settings, public_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the webhook provider's HTTP client")?;
        let secret =
            Secret::parse(settings.secret.expose_secret()).context("provider.webhook.secret")?;
        Ok(Self {
            client,
            url: settings.url.clone(),
            secret,
            status_callback: format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/')),
        })
    }
}

impl SmsProvider for Webhook {
    fn name(&self) -> &'static str {
        ProviderKind::Webhook.as_str()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        let id = message.id.to_string();
        let body = serde_json::to_string(&SendRequest {
            id: id.clone(),
            to: message.to.to_owned(),
            body: message.body.to_owned(),
            status_callback: self.status_callback.clone(),
        })
        .expect("a struct of strings serializes");
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature::sign(&self.secret, &id, timestamp, body.as_bytes());
        let request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &id)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        http::exchange(request, http::Resend::Blind, outcome).await
    }

    /// Never asked (its transport failures are retried blind): a resend carries the same
    /// `Idempotency-Key`, which the provider drops if it has the message.
    async fn find(&self, _: &Outbound<'_>, _: chrono::DateTime<chrono::Utc>) -> Lookup {
        Lookup::NotFound
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
        return match serde_json::from_str::<Accepted>(&body) {
            Ok(a) => SendOutcome::Accepted {
                provider_message_id: a.provider_message_id,
                status: DeliveryStatus::Queued,
                billed_segments: None,
            },
            // The provider dedupes on Idempotency-Key, so asking again is safe and gets the id.
            Err(e) => SendOutcome::Retry {
                code: None,
                message: format!(
                    "HTTP {status} without a provider_message_id ({e}): {}",
                    http::excerpt(&body)
                ),
                retry_after,
            },
        };
    }
    let message = format!("HTTP {status}: {}", http::excerpt(&body));
    let code = Some(status.as_u16().to_string());
    http::unavailable(
        status,
        http::Resend::Blind,
        code.clone(),
        message.clone(),
        retry_after,
    )
    .unwrap_or(SendOutcome::Failed {
        code,
        message,
        recipient_opted_out: false,
    })
}
