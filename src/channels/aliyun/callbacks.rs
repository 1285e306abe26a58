//! Aliyun's HTTP batch pushes: SmsReport (delivery receipts) and SmsUp (replies), each a
//! JSON array. Aliyun signs neither, so a route is reached only through its secret path
//! token, and optionally only from `callback_allow`; a wrong token or caller is told the
//! route does not exist.
//!
//! A well-formed batch is stored before it is acted on (`http::webhooks::inbox`): Aliyun
//! waits at most 700 ms for its answer, then pushes again. `read_stored` reads a stored
//! batch the same way the route read it.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, de::DeserializeOwned};

use super::wire::{SmsReport, SmsUp};
use crate::channels::{
    ProviderKind,
    callbacks::{
        Answer, Callback, Heard, Keys, MAX_ADDRESS_CHARS, MAX_ID_CHARS, Refusal, Reply, Request,
        Route, refuse_long, refuse_nul,
    },
};

pub const STATUS_PATH: &str = "/webhooks/aliyun/{token}/status";
pub const INBOUND_PATH: &str = "/webhooks/aliyun/{token}/inbound";

/// The kinds of stored batch, one per route.
pub const STATUS: &str = "status";
pub const INBOUND: &str = "inbound";

/// `{"code": 0, "msg": "接收成功"}` (`wire::CallbackAnswer::received`): Aliyun checks only
/// that HTTP is 200 and `code` is a number.
const RECEIVED: &str = r#"{"code":0,"msg":"接收成功"}"#;

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            channel: ProviderKind::Aliyun,
            path: STATUS_PATH,
            read: status,
        },
        Route {
            channel: ProviderKind::Aliyun,
            path: INBOUND_PATH,
            read: inbound,
        },
    ]
}

/// The kind of batch a route's requests are stored as.
pub fn inbox_kind(path: &str) -> Option<&'static str> {
    match path {
        STATUS_PATH => Some(STATUS),
        INBOUND_PATH => Some(INBOUND),
        _ => None,
    }
}

/// A stored batch, read again to be acted on; `received_at` is when it was stored, the
/// time of a reply whose own time cannot be read.
pub fn read_stored(
    keys: &Keys,
    kind: &str,
    body: &serde_json::Value,
    received_at: DateTime<Utc>,
) -> Result<Vec<Heard>, Refusal> {
    match kind {
        STATUS => reports(parse(body, Vec::deserialize)?),
        INBOUND => replies(keys, parse(body, Vec::deserialize)?, received_at),
        other => Err(Refusal::Malformed(format!(
            "no Aliyun batch of kind {other:?}"
        ))),
    }
}

fn status(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    keys.aliyun_gate.admit(request)?;
    let heard = reports(parse(request.body, serde_json::from_slice)?)?;
    Ok(received(heard))
}

fn inbound(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    keys.aliyun_gate.admit(request)?;
    let heard = replies(
        keys,
        parse(request.body, serde_json::from_slice)?,
        request.now,
    )?;
    Ok(received(heard))
}

/// The raw body (`serde_json::from_slice`) or the stored one (`Vec::deserialize`).
fn parse<S, T: DeserializeOwned>(
    body: S,
    read: impl FnOnce(S) -> serde_json::Result<Vec<T>>,
) -> Result<Vec<T>, Refusal> {
    read(body).map_err(|e| Refusal::Malformed(format!("not an Aliyun batch: {e}")))
}

fn reports(batch: Vec<SmsReport>) -> Result<Vec<Heard>, Refusal> {
    batch
        .into_iter()
        .map(|report| {
            refuse_nul("biz_id", &report.biz_id)?;
            refuse_long("biz_id", &report.biz_id, MAX_ID_CHARS)?;
            if report.biz_id.trim().is_empty() {
                return Err(Refusal::Malformed("biz_id is empty".into()));
            }
            refuse_nul("err_code", &report.err_code)?;
            refuse_long("err_code", &report.err_code, MAX_ID_CHARS)?;
            let error_code =
                (!report.success && !report.err_code.is_empty()).then(|| report.err_code.clone());
            Ok(Heard::Delivery {
                status: report.status(),
                billed_segments: report.billed_parts(),
                provider_message_id: report.biz_id,
                error_code,
            })
        })
        .collect()
}

/// The batch's replies in the order they were sent, which Aliyun's listing need not be:
/// one customer's second answer must not be read as the answer to the first question.
fn replies(
    keys: &Keys,
    mut batch: Vec<SmsUp>,
    received_at: DateTime<Utc>,
) -> Result<Vec<Heard>, Refusal> {
    batch.sort_by_cached_key(|up| beijing_time(&up.send_time));
    batch
        .into_iter()
        .map(|up| {
            for (field, value) in [
                ("sequence_id", up.sequence_id.as_str()),
                ("phone_number", up.phone_number.as_str()),
                ("content", up.content.as_str()),
                ("sign_name", up.sign_name.as_deref().unwrap_or_default()),
            ] {
                refuse_nul(field, value)?;
            }
            refuse_long("sequence_id", &up.sequence_id, MAX_ID_CHARS)?;
            if up.sequence_id.trim().is_empty() {
                return Err(Refusal::Malformed("sequence_id is empty".into()));
            }
            let from = e164(up.phone_number.as_str())?;
            refuse_long("phone_number", &from, MAX_ADDRESS_CHARS)?;
            let other_signature = up
                .sign_name
                .as_deref()
                .map(|sign| sign.trim().trim_start_matches('【').trim_end_matches('】'))
                .filter(|sign| !sign.is_empty() && *sign != keys.aliyun_sign_name.trim())
                .map(str::to_owned);
            Ok(Heard::Reply(Reply {
                provider_message_id: up.sequence_id,
                from,
                to: None,
                received_at: beijing_time(&up.send_time).unwrap_or(received_at),
                body: up.content,
                other_signature,
            }))
        })
        .collect()
}

/// `phone_number` in E.164. Aliyun writes mainland numbers as their 11 digits; `86`,
/// `0086` or `+` in front are read too.
fn e164(raw: &str) -> Result<String, Refusal> {
    let raw = raw.trim();
    let digits = raw
        .strip_prefix('+')
        .or_else(|| raw.strip_prefix("00"))
        .map(|rest| (rest, true))
        .unwrap_or((raw, false));
    let (number, international) = digits;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::Malformed(
            "phone_number is not a phone number".into(),
        ));
    }
    Ok(match (international, number.len()) {
        (true, _) => format!("+{number}"),
        (false, 11) if number.starts_with('1') => format!("+86{number}"),
        (false, 13) if number.starts_with("861") => format!("+{number}"),
        (false, _) => {
            return Err(Refusal::Malformed(
                "phone_number is neither a mainland number nor international".into(),
            ));
        }
    })
}

/// Aliyun's times carry no zone: they are Beijing time. `2017-09-01 00:00:00`, or the
/// `20170901000000` of an older sample.
fn beijing_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y%m%d%H%M%S"))
        .ok()?;
    naive
        .and_local_timezone(Shanghai)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn received(heard: Vec<Heard>) -> Callback {
    Callback {
        heard,
        replay: None,
        answer: Answer {
            status: StatusCode::OK,
            body: Some(("application/json", RECEIVED)),
        },
    }
}

#[cfg(test)]
mod tests;
