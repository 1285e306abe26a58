//! Customers texting back, as the webhook provider delivers it: a `message.received`
//! callback to the worker's `POST /webhooks/sms`, Standard Webhooks-signed — or, for the
//! abuse scenario, signed wrongly, stale, or not at all.

use std::time::Duration;

use postcall::channels::webhook::{
    signature::{self, Secret},
    wire,
};
use reqwest::StatusCode;

use crate::provider::SECRET;

/// The number customers text, as the provider reports it.
pub const SHORT_CODE: &str = "+8610690000";

/// Part of the first question's text (zh-CN), to spot it in the provider's record.
pub const FIRST_QUESTION: &str = "解决了吗";

pub struct Customers {
    client: reqwest::Client,
    secret: Secret,
}

/// A callback ready to send: body and the three signature headers.
#[derive(Clone)]
pub struct Callback {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl Customers {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                // The worker closes a keep-alive connection idle for its header-read timeout
                // (10 s by default); a pooled connection reused at that instant fails with no
                // answer at all, which the scenarios would count as a refusal. Providers retry
                // such a callback; this client instead never reuses one that old.
                .pool_idle_timeout(Duration::from_secs(5))
                .build()
                .expect("building an HTTP client"),
            secret: Secret::parse(SECRET).expect("the suite's secret parses"),
        }
    }

    /// A `message.received` body from `from` saying `text`, with a fresh provider id.
    pub fn received(from: &str, text: &str) -> Vec<u8> {
        serde_json::to_vec(&wire::Callback::Received {
            provider_message_id: format!("in-{}", uuid::Uuid::new_v4().simple()),
            from: from.to_owned(),
            to: Some(SHORT_CODE.to_owned()),
            body: text.to_owned(),
            received_at: Some(chrono::Utc::now()),
        })
        .expect("a callback serializes")
    }

    /// `body` signed now with the shared secret under a fresh webhook id.
    pub fn sign(&self, body: Vec<u8>) -> Callback {
        self.sign_as(&self.secret, body, chrono::Utc::now().timestamp())
    }

    /// `body` signed with `secret` at `timestamp`.
    pub fn sign_as(&self, secret: &Secret, body: Vec<u8>, timestamp: i64) -> Callback {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        Callback {
            signature: signature::sign(secret, &id, timestamp, &body),
            timestamp: timestamp.to_string(),
            id,
            body,
        }
    }

    /// Posts `callback` to the worker at `base` (`http://host:port`); the answer's status.
    pub async fn post(&self, base: &str, callback: &Callback) -> anyhow::Result<StatusCode> {
        self.post_with(
            base,
            &[
                ("webhook-id", callback.id.as_str()),
                ("webhook-timestamp", callback.timestamp.as_str()),
                ("webhook-signature", callback.signature.as_str()),
            ],
            callback.body.clone(),
        )
        .await
    }

    /// Posts `body` with exactly `headers` (besides the content type).
    pub async fn post_with(
        &self,
        base: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<StatusCode> {
        let mut request = self
            .client
            .post(format!("{base}/webhooks/sms"))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Ok(request.send().await?.status())
    }

    /// A customer's reply, properly signed; the worker's answer.
    pub async fn reply(&self, base: &str, from: &str, text: &str) -> anyhow::Result<StatusCode> {
        let callback = self.sign(Self::received(from, text));
        self.post(base, &callback).await
    }

    /// [`Customers::reply`], sent again while the worker cannot take it (no answer, or a
    /// 5xx: it is restarting, or its database is down), as a provider retries a callback.
    /// The first answer that is not a 5xx, or the last one after `patience`.
    pub async fn reply_until_taken(
        &self,
        base: &str,
        from: &str,
        text: &str,
        patience: Duration,
    ) -> anyhow::Result<StatusCode> {
        let callback = self.sign(Self::received(from, text));
        let started = std::time::Instant::now();
        loop {
            let answer = self.post(base, &callback).await;
            match answer {
                Ok(status) if !status.is_server_error() => return Ok(status),
                _ if started.elapsed() >= patience => return answer,
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}
