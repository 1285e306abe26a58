//! Tencent Cloud SMS played strictly: a local server that recomputes every request's
//! TC3-HMAC-SHA256 signature here, from the secret it was given (hmac and sha2 directly,
//! not postcall's signer), and refuses what Tencent refuses with Tencent's own codes.
//! Sources: 签名方法 v3 <https://cloud.tencent.com/document/api/382/52072>, SendSms
//! <https://cloud.tencent.com/document/api/382/55981>, 错误码
//! <https://cloud.tencent.com/document/api/382/52075>, PullSmsSendStatusByPhoneNumber
//! <https://cloud.tencent.com/document/api/382/55980> (which lists what was taken, with the
//! `SessionContext` it was sent with).
//!
//! It can also lose its answers: take a send and answer too late for the client
//! ([`Fault::TakeThenHang`]), or hold a request without taking it ([`Fault::HangUntaken`]),
//! each for the next send only.
//!
//! It enforces the per-number frequency limits Tencent's console sets (`Limits`), answering
//! the documented `LimitExceeded.*` codes.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::method};

pub const SECRET_ID: &str = "AKIDpcTest7Vq2Lm9Xw4Rt8Yz1Nb6Ck3Pd0";
pub const SECRET_KEY: &str = "pcTestKey4Hx9Wq2Zr7Mv1Lt6Nb3Ks8Jd5";
pub const APP_ID: &str = "1400123456";
pub const SIGN: &str = "小蓝钱包";
pub const TOKEN: &str = "q8Vw3nT6zK1mR5xB9cL2pH7d";

/// How the double answers a well-formed, correctly signed call.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Accept,
    /// Every number refused with this `Code` in `SendStatusSet`.
    RefuseEach(&'static str),
    /// The whole call refused with this `Response.Error.Code`.
    Error(&'static str),
}

/// Per-number frequency limits, as set in Tencent's console (默认频率限制, FAQ
/// <https://www.tencentcloud.com/document/product/382/13303>): a send over one is refused
/// for that number in `SendStatusSet` with the code of 错误码
/// <https://cloud.tencent.com/document/api/382/59177>, and counts nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// SMS per number per natural day (Beijing time): `LimitExceeded.PhoneNumberDailyLimit`.
    pub per_day: Option<usize>,
    /// The same content to one number at most once in this many seconds:
    /// `LimitExceeded.PhoneNumberThirtySecondLimit`.
    pub same_content_seconds: Option<i64>,
    /// The same content per number per natural day:
    /// `LimitExceeded.PhoneNumberSameContentDailyLimit`.
    pub same_content_per_day: Option<usize>,
}

impl Limits {
    /// Tencent's documented default: 2 a day, the same content once in 30 s.
    pub const DEFAULT: Self = Self {
        per_day: Some(2),
        same_content_seconds: Some(30),
        same_content_per_day: None,
    };
}

/// What becomes of the next send's answer.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Taken (it counts as sent) and answered only after this long.
    TakeThenHang(std::time::Duration),
    /// Not taken, and answered (a refusal) only after this long.
    HangUntaken(std::time::Duration),
}

/// A call the double took, and what it rendered for the customer when it knew the template.
#[derive(Debug, Clone)]
pub struct Sent {
    pub body: Value,
    pub rendered: Option<String>,
    pub serial_no: Option<String>,
    /// Unix seconds, when it was taken.
    pub at: i64,
}

/// One SMS a number was sent: when, and its content.
type Delivered = (DateTime<Utc>, String);

#[derive(Clone)]
struct Player {
    mode: Arc<Mutex<Mode>>,
    /// Approved templates: id → text with `{1}`, `{2}` …
    templates: Arc<HashMap<String, String>>,
    sent: Arc<Mutex<Vec<Sent>>>,
    refusals: Arc<Mutex<Vec<String>>>,
    serial: Arc<AtomicU64>,
    limits: Arc<Mutex<Limits>>,
    /// What each number was sent (when, the content), and the caps it met (codes).
    delivered: Arc<Mutex<HashMap<String, Vec<Delivered>>>>,
    capped: Arc<Mutex<Vec<String>>>,
    faults: Arc<Mutex<std::collections::VecDeque<Fault>>>,
    /// How lookups are answered: `None` lists what was taken, `Some(code)` refuses.
    pull_error: Arc<Mutex<Option<&'static str>>>,
    pulls: Arc<AtomicU64>,
}

