//! A local Alibaba Cloud SMS (Dysms 2017-05-25) playing `SendSms` and `QuerySendDetails` as
//! the platform does: RPC calls, every parameter in the query string and an empty body,
//! ACS3-HMAC-SHA256-signed with the suite's key (checked by recomputing the `Authorization`
//! header from what arrived), `x-acs-*` headers present and the date within 15 minutes, a
//! nonce never used twice; one number per send, its `OutId` (postcall's message id) listed
//! back by the query for the number's Beijing day. No idempotency key: its [`Ledger`] is
//! the suite's count of what customers got, and can lose answers or enforce limits. It also
//! pushes customers' replies to a worker, as Aliyun's SmsUp does.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method, StatusCode},
    routing::any,
};
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;
use postcall::channels::aliyun::signature::{
    ACTION_QUERY_SEND_DETAILS, ACTION_SEND_SMS, Request, VERSION,
};
use serde_json::{Value, json};

use crate::{
    ledger::{Cap, Double, Fault, Ledger, Reply, Verdict},
    tencent::templates_toml,
};

pub const KEY_ID: &str = "LTAI5tFaultsSuiteKey";
pub const KEY_SECRET: &str = "faultsSuiteAliyunSecret0000000000";
pub const SIGN: &str = "故障演练";
/// The path token of the worker's Aliyun callback routes.
const CALLBACK_TOKEN: &str = "faults-aliyun-callback-token-7Kp2Qz";
/// The empty body's SHA-256, which every RPC call signs.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Shared {
    ledger: Arc<Ledger>,
    nonces: Mutex<HashSet<String>>,
}

pub struct AliyunDouble {
    double: Double,
}

impl AliyunDouble {
    pub async fn start() -> anyhow::Result<Self> {
        let double = Double::serve(|ledger| {
            let state = Arc::new(Shared {
                ledger,
                nonces: Mutex::default(),
            });
            Router::new().fallback(any(call)).with_state(state)
        })
        .await?;
        Ok(Self { double })
    }

    pub fn ledger(&self) -> &Ledger {
        self.double.ledger()
    }

    /// The customer on `phone` texts `texts` back, in that order: Aliyun's SmsUp push, one
    /// batch holding them all (as Aliyun gathers replies that arrive together).
    pub fn reply(phone: &str, texts: &[&str]) -> Reply {
        // Aliyun numbers each reply, and keeps the number when it pushes it again.
        static SEQUENCE: AtomicU64 = AtomicU64::new(1);
        let now = Utc::now().with_timezone(&Shanghai);
        let batch: Vec<Value> = texts
            .iter()
            .map(|text| {
                json!({"phone_number": phone.trim_start_matches("+86"), "content": text,
                    "send_time": now.format("%Y-%m-%d %H:%M:%S").to_string(), "dest_code": "1234",
                    "sequence_id": SEQUENCE.fetch_add(1, Ordering::Relaxed), "sign_name": SIGN})
            })
            .collect();
        Reply {
            path: format!("/webhooks/aliyun/{CALLBACK_TOKEN}/inbound"),
            body: Value::Array(batch),
        }
    }

    /// The worker's settings for this platform.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__PROVIDER__KIND", "aliyun"),
            (
                "POSTCALL__PROVIDER__ALIYUN__BASE_URL",
                self.double.url.as_str(),
            ),
            ("POSTCALL__PROVIDER__ALIYUN__ACCESS_KEY_ID", KEY_ID),
            ("POSTCALL__PROVIDER__ALIYUN__ACCESS_KEY_SECRET", KEY_SECRET),
            ("POSTCALL__PROVIDER__ALIYUN__SIGN_NAME", SIGN),
            ("POSTCALL__PROVIDER__ALIYUN__CALLBACK_TOKEN", CALLBACK_TOKEN),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Approved templates, codes `SMS_5000`… ([`templates_toml`]).
    pub fn templates_toml() -> String {
        templates_toml("aliyun", |n| format!("SMS_{n}"))
    }
}

type Answer = (StatusCode, Json<Value>);
/// A call's query parameters, decoded.
type Params = BTreeMap<String, String>;

fn error(status: StatusCode, code: &str) -> Answer {
    (
        status,
        Json(
            json!({"Code": code, "Message": format!("refused by the suite's Aliyun: {code}"),
                    "RequestId": "FA017500-0000-4000-8000-000000000000"}),
        ),
    )
}

async fn call(
    State(state): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (action, params) = match verify(&state, &method, &uri, &headers, &body) {
        Ok(checked) => checked,
        Err((status, code)) => {
            state.ledger.refuse(code);
            return error(status, code);
        }
    };
    if action == ACTION_QUERY_SEND_DETAILS {
        return query(&state.ledger, &params);
    }
    send(&state.ledger, &params).await
}

