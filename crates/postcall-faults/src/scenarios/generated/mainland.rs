//! Generated callbacks to the mainland platforms' routes (Tencent Cloud, Aliyun). Neither
//! signs its callbacks: the path's token is the whole check, so a wrong or missing token
//! must be a 404 that changes nothing, whatever the body. Bodies with the right token are
//! each platform's shapes mutated every way a sender gets them wrong: they may change
//! something, but must never be a 5xx.

use chrono::Utc;
use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::Attempt;
use crate::garble;

/// The tokens the worker is started with (`provider.<kind>.callback_token`).
pub const TENCENT_TOKEN: &str = "faults-tencent-callback-token-7Qm2xV9pLr";
pub const ALIYUN_TOKEN: &str = "faults-aliyun-callback-token-Jw4nT8sKd3";

/// The worker settings that give both platforms' routes their tokens.
pub fn env() -> [(&'static str, &'static str); 2] {
    [
        ("POSTCALL__PROVIDER__TENCENT__CALLBACK_TOKEN", TENCENT_TOKEN),
        ("POSTCALL__PROVIDER__ALIYUN__CALLBACK_TOKEN", ALIYUN_TOKEN),
    ]
}

/// One request to a mainland route: with a wrong token (`valid: false`, must be a 404 that
/// changes nothing) or the right one (`valid: true`, must not be a 5xx).
pub fn attempt(rng: &mut StdRng, phones: &[String], sent: &[String]) -> Attempt {
    let (platform, token) = *[("tencent", TENCENT_TOKEN), ("aliyun", ALIYUN_TOKEN)]
        .choose(rng)
        .expect("not empty");
    let route = *["status", "inbound"].choose(rng).expect("not empty");
    let genuine = genuine(rng, platform, route, phones, sent);
    let right = rng.random_bool(0.5);
    let path_token = if right {
        token.to_owned()
    } else {
        wrong_token(rng, token)
    };
    let body = if right || rng.random_bool(0.5) {
        mutated(rng, genuine)
    } else {
        serde_json::to_vec(&genuine).expect("serialises")
    };
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    Attempt {
        path: format!("/webhooks/{platform}/{path_token}/{route}"),
        headers,
        body,
        what: if right {
            "mainland-token"
        } else {
            "mainland-wrong-token"
        },
        valid: right,
    }
}

/// A token that is not the configured one: near misses (one character changed, a prefix, a
/// different case) and strangers, percent-encoded so that every one is a single path segment.
fn wrong_token(rng: &mut StdRng, token: &str) -> String {
    let wrong = match rng.random_range(0..5) {
        0 => {
            let mut chars: Vec<char> = token.chars().collect();
            let at = rng.random_range(0..chars.len());
            chars[at] = if chars[at] == 'x' { 'y' } else { 'x' };
            chars.into_iter().collect()
        }
        1 => token[..rng.random_range(0..token.len())].to_owned(),
        2 => token.to_uppercase(),
        3 => format!("{token}{}", garble::text(rng)),
        _ => garble::text(rng),
    };
    // Cut short: `http::Uri` holds at most 64 KiB, so a longer path fails in the client
    // before it is sent, and proves nothing about the worker.
    let wrong: String = wrong.chars().take(500).collect();
    let wrong = if wrong.is_empty() || wrong == token {
        "not-the-token".to_owned()
    } else {
        wrong
    };
    form_urlencoded::byte_serialize(wrong.as_bytes()).collect()
}

/// A well-formed callback as the platform posts it, about customers and messages the
/// worker knows.
fn genuine(
    rng: &mut StdRng,
    platform: &str,
    route: &str,
    phones: &[String],
    sent: &[String],
) -> Value {
    let phone = phones.choose(rng).expect("some phones");
    let national = phone.trim_start_matches("+86").to_owned();
    let id = sent
        .choose(rng)
        .cloned()
        .unwrap_or_else(|| "unknown".to_owned());
    let text = *["1", "2", "5", "TD", "退订", "是 5", "help"]
        .choose(rng)
        .expect("not empty");
    let now = Utc::now();
    match (platform, route) {
        ("tencent", "status") => json!([{
            "user_receive_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
            "nationcode": "86", "mobile": national,
            "report_status": *["SUCCESS", "FAIL"].choose(rng).expect("not empty"),
            "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": id,
        }]),
        ("tencent", _) => json!({
            "extend": "", "mobile": national, "nationcode": "86",
            "sign": "postcall", "text": text, "time": now.timestamp(),
        }),
        (_, "status") => json!([{
            "phone_number": national,
            "send_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
            "report_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
            "success": rng.random_bool(0.5), "err_code": "DELIVERED", "err_msg": "用户接收成功",
            "sms_size": "1", "biz_id": id, "out_id": uuid::Uuid::new_v4().to_string(),
        }]),
        _ => json!([{
            "phone_number": national, "content": text,
            "send_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
            "dest_code": "1234", "sequence_id": rng.random_range(1..i64::MAX),
        }]),
    }
}

/// The callback with fields dropped, mistyped or replaced, items of the wrong kind, broken
/// JSON, or no callback at all.
fn mutated(rng: &mut StdRng, mut callback: Value) -> Vec<u8> {
    match rng.random_range(0..7) {
        0 => return garble::bytes(rng, 1024),
        1 => return serde_json::to_vec(&garble::json(rng, 5)).expect("serialises"),
        2 => {
            let text = serde_json::to_vec(&callback).expect("serialises");
            return text[..rng.random_range(0..text.len())].to_vec();
        }
        _ => {}
    }
    let item = match &mut callback {
        Value::Array(items) => items.first_mut(),
        other => Some(other),
    };
    if let Some(Value::Object(fields)) = item {
        let keys: Vec<String> = fields.keys().cloned().collect();
        let key = keys.choose(rng).expect("not empty").clone();
        match rng.random_range(0..4) {
            0 => {
                fields.remove(&key);
            }
            1 => {
                fields.insert(key, garble::json(rng, 2));
            }
            2 => {
                fields.insert(key, Value::String(garble::text(rng)));
            }
            _ => {
                fields.insert(key, Value::String(format!("x\u{0}{}", garble::text(rng))));
            }
        }
    }
    serde_json::to_vec(&callback).expect("serialises")
}