pub struct Double {
    pub server: MockServer,
    player: Player,
}

impl Double {
    pub async fn start(mode: Mode, templates: HashMap<String, String>) -> Self {
        let server = MockServer::start().await;
        let player = Player {
            mode: Arc::new(Mutex::new(mode)),
            templates: Arc::new(templates),
            sent: Arc::default(),
            refusals: Arc::default(),
            serial: Arc::new(AtomicU64::new(1)),
            limits: Arc::default(),
            delivered: Arc::default(),
            capped: Arc::default(),
            faults: Arc::default(),
            pull_error: Arc::default(),
            pulls: Arc::default(),
        };
        Mock::given(method("POST"))
            .respond_with(player.clone())
            .mount(&server)
            .await;
        Self { server, player }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.player.mode.lock().unwrap() = mode;
    }

    pub fn set_limits(&self, limits: Limits) {
        *self.player.limits.lock().unwrap() = limits;
    }

    /// The cap codes numbers were refused with, in order.
    pub fn capped(&self) -> Vec<String> {
        self.player.capped.lock().unwrap().clone()
    }

    /// The next sends' answers go wrong this way, one fault each, in order.
    pub fn fail_next(&self, fault: Fault) {
        self.player.faults.lock().unwrap().push_back(fault);
    }

    /// Lookups are refused with `code` (`None`: answered).
    pub fn refuse_pulls(&self, code: Option<&'static str>) {
        *self.player.pull_error.lock().unwrap() = code;
    }

    /// Lookups that passed the checks (signature, shape), answered or refused.
    pub fn pulls(&self) -> u64 {
        self.player.pulls.load(Ordering::Relaxed)
    }

    /// Calls that passed every check, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.player.sent.lock().unwrap().clone()
    }

    /// The codes of calls refused before the mode applied (signature, shape).
    pub fn refusals(&self) -> Vec<String> {
        self.player.refusals.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.sent().len() + self.refusals().len()
    }

    /// Waits until `n` calls were taken (or 15 s passed) and returns how many were.
    pub async fn wait_for_sent(&self, n: usize) -> usize {
        for _ in 0..300 {
            if self.sent().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.sent().len()
    }
}

impl Respond for Player {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let request_id = format!("req-{}", self.serial.fetch_add(1, Ordering::Relaxed));
        let checked = verify(request).and_then(|(action, body)| match action {
            Action::Send => self.check_body(body).map(|b| (action, b)),
            Action::Pull => check_pull(body).map(|b| (action, b)),
        });
        let body = match checked {
            Ok((Action::Send, body)) => body,
            Ok((Action::Pull, body)) => return self.pull(&body, &request_id),
            Err((code, message)) => {
                self.refusals.lock().unwrap().push(code.to_owned());
                return error(code, &message, &request_id);
            }
        };
        let fault = self.faults.lock().unwrap().pop_front();
        if let Some(Fault::HangUntaken(delay)) = fault {
            return error("InternalError.Timeout", "held, never taken", &request_id)
                .set_delay(delay);
        }
        let mode = *self.mode.lock().unwrap();
        if let Mode::Error(code) = mode {
            return error(code, "refused by the double's mode", &request_id);
        }
        let rendered = self.render(&body);
        let context = body["SessionContext"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut statuses = Vec::new();
        let mut serial_no = None;
        let content = rendered
            .clone()
            .unwrap_or_else(|| format!("{}:{}", body["TemplateId"], body["TemplateParamSet"]));
        let mut accepted = false;
        for phone in body["PhoneNumberSet"].as_array().unwrap() {
            let cap = match mode {
                Mode::Accept => self.over_limit(phone.as_str().unwrap_or_default(), &content),
                _ => None,
            };
            let status = match (mode, cap) {
                (Mode::Accept, Some(code)) => {
                    self.capped.lock().unwrap().push(code.to_owned());
                    json!({"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": "",
                           "Code": code, "Message": limit_message(code), "IsoCode": "CN"})
                }
                (Mode::Accept, None) => {
                    accepted = true;
                    let serial = format!(
                        "2433:{}",
                        1_000_000_000u64 + self.serial.fetch_add(1, Ordering::Relaxed)
                    );
                    serial_no = Some(serial.clone());
                    json!({"SerialNo": serial, "PhoneNumber": phone, "Fee": fee(rendered.as_deref()),
                           "SessionContext": context, "Code": "Ok", "Message": "send success",
                           "IsoCode": "CN"})
                }
                (Mode::RefuseEach(code), _) => {
                    json!({"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": "",
                           "Code": code, "Message": "refused by the double's mode", "IsoCode": ""})
                }
                (Mode::Error(_), _) => unreachable!(),
            };
            statuses.push(status);
        }
        if accepted {
            self.sent.lock().unwrap().push(Sent {
                body,
                rendered,
                serial_no,
                at: Utc::now().timestamp(),
            });
        }
        let answer = ResponseTemplate::new(200).set_body_json(
            json!({"Response": {"SendStatusSet": statuses, "RequestId": request_id}}),
        );
        match fault {
            Some(Fault::TakeThenHang(delay)) => answer.set_delay(delay),
            _ => answer,
        }
    }
}