async fn send(ledger: &Ledger, params: &BTreeMap<String, String>) -> Answer {
    let param = |name: &str| params.get(name).filter(|v| !v.is_empty());
    let (Some(phone), Some(_sign), Some(template), Some(out_id)) = (
        param("PhoneNumbers"),
        param("SignName"),
        param("TemplateCode"),
        param("OutId"),
    ) else {
        ledger.refuse("send parameters");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    };
    if phone.contains(',') {
        ledger.refuse("more than one number");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    }
    let values = params.get("TemplateParam").map_or("{}", String::as_str);
    if serde_json::from_str::<BTreeMap<String, String>>(values).is_err() {
        ledger.refuse("template param");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_JSON_PARAM");
    }
    let content = format!("{template}:{values}");
    let serial = |n: usize| format!("9006197469364{n:04}^0");
    let (biz_id, fault) = match ledger.send(out_id, phone, &content, serial) {
        Verdict::HangUntaken(delay) => {
            tokio::time::sleep(delay).await;
            return error(StatusCode::OK, "isp.SYSTEM_ERROR");
        }
        // 业务限流: Aliyun's per-number flow control, answered 200 with the code.
        Verdict::Capped(Cap::Day | Cap::SameContent) => {
            return error(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL");
        }
        Verdict::Taken { serial, fault } => (serial, fault),
    };
    match fault {
        // 系统错误 after the SMS went out.
        Fault::TakenButTimedOut => return error(StatusCode::OK, "isp.SYSTEM_ERROR"),
        Fault::TakeThenHang(delay) => tokio::time::sleep(delay).await,
        Fault::None | Fault::HangUntaken(_) => {}
    }
    (
        StatusCode::OK,
        Json(json!({"Code": "OK", "Message": "OK", "BizId": biz_id,
                    "RequestId": "FA017500-0000-4000-8000-000000000001"})),
    )
}

/// One number's sends on one Beijing day (`SendDate`), a page of them (`PageSize` at most
/// 50, `CurrentPage` from 1), newest first, each with its `OutId`.
fn query(ledger: &Ledger, params: &BTreeMap<String, String>) -> Answer {
    ledger.looked_up();
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<usize>().ok());
    let (Some(phone), Some(day), Some(size), Some(page)) = (
        params.get("PhoneNumber"),
        params.get("SendDate"),
        number("PageSize"),
        number("CurrentPage"),
    ) else {
        ledger.refuse("query parameters");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    };
    let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y%m%d") else {
        ledger.refuse("SendDate");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    };
    if !(1..=50).contains(&size) || page == 0 {
        ledger.refuse("page");
        return error(StatusCode::BAD_REQUEST, "isv.INVALID_PARAMETERS");
    }
    let mut sends: Vec<_> = ledger
        .taken_to(phone, i64::MIN..=i64::MAX)
        .into_iter()
        .filter(|t| t.at.with_timezone(&Shanghai).date_naive() == date)
        .collect();
    sends.reverse();
    let listed: Vec<Value> = sends
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|t| {
            let template = t.content.split(':').next().unwrap_or_default();
            json!({"PhoneNum": t.phone, "SendStatus": 3, "ErrCode": "DELIVERED",
                   "TemplateCode": template, "Content": format!("【{SIGN}】…"),
                   "SendDate": t.at.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
                   "ReceiveDate": "", "OutId": t.key})
        })
        .collect();
    (
        StatusCode::OK,
        Json(
            json!({"Code": "OK", "Message": "OK", "TotalCount": sends.len().to_string(),
                    "RequestId": "FA017500-0000-4000-8000-000000000002",
                    "SmsSendDetailDTOs": {"SmsSendDetailDTO": listed}}),
        ),
    )
}

/// The action and parameters of a call whose `Authorization` is the one the suite's key
/// gives, recomputed from what arrived; or the status and code Aliyun refuses it with.
fn verify(
    state: &Shared,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(&'static str, Params), (StatusCode, &'static str)> {
    let bad = StatusCode::BAD_REQUEST;
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if method != Method::POST || uri.path() != "/" || !body.is_empty() {
        return Err((StatusCode::NOT_FOUND, "InvalidAction.NotFound"));
    }
    let action = match get("x-acs-action") {
        Some(ACTION_SEND_SMS) => ACTION_SEND_SMS,
        Some(ACTION_QUERY_SEND_DETAILS) => ACTION_QUERY_SEND_DETAILS,
        _ => return Err((StatusCode::NOT_FOUND, "InvalidAction.NotFound")),
    };
    if get("x-acs-version") != Some(VERSION) {
        return Err((StatusCode::NOT_FOUND, "InvalidVersion"));
    }
    let (Some(host), Some(date), Some(nonce), Some(sha), Some(authorization)) = (
        get("host"),
        get("x-acs-date"),
        get("x-acs-signature-nonce"),
        get("x-acs-content-sha256"),
        get("authorization"),
    ) else {
        return Err((bad, "MissingParameter"));
    };
    if sha != EMPTY_SHA256 {
        return Err((bad, "ContentSHA256NotMatch"));
    }
    let Ok(at) = DateTime::parse_from_str(&format!("{date}+0000"), "%Y-%m-%dT%H:%M:%SZ%z") else {
        return Err((bad, "InvalidTimeStamp.Format"));
    };
    let at = at.to_utc();
    if (Utc::now() - at).num_minutes().abs() > 15 {
        return Err((bad, "InvalidTimeStamp.Expired"));
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let params: BTreeMap<String, String> = pairs.iter().cloned().collect();
    if params.len() != pairs.len() {
        return Err((bad, "isv.INVALID_PARAMETERS"));
    }
    let query: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let expected = Request::rpc(action, host, at, nonce, &query);
    if authorization != expected.authorization(KEY_ID, KEY_SECRET) {
        return Err((bad, "SignatureDoesNotMatch"));
    }
    if !state.nonces.lock().unwrap().insert(nonce.to_owned()) {
        return Err((bad, "SignatureNonceUsed"));
    }
    Ok((action, params))
}
