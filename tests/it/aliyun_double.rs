//! A local server playing Alibaba Cloud's SendSms (2017-05-25) as strictly as the platform:
//! it recomputes the ACS3-HMAC-SHA256 signature here, independently of the crate's
//! `signature.rs`, from the secret it was given, and refuses a wrong one with Aliyun's
//! `SignatureDoesNotMatch`; it checks the `x-acs-*` headers, the nonce (never reused) and
//! the required parameters, then answers as scripted.
//!
//! It also answers `QuerySendDetails` (one number's sends on one Beijing day, by page, each
//! with the `OutId` it was sent with: <https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-querysenddetails>),
//! and can lose a send's answer: take it and answer too late ([`Fault::TakeThenHang`]), or
//! hold it untaken ([`Fault::HangUntaken`]).

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method, StatusCode},
    routing::any,
};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::serve;

pub const KEY_ID: &str = "LTAI5tDoubleKeyId";
pub const KEY_SECRET: &str = "double-secret-0123456789abcdef";

/// How the double answers a well-signed, well-formed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ok,
    /// 国内消息API错误码: the number is not valid.
    BadNumber,
    /// 业务限流: the per-number cap.
    Capped,
    /// 系统错误 on Aliyun's side.
    SystemError,
    /// The gateway answers 503.
    Unavailable,
}

/// What becomes of the next send's answer.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Taken (it counts as received) and answered only after this long.
    TakeThenHang(std::time::Duration),
    /// Not taken, and answered (a system error) only after this long.
    HangUntaken(std::time::Duration),
}

/// A send the double accepted as well signed: its parameters and `Host`.
#[derive(Debug, Clone)]
pub struct Received {
    pub params: BTreeMap<String, String>,
    /// The `BizId` its answer carries when taken.
    pub biz_id: String,
    pub host: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Default)]
struct Shared {
    mode: Arc<Mutex<Option<Mode>>>,
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<Vec<String>>>,
    nonces: Arc<Mutex<HashSet<String>>>,
    faults: Arc<Mutex<std::collections::VecDeque<Fault>>>,
    /// `Some(code)`: queries are refused with it.
    query_error: Arc<Mutex<Option<&'static str>>>,
    queries: Arc<Mutex<usize>>,
}

pub struct AliyunDouble {
    pub url: String,
    shared: Shared,
}