/// Which of the two calls the double plays.
#[derive(Debug, Clone, Copy)]
enum Action {
    Send,
    Pull,
}

/// `PullSmsSendStatusByPhoneNumber`'s parameters as the document states them.
fn check_pull(body: Value) -> Result<Value, (&'static str, String)> {
    if body["SmsSdkAppId"] != APP_ID {
        return Err(("InvalidParameterValue.SdkAppIdNotExist", String::new()));
    }
    if !body["PhoneNumber"]
        .as_str()
        .is_some_and(|p| p.starts_with('+'))
    {
        return Err(("InvalidParameterValue.IncorrectPhoneNumber", String::new()));
    }
    if body["Offset"] != 0
        || !body["Limit"]
            .as_u64()
            .is_some_and(|l| (1..=100).contains(&l))
    {
        return Err(("InvalidParameter", "Offset/Limit".into()));
    }
    let (Some(begin), Some(end)) = (body["BeginTime"].as_i64(), body["EndTime"].as_i64()) else {
        return Err(("MissingParameter", "BeginTime/EndTime".into()));
    };
    if begin > end {
        return Err(("InvalidParameterValue.InvalidStartTime", String::new()));
    }
    if Utc::now().timestamp() - begin > 7 * 86_400 {
        return Err(("InvalidParameterValue.BeginTimeVerifyFail", String::new()));
    }
    Ok(body)
}

