//! A send: one `SendSms` call per message, its parameters in the query string exactly as
//! signed (ACS3-HMAC-SHA256), its answer judged by `Code`.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{
    Settings,
    errors::{ErrorClass, classify},
    signature,
    template::check_params,
    wire::{Mobile, SendSmsRequest, SendSmsResponse, template_param},
};
use crate::{
    channels::{Lookup, Outbound, ProviderKind, SendOutcome, SmsProvider, http_client as http},
    domain::delivery::DeliveryStatus,
};

pub struct Aliyun {
    client: reqwest::Client,
    /// `base_url` with the path `/`: SendSms is an RPC call on the root.
    endpoint: reqwest::Url,
    /// The `Host` header reqwest sends for `endpoint` (with the port when it is not the
    /// scheme's default), which the signature must cover byte for byte.
    host: String,
    access_key_id: String,
    access_key_secret: SecretString,
    sign_name: String,
}

impl Aliyun {
    pub fn new(settings: &Settings, timeout: Duration) -> anyhow::Result<Self> {
        let mut endpoint = settings
            .base_url()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.key, e.why))?;
        endpoint.set_path("/");
        endpoint.set_query(None);
        let host_name = endpoint
            .host_str()
            .context("provider.aliyun.base_url has no host")?;
        let host = match endpoint.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the Aliyun HTTP client")?;
        Ok(Self {
            client,
            endpoint,
            host,
            access_key_id: settings.access_key_id.clone(),
            access_key_secret: settings.access_key_secret.clone(),
            sign_name: settings.sign_name.clone(),
        })
    }

    /// The parameters of one SendSms, or why it must not be sent.
    fn parameters(&self, message: &Outbound<'_>) -> Result<SendSmsRequest, SendOutcome> {
        let Some(template) = &message.template else {
            return Err(failed(
                None,
                "no template for this message: Aliyun sends approved templates only \
                 (check provider.aliyun.templates)"
                    .to_owned(),
            ));
        };
        let values: BTreeMap<String, String> = template
            .params
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect();
        let problems = check_params(&values, None);
        if !problems.is_empty() {
            let why: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(failed(
                None,
                format!(
                    "template {} parameters refused: {}",
                    template.id,
                    why.join("; ")
                ),
            ));
        }
        Ok(SendSmsRequest {
            phone_numbers: Mobile(phone_number(message.to)),
            sign_name: self.sign_name.clone(),
            template_code: template.id.to_owned(),
            template_param: (!values.is_empty()).then(|| template_param(&values)),
            out_id: Some(message.id.to_string()),
            sms_up_extend_code: None,
        })
    }
}

impl SmsProvider for Aliyun {
    fn name(&self) -> &'static str {
        ProviderKind::Aliyun.as_str()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        let parameters = match self.parameters(message) {
            Ok(parameters) => parameters,
            Err(refused) => return refused,
        };
        let request = self.signed(signature::ACTION_SEND_SMS, &parameters.query());
        http::exchange(request, http::Resend::AfterLookup, outcome).await
    }

    async fn find(&self, message: &Outbound<'_>, since: chrono::DateTime<Utc>) -> Lookup {
        self.query_details(message, since).await
    }
}

impl Aliyun {
    /// An ACS3-signed RPC call `action` with `query`, sent exactly as signed.
    pub(super) fn signed(&self, action: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let nonce = Uuid::new_v4().simple().to_string();
        let signed = signature::Request::rpc(action, &self.host, Utc::now(), &nonce, query);
        let mut url = self.endpoint.clone();
        // Sent exactly as signed: reqwest's own query encoding differs (`+`, `*`).
        url.set_query(Some(&signed.canonical_query()));
        let mut request = self.client.post(url).header("content-length", "0");
        for (name, value) in
            signed.headers(&self.access_key_id, self.access_key_secret.expose_secret())
        {
            // reqwest sends `Host` from the URL, which is what `self.host` holds.
            if name != "host" {
                request = request.header(name, value);
            }
        }
        request
    }
}

/// Mainland numbers go as their 11 digits, as Aliyun's examples write them; any other
/// number keeps its `+` and country code, which Aliyun also accepts.
pub(super) fn phone_number(e164: &str) -> String {
    match e164.strip_prefix("+86") {
        Some(national) if national.len() == 11 => national.to_owned(),
        _ => e164.to_owned(),
    }
}

fn outcome(
    http::Answer {
        status,
        retry_after,
        body,
    }: http::Answer,
) -> SendOutcome {
    let answer = serde_json::from_str::<SendSmsResponse>(&body);
    let (code, message) = match &answer {
        Ok(a) => (
            Some(a.code.clone()),
            format!("HTTP {status}: {}: {}", a.code, a.message),
        ),
        Err(_) => (None, format!("HTTP {status}: {}", http::excerpt(&body))),
    };
    if let Some(outcome) = http::unavailable(
        status,
        http::Resend::AfterLookup,
        code,
        message,
        retry_after,
    ) {
        return outcome;
    }
    let answer = match answer {
        Ok(answer) => answer,
        // SendSms takes no idempotency key: an answer nobody can read may hide a sent SMS,
        // so it is looked up before anything is sent again.
        Err(e) => {
            return http::unreadable(format!(
                "HTTP {status} with an unreadable body ({e}): {}",
                http::excerpt(&body)
            ));
        }
    };
    if answer.is_ok() {
        return match answer.biz_id.filter(|id| !id.trim().is_empty()) {
            Some(biz_id) => SendOutcome::Accepted {
                provider_message_id: biz_id,
                status: DeliveryStatus::Queued,
                billed_segments: None,
            },
            // Taken, but not said as what: looked up rather than sent again.
            None => http::unreadable(format!(
                "HTTP {status}: Code OK without a BizId (RequestId {})",
                answer.request_id
            )),
        };
    }
    let class = classify(&answer.code);
    let message = format!(
        "{} ({class:?}): {} (RequestId {})",
        answer.code, answer.message, answer.request_id
    );
    match class {
        ErrorClass::Permanent | ErrorClass::InvalidNumber => failed(Some(answer.code), message),
        ErrorClass::CapExceeded => SendOutcome::CapExceeded {
            code: Some(answer.code),
            message,
        },
        ErrorClass::OptedOut => SendOutcome::Failed {
            code: Some(answer.code),
            message,
            recipient_opted_out: true,
        },
        ErrorClass::Retryable => SendOutcome::Retry {
            code: Some(answer.code),
            message,
            retry_after,
        },
        ErrorClass::OutcomeUnknown => SendOutcome::Unknown {
            code: Some(answer.code),
            message,
            retry_after,
        },
    }
}

fn failed(code: Option<String>, message: String) -> SendOutcome {
    SendOutcome::Failed {
        code,
        message,
        recipient_opted_out: false,
    }
}

#[cfg(test)]
mod tests;