impl AliyunDouble {
    pub async fn start(mode: Mode) -> Self {
        let shared = Shared::default();
        *shared.mode.lock().unwrap() = Some(mode);
        let app = Router::new()
            .fallback(any(send_sms))
            .with_state(shared.clone());
        Self {
            url: serve(app).await,
            shared,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits up to 10 s for `n` accepted calls; returns how many there are.
    pub async fn wait_for(&self, n: usize) -> usize {
        for _ in 0..200 {
            if self.received().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.received().len()
    }

    /// The next sends' answers go wrong this way, one fault each, in order.
    pub fn fail_next(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// Queries are refused with `code` (`None`: answered).
    pub fn refuse_queries(&self, code: Option<&'static str>) {
        *self.shared.query_error.lock().unwrap() = code;
    }

    /// Well-signed `QuerySendDetails` calls, answered or refused.
    pub fn queries(&self) -> usize {
        *self.shared.queries.lock().unwrap()
    }

    /// The codes of the calls refused before any scripted answer.
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }
}

type Answer = (StatusCode, Json<Value>);

async fn send_sms(
    State(shared): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let checked = check(&shared, &method, &uri, &headers, &body);
    let (action, params) = match checked {
        Ok(checked) => checked,
        Err((status, code)) => {
            shared.refused.lock().unwrap().push(code.clone());
            return error(status, &code);
        }
    };
    if action == "QuerySendDetails" {
        return query(&shared, &params);
    }
    let fault = shared.faults.lock().unwrap().pop_front();
    if let Some(Fault::HangUntaken(delay)) = fault {
        tokio::time::sleep(delay).await;
        return error(StatusCode::OK, "isp.SYSTEM_ERROR");
    }
    let host = header(&headers, "host").unwrap_or_default();
    let mode = shared.mode.lock().unwrap().expect("a mode is set");
    let biz_id = {
        let mut received = shared.received.lock().unwrap();
        let biz_id = format!("90061974693649{:02}^0", received.len() + 1);
        received.push(Received {
            params,
            biz_id: biz_id.clone(),
            host,
            at: Utc::now(),
        });
        biz_id
    };
    if let Some(Fault::TakeThenHang(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    match mode {
        Mode::Ok => (
            StatusCode::OK,
            Json(json!({
                "Code": "OK",
                "Message": "OK",
                "BizId": biz_id,
                "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
            })),
        ),
        Mode::BadNumber => error(StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL"),
        Mode::Capped => error(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL"),
        Mode::SystemError => error(StatusCode::OK, "isp.SYSTEM_ERROR"),
        Mode::Unavailable => error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
    }
}

/// One number's sends on one Beijing day (`SendDate`), a page of them, newest first, each
/// with the `OutId` it was sent with.
fn query(shared: &Shared, params: &BTreeMap<String, String>) -> Answer {
    *shared.queries.lock().unwrap() += 1;
    if let Some(code) = *shared.query_error.lock().unwrap() {
        return error(StatusCode::OK, code);
    }
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<usize>().ok());
    let (Some(size), Some(page)) = (number("PageSize"), number("CurrentPage")) else {
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    };
    let day = params.get("SendDate").cloned().unwrap_or_default();
    let phone = params.get("PhoneNumber").cloned().unwrap_or_default();
    if !(1..=50).contains(&size)
        || page == 0
        || day.len() != 8
        || phone.is_empty()
        || !day.bytes().all(|b| b.is_ascii_digit())
    {
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    }
    let received = shared.received.lock().unwrap();
    let sends: Vec<&Received> = received
        .iter()
        .rev()
        .filter(|r| r.params.get("PhoneNumbers") == Some(&phone))
        .filter(|r| {
            r.at.with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y%m%d")
                .to_string()
                == day
        })
        .collect();
    let listed: Vec<Value> = sends
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|r| {
            json!({"PhoneNum": phone, "SendStatus": 3, "ErrCode": "DELIVERED",
                   "TemplateCode": r.params.get("TemplateCode"), "Content": "【sign】…",
                   "SendDate": r.at.with_timezone(&chrono_tz::Asia::Shanghai)
                        .format("%Y-%m-%d %H:%M:%S").to_string(),
                   "ReceiveDate": "", "OutId": r.params.get("OutId")})
        })
        .collect();
    (
        StatusCode::OK,
        Json(
            json!({"Code": "OK", "Message": "OK", "RequestId": "819BE656-D2E0-4858-8B21-B2E477085AAF",
                    "TotalCount": sends.len().to_string(),
                    "SmsSendDetailDTOs": {"SmsSendDetailDTO": listed}}),
        ),
    )
}

fn error(status: StatusCode, code: &str) -> Answer {
    (
        status,
        Json(json!({
            "Code": code,
            "Message": format!("refused by the double: {code}"),
            "RequestId": "C0A0BE93-B44F-4350-BCC8-B677F78C3802",
        })),
    )
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The parameters of a call signed with `KEY_SECRET`, or the status and `Code` Aliyun
/// refuses it with.
fn check(
    shared: &Shared,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, BTreeMap<String, String>), (StatusCode, String)> {
    let refuse = |status: StatusCode, code: &str| (status, code.to_owned());
    let bad = StatusCode::BAD_REQUEST;
    if method != Method::POST || uri.path() != "/" {
        return Err(refuse(StatusCode::NOT_FOUND, "InvalidAction.NotFound"));
    }
    let required =
        |name: &str| header(headers, name).ok_or_else(|| refuse(bad, "MissingParameter"));
    let action = required("x-acs-action")?;
    if !matches!(action.as_str(), "SendSms" | "QuerySendDetails") {
        return Err(refuse(StatusCode::NOT_FOUND, "InvalidAction.NotFound"));
    }
    if required("x-acs-version")? != "2017-05-25" {
        return Err(refuse(StatusCode::NOT_FOUND, "InvalidVersion"));
    }
    let date = required("x-acs-date")?;
    let at: DateTime<Utc> =
        DateTime::parse_from_str(&format!("{date}+0000"), "%Y-%m-%dT%H:%M:%SZ%z")
            .map_err(|_| refuse(bad, "InvalidTimeStamp.Format"))?
            .to_utc();
    if (Utc::now() - at).num_minutes().abs() > 15 {
        return Err(refuse(bad, "InvalidTimeStamp.Expired"));
    }
    let payload_hash = hex(&Sha256::digest(body));
    if required("x-acs-content-sha256")? != payload_hash {
        return Err(refuse(bad, "ContentSHA256NotMatch"));
    }
    let nonce = required("x-acs-signature-nonce")?;

    let authorization = required("authorization")?;
    let rest = authorization
        .strip_prefix("ACS3-HMAC-SHA256 ")
        .ok_or_else(|| refuse(bad, "IncompleteSignature"))?;
    let mut parts = BTreeMap::new();
    for part in rest.split(',') {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| refuse(bad, "IncompleteSignature"))?;
        parts.insert(name.to_owned(), value.to_owned());
    }
    let part = |name: &str| {
        parts
            .get(name)
            .cloned()
            .ok_or_else(|| refuse(bad, "IncompleteSignature"))
    };
    if part("Credential")? != KEY_ID {
        return Err(refuse(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound"));
    }
    let signed_headers = part("SignedHeaders")?;
    let names: Vec<&str> = signed_headers.split(';').collect();
    for needed in [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ] {
        if !names.contains(&needed) {
            return Err(refuse(bad, "IncompleteSignature"));
        }
    }

    // The canonical request, built here from what arrived.
    let raw_query = uri.query().unwrap_or_default();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        pairs.push((decode(name), decode(value)));
    }
    let params: BTreeMap<String, String> = pairs.iter().cloned().collect();
    if params.len() != pairs.len() {
        return Err(refuse(bad, "isv.INVALID_PARAMETERS"));
    }
    let mut encoded: Vec<(String, String)> =
        pairs.iter().map(|(n, v)| (encode(n), encode(v))).collect();
    encoded.sort();
    let canonical_query = encoded
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(headers, name).ok_or_else(|| refuse(bad, "IncompleteSignature"))?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let canonical_request = format!(
        "POST\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    );
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY_SECRET.as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    if part("Signature")? != hex(&mac.finalize().into_bytes()) {
        return Err(refuse(bad, "SignatureDoesNotMatch"));
    }
    if !shared.nonces.lock().unwrap().insert(nonce) {
        return Err(refuse(bad, "SignatureNonceUsed"));
    }

    if action == "QuerySendDetails" {
        return Ok((action, params));
    }
    for name in ["PhoneNumbers", "SignName", "TemplateCode"] {
        if params.get(name).is_none_or(|v| v.is_empty()) {
            return Err(refuse(bad, "isv.INVALID_PARAMETERS"));
        }
    }
    if let Some(param) = params.get("TemplateParam") {
        let parsed: Result<BTreeMap<String, String>, _> = serde_json::from_str(param);
        if parsed.is_err() {
            return Err(refuse(bad, "isv.INVALID_JSON_PARAM"));
        }
    }
    Ok((action, params))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986, as the V3 document requires: unreserved characters stay, the rest `%XX`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