impl Player {
    /// The number's sends taken between `BeginTime` and `EndTime`, with the `SessionContext`
    /// each was sent with.
    fn pull(&self, body: &Value, request_id: &str) -> ResponseTemplate {
        self.pulls.fetch_add(1, Ordering::Relaxed);
        if let Some(code) = *self.pull_error.lock().unwrap() {
            return error(code, "refused by the double's pull mode", request_id);
        }
        let phone = body["PhoneNumber"].as_str().unwrap();
        let (begin, end) = (
            body["BeginTime"].as_i64().unwrap(),
            body["EndTime"].as_i64().unwrap(),
        );
        let limit = body["Limit"].as_u64().unwrap() as usize;
        let listed: Vec<Value> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| (begin..=end).contains(&s.at))
            .filter(|s| {
                s.body["PhoneNumberSet"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p == phone)
            })
            .take(limit)
            .map(|s| {
                json!({"UserReceiveTime": s.at, "CountryCode": "86",
                       "SubscriberNumber": &phone[3..], "PhoneNumber": phone,
                       "SerialNo": s.serial_no, "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                       "SessionContext": s.body["SessionContext"]})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"Response": {"PullSmsSendStatusSet": listed, "RequestId": request_id}}),
        )
    }
}

impl Player {
    /// The code of the limit a send of `content` to `phone` now would break, or none, in
    /// which case it is counted (under the one lock: concurrent calls count in turn).
    fn over_limit(&self, phone: &str, content: &str) -> Option<&'static str> {
        let limits = *self.limits.lock().unwrap();
        let now = Utc::now();
        let beijing = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let mut delivered = self.delivered.lock().unwrap();
        let made = delivered.entry(phone.to_owned()).or_default();
        let today: Vec<&Delivered> = made
            .iter()
            .filter(|(t, _)| beijing(*t) == beijing(now))
            .collect();
        let same_today = today.iter().filter(|(_, c)| c == content).count();
        let code = if limits.same_content_seconds.is_some_and(|s| {
            made.iter()
                .any(|(t, c)| c == content && (now - *t).num_seconds() < s)
        }) {
            Some("LimitExceeded.PhoneNumberThirtySecondLimit")
        } else if limits.same_content_per_day.is_some_and(|n| same_today >= n) {
            Some("LimitExceeded.PhoneNumberSameContentDailyLimit")
        } else if limits.per_day.is_some_and(|n| today.len() >= n) {
            Some("LimitExceeded.PhoneNumberDailyLimit")
        } else {
            None
        };
        if code.is_none() {
            made.push((now, content.to_owned()));
        }
        code
    }

    fn check_body(&self, body: Value) -> Result<Value, (&'static str, String)> {
        let phones = body["PhoneNumberSet"]
            .as_array()
            .filter(|p| !p.is_empty() && p.len() <= 200)
            .ok_or(("MissingParameter.EmptyPhoneNumberSet", String::new()))?;
        if !phones
            .iter()
            .all(|p| p.as_str().is_some_and(|p| p.starts_with('+')))
        {
            return Err(("InvalidParameterValue.IncorrectPhoneNumber", String::new()));
        }
        if body["SmsSdkAppId"] != APP_ID {
            return Err(("InvalidParameterValue.SdkAppIdNotExist", String::new()));
        }
        if body["SignName"] != SIGN {
            return Err((
                "FailedOperation.SignatureIncorrectOrUnapproved",
                String::new(),
            ));
        }
        let Some(id) = body["TemplateId"].as_str().filter(|id| !id.is_empty()) else {
            return Err(("MissingParameter", "TemplateId".into()));
        };
        let params = body["TemplateParamSet"]
            .as_array()
            .filter(|p| p.iter().all(Value::is_string))
            .ok_or(("InvalidParameter", "TemplateParamSet".into()))?;
        if let Some(text) = self.templates.get(id) {
            if text.matches('{').count() != params.len() {
                return Err((
                    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                    String::new(),
                ));
            }
        } else if !self.templates.is_empty() {
            return Err(("FailedOperation.TemplateIncorrectOrUnapproved", id.into()));
        }
        Ok(body)
    }

    /// 【sign】 + the approved text with its values, as the customer's phone shows it.
    fn render(&self, body: &Value) -> Option<String> {
        let mut text = self.templates.get(body["TemplateId"].as_str()?)?.clone();
        for (i, value) in body["TemplateParamSet"].as_array()?.iter().enumerate() {
            text = text.replace(&format!("{{{}}}", i + 1), value.as_str()?);
        }
        Some(format!("【{SIGN}】{text}"))
    }
}

/// The documented description of each limit's code (错误码).
fn limit_message(code: &str) -> &'static str {
    match code {
        "LimitExceeded.PhoneNumberDailyLimit" => {
            "单个手机号日下发短信条数超过设定的上限，可自行到控制台调整短信频率限制策略。"
        }
        "LimitExceeded.PhoneNumberThirtySecondLimit" => {
            "单个手机号30秒内下发短信条数超过设定的上限，可自行到控制台调整短信频率限制策略。"
        }
        _ => "单个手机号下发相同内容超过设定的上限，可自行到控制台调整短信频率限制策略。",
    }
}

/// Mainland billing: up to 70 characters is one SMS, longer ones 67 a part.
fn fee(rendered: Option<&str>) -> u32 {
    let chars = rendered.map_or(1, |r| r.chars().count()) as u32;
    if chars <= 70 { 1 } else { chars.div_ceil(67) }
}

fn error(code: &str, message: &str, request_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"Response": {
        "Error": {"Code": code, "Message": message}, "RequestId": request_id
    }}))
}

