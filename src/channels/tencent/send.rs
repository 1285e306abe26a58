//! A send: one signed `SendSms` call per message, its answer judged.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{
    Settings, errors,
    signature::{ACTION_SEND_SMS, Request},
    template,
    wire::{Mobile, SendSmsRequest, SendSmsResponse},
};
use crate::{
    channels::{Lookup, Outbound, ProviderKind, SendOutcome, SmsProvider, http_client as http},
    domain::delivery::DeliveryStatus,
};

pub struct Tencent {
    client: reqwest::Client,
    url: Url,
    /// What reqwest sends as `Host` for `url` (with the port when it is not the scheme's
    /// default), which the signature covers.
    host: String,
    secret_id: String,
    secret_key: SecretString,
    region: String,
    pub(super) sms_sdk_app_id: String,
    sign_name: String,
    max_param_chars: Option<usize>,
}

impl Tencent {
    pub fn new(settings: &Settings, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the Tencent HTTP client")?;
        let mut url = Url::parse(&settings.base_url).context("provider.tencent.base_url")?;
        url.set_path("/");
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => anyhow::bail!("provider.tencent.base_url has no host"),
        };
        Ok(Self {
            client,
            url,
            host,
            secret_id: settings.secret_id.clone(),
            secret_key: settings.secret_key.clone(),
            region: settings.region.clone(),
            sms_sdk_app_id: settings.sms_sdk_app_id.clone(),
            sign_name: settings.sign_name.clone(),
            max_param_chars: settings.max_param_chars,
        })
    }

    /// The body for `message`, or why it cannot be sent: Tencent sends approved templates
    /// only, so a message without one is a configuration bug, never sent as free text.
    fn body(&self, message: &Outbound<'_>) -> Result<SendSmsRequest, SendOutcome> {
        let Some(call) = message.template else {
            return Err(refused(
                "no template for this message: Tencent sends approved templates only \
                 (provider.tencent.templates)"
                    .to_owned(),
            ));
        };
        let values: Vec<String> = call.params.iter().map(|p| p.value.clone()).collect();
        let broken = template::check_params(&values, self.max_param_chars);
        if !broken.is_empty() {
            let why: Vec<String> = broken.iter().map(ToString::to_string).collect();
            return Err(refused(format!(
                "template {} parameters Tencent would refuse: {}",
                call.id,
                why.join("; ")
            )));
        }
        Ok(SendSmsRequest {
            phone_number_set: vec![Mobile(message.to.to_owned())],
            sms_sdk_app_id: self.sms_sdk_app_id.clone(),
            sign_name: self.sign_name.clone(),
            template_id: call.id.to_owned(),
            template_param_set: values,
            session_context: Some(message.id.to_string()),
            extend_code: None,
            sender_id: None,
        })
    }
}

impl SmsProvider for Tencent {
    fn name(&self) -> &'static str {
        ProviderKind::Tencent.as_str()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        let body = match self.body(message) {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let payload = match serde_json::to_vec(&body) {
            Ok(payload) => payload,
            Err(e) => return refused(format!("SendSms body could not be written: {e}")),
        };
        let request = self.signed(ACTION_SEND_SMS, payload);
        let id = message.id;
        let to = message.to;
        http::exchange(request, http::Resend::AfterLookup, |answer| {
            outcome(answer, id, to)
        })
        .await
    }

    async fn find(&self, message: &Outbound<'_>, since: DateTime<Utc>) -> Lookup {
        self.pull_status(message, since).await
    }
}

impl Tencent {
    /// A TC3-signed POST of `action` with the JSON `payload`.
    pub(super) fn signed(&self, action: &str, payload: Vec<u8>) -> reqwest::RequestBuilder {
        let signed = Request::sms(action, &self.host, &self.region, Utc::now(), &payload);
        let mut request = self.client.post(self.url.clone());
        for (name, value) in signed.headers(&self.secret_id, self.secret_key.expose_secret()) {
            // reqwest writes `Host` from the URL, the very value signed; a second one
            // would be a malformed request.
            if name != "Host" {
                request = request.header(name, value);
            }
        }
        request.body(payload)
    }
}

fn refused(message: String) -> SendOutcome {
    SendOutcome::Failed {
        code: None,
        message,
        recipient_opted_out: false,
    }
}

/// What Tencent's answer to the send of message `id` to `to` means.
fn outcome(answer: http::Answer, id: Uuid, to: &str) -> SendOutcome {
    let http::Answer {
        status,
        retry_after,
        body,
    } = answer;
    if !status.is_success() {
        let message = format!("HTTP {status}: {}", http::excerpt(&body));
        return http::unavailable(
            status,
            http::Resend::AfterLookup,
            None,
            message.clone(),
            retry_after,
        )
        .unwrap_or_else(|| refused(message));
    }
    // Unreadable, or not about this message: Tencent may have sent it, and `SendSms` takes
    // no idempotency key, so it is looked up before anything is sent again.
    let unreadable =
        |why: String| http::unreadable(format!("HTTP {status}, {why}: {}", http::excerpt(&body)));
    let answer: SendSmsResponse = match serde_json::from_str(&body) {
        Ok(answer) => answer,
        Err(e) => return unreadable(format!("an unreadable body ({e})")),
    };
    let statuses = match answer.response.outcome() {
        Ok(statuses) => statuses,
        Err(error) => {
            return errors::classify(&error.code).outcome(&error.code, &error.message);
        }
    };
    let [sent] = statuses else {
        return unreadable(format!("{} statuses for one number", statuses.len()));
    };
    if sent.phone_number.as_str() != to {
        return unreadable("a status for another number".to_owned());
    }
    if !sent.is_ok() {
        return errors::classify(&sent.code).outcome(&sent.code, &sent.message);
    }
    if sent.session_context != id.to_string() {
        return unreadable(format!(
            "SessionContext {:?} instead of this message's id",
            sent.session_context
        ));
    }
    if sent.serial_no.is_empty() {
        return unreadable("an accepted status without a SerialNo".to_owned());
    }
    SendOutcome::Accepted {
        provider_message_id: sent.serial_no.clone(),
        // `Ok` means Tencent handed the SMS to the carrier; the receipt says delivered.
        status: DeliveryStatus::Sent,
        billed_segments: Some(sent.fee),
    }
}

#[cfg(test)]
mod tests;
