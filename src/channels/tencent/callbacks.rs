//! Tencent's callbacks: delivery receipts (a JSON array) and replies (one JSON object).
//! Tencent signs neither, so a callback is admitted by the secret `{token}` in its path
//! and, optionally, by the caller's address; anything else sees a route that does not exist.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{
    Settings,
    wire::{DeliveryReceipt, Reply as WireReply, ReportStatus},
};
use crate::channels::{
    ProviderKind,
    callbacks::{
        Answer, Callback, Heard, MAX_ADDRESS_CHARS, MAX_ID_CHARS, PathToken, Refusal, Reply,
        Request, Route, refuse_long, refuse_nul,
    },
};

pub const STATUS_PATH: &str = "/webhooks/tencent/{token}/status";
pub const INBOUND_PATH: &str = "/webhooks/tencent/{token}/inbound";

/// Prefixes the id made up for a reply, which Tencent does not give one: a `SerialNo`
/// never starts with it, so the two cannot collide.
pub const REPLY_ID_PREFIX: &str = "tencent-reply:";

/// What Tencent expects back from both callbacks (`result` 0 is success).
const OK_BODY: &str = r#"{"result":0,"errmsg":"OK"}"#;

/// What Tencent's callbacks are admitted and read with; the default admits none.
#[derive(Default)]
pub struct Keys {
    gate: PathToken,
    sign_name: String,
}

impl Keys {
    /// From `[provider.tencent]`, whichever channel sends: an unset token refuses every
    /// callback.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let allow = settings
            .allowed_callers()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.key, e.why))?;
        Ok(Self {
            gate: PathToken::new(
                "provider.tencent.callback_token",
                &settings.callback_token,
                allow,
            ),
            sign_name: settings.sign_name.trim().to_owned(),
        })
    }
}

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            channel: ProviderKind::Tencent,
            path: STATUS_PATH,
            read: |keys, request| status(&keys.tencent, request),
        },
        Route {
            channel: ProviderKind::Tencent,
            path: INBOUND_PATH,
            read: |keys, request| inbound(&keys.tencent, request),
        },
    ]
}

/// Receipts, in the order Tencent listed them.
pub fn status(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    keys.gate.admit(request)?;
    let receipts: Vec<DeliveryReceipt> = serde_json::from_slice(request.body)
        .map_err(|e| Refusal::Malformed(format!("not a list of Tencent receipts: {e}")))?;
    let heard = receipts
        .iter()
        .map(delivery)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ok(heard))
}

/// One customer's SMS.
pub fn inbound(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    keys.gate.admit(request)?;
    let reply: WireReply = serde_json::from_slice(request.body)
        .map_err(|e| Refusal::Malformed(format!("not a Tencent reply: {e}")))?;
    Ok(ok(vec![Heard::Reply(read_reply(keys, &reply)?)]))
}

fn delivery(receipt: &DeliveryReceipt) -> Result<Heard, Refusal> {
    let sid = receipt.sid.trim();
    if sid.is_empty() {
        return Err(Refusal::Malformed("a receipt without sid".into()));
    }
    refuse_nul("sid", sid)?;
    refuse_long("sid", sid, MAX_ID_CHARS)?;
    let error_code = match receipt.report_status {
        ReportStatus::Success => None,
        ReportStatus::Fail => {
            let code = receipt.errmsg.trim();
            refuse_nul("errmsg", code)?;
            refuse_long("errmsg", code, MAX_ID_CHARS)?;
            (!code.is_empty()).then(|| code.to_owned())
        }
    };
    Ok(Heard::Delivery {
        provider_message_id: sid.to_owned(),
        status: receipt.status(),
        error_code,
        billed_segments: None,
    })
}

fn read_reply(keys: &Keys, reply: &WireReply) -> Result<Reply, Refusal> {
    for (field, value) in [
        ("mobile", reply.mobile.as_str()),
        ("nationcode", reply.nationcode.as_str()),
        ("sign", reply.sign.as_str()),
        ("text", reply.text.as_str()),
        ("extend", reply.extend.as_str()),
    ] {
        refuse_nul(field, value)?;
    }
    let from = e164(&reply.nationcode, reply.mobile.as_str())?;
    let received_at = DateTime::<Utc>::from_timestamp(reply.time, 0)
        .ok_or_else(|| Refusal::Malformed(format!("time {} is not a Unix time", reply.time)))?;
    let sign = reply
        .sign
        .trim()
        .trim_start_matches('【')
        .trim_end_matches('】');
    refuse_long("sign", sign, MAX_ADDRESS_CHARS)?;
    Ok(Reply {
        provider_message_id: reply_id(&from, &reply.text, reply.time),
        from,
        to: None,
        body: reply.text.clone(),
        received_at,
        other_signature: (sign != keys.sign_name).then(|| sign.to_owned()),
    })
}

/// `+{nationcode}{mobile}`. Tencent documents the two apart, the mobile without its
/// country code; a mobile already written in E.164 is taken as it is.
fn e164(nationcode: &str, mobile: &str) -> Result<String, Refusal> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mobile = mobile.trim();
    let nationcode = nationcode.trim().trim_start_matches('+');
    let from = match mobile.strip_prefix('+') {
        Some(rest) if digits(rest) => mobile.to_owned(),
        _ if digits(mobile) && digits(nationcode) => format!("+{nationcode}{mobile}"),
        _ => {
            return Err(Refusal::Malformed(
                "nationcode and mobile must be digits".into(),
            ));
        }
    };
    refuse_long("mobile", &from, MAX_ADDRESS_CHARS)?;
    Ok(from)
}

/// Tencent gives a reply no id: the same phone, text and second are the same reply, posted
/// again. Each part is length-prefixed so that no two different triples digest alike.
fn reply_id(from: &str, text: &str, time: i64) -> String {
    let mut digest = Sha256::new();
    for part in [
        from.as_bytes(),
        text.as_bytes(),
        time.to_string().as_bytes(),
    ] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{REPLY_ID_PREFIX}{hex}")
}

fn ok(heard: Vec<Heard>) -> Callback {
    Callback {
        heard,
        replay: None,
        answer: Answer {
            status: StatusCode::OK,
            body: Some(("application/json", OK_BODY)),
        },
    }
}

#[cfg(test)]
mod tests;