fn header<'a>(request: &'a Request, name: &str) -> Result<&'a str, (&'static str, String)> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or(("MissingParameter", name.to_owned()))
}

/// The API 3.0 checks, in Tencent's order: action, version, region, timestamp, credential,
/// signature; then the body as JSON.
fn verify(request: &Request) -> Result<(Action, Value), (&'static str, String)> {
    if request.url.path() != "/" {
        return Err(("InvalidAction", request.url.path().to_owned()));
    }
    let action = match header(request, "x-tc-action")? {
        "SendSms" => Action::Send,
        "PullSmsSendStatusByPhoneNumber" => Action::Pull,
        _ => return Err(("InvalidAction", String::new())),
    };
    if header(request, "x-tc-version")? != "2021-01-11" {
        return Err(("NoSuchVersion", String::new()));
    }
    if header(request, "x-tc-region")?.is_empty() {
        return Err(("UnsupportedRegion", String::new()));
    }
    let timestamp: i64 = header(request, "x-tc-timestamp")?
        .parse()
        .map_err(|_| ("InvalidParameter", "X-TC-Timestamp".to_owned()))?;
    if (Utc::now().timestamp() - timestamp).abs() > 300 {
        return Err(("AuthFailure.SignatureExpire", String::new()));
    }
    let authorization = header(request, "authorization")?;
    let rest = authorization
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or(("AuthFailure.InvalidAuthorization", String::new()))?;
    let mut parts = HashMap::new();
    for part in rest.split(", ") {
        let (k, v) = part
            .split_once('=')
            .ok_or(("AuthFailure.InvalidAuthorization", part.to_owned()))?;
        parts.insert(k, v);
    }
    let field = |k: &str| {
        parts
            .get(k)
            .copied()
            .ok_or(("AuthFailure.InvalidAuthorization", k.to_owned()))
    };
    let credential: Vec<&str> = field("Credential")?.split('/').collect();
    let [id, date, service, "tc3_request"] = credential[..] else {
        return Err(("AuthFailure.InvalidAuthorization", "Credential".into()));
    };
    if id != SECRET_ID {
        return Err(("AuthFailure.SecretIdNotFound", String::new()));
    }
    let signed_headers = field("SignedHeaders")?;
    let expected = expected_signature(request, timestamp, date, service, signed_headers)?;
    let day = DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    if service != "sms" || date != day || field("Signature")? != expected {
        return Err(("AuthFailure.SignatureFailure", String::new()));
    }
    serde_json::from_slice(&request.body)
        .map(|body| (action, body))
        .map_err(|_| ("FailedOperation.JsonParseFail", String::new()))
}

/// Recomputed from the headers as they arrived: a `Host` or `Content-Type` that differs
/// from the one signed fails here, as it does at Tencent.
fn expected_signature(
    request: &Request,
    timestamp: i64,
    date: &str,
    service: &str,
    signed_headers: &str,
) -> Result<String, (&'static str, String)> {
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = header(request, name)?.trim().to_lowercase();
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    for required in ["content-type", "host"] {
        if !signed_headers.split(';').any(|h| h == required) {
            return Err(("AuthFailure.SignatureFailure", required.into()));
        }
    }
    let query = request.url.query().unwrap_or_default();
    let canonical = format!(
        "POST\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&Sha256::digest(&request.body))
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = [date, service, "tc3_request"]
        .iter()
        .fold(format!("TC3{SECRET_KEY}").into_bytes(), |key, part| {
            mac(&key, part.as_bytes())
        });
    Ok(hex(&mac(&key, to_sign.as_bytes())))
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `[provider.tencent]` for a sender at `uri`, as TOML (the test builds a `Tencent` from it).
pub fn settings_toml(uri: &str, secret_key: &str) -> String {
    format!(
        r#"
        base_url = "{uri}"
        secret_id = "{SECRET_ID}"
        secret_key = "{secret_key}"
        region = "ap-guangzhou"
        sms_sdk_app_id = "{APP_ID}"
        sign_name = "{SIGN}"
        callback_token = "{TOKEN}"
        "#
    )
}
