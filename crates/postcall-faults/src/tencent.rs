//! A local Tencent Cloud SMS playing `SendSms` and `PullSmsSendStatusByPhoneNumber`
//! (2021-01-11) as the platform does: every call TC3-signed with the suite's key (checked
//! by recomputing the `Authorization` header), one number per send, the send echoing its
//! `SessionContext` (postcall's message id) and listed back by the pull with it. No
//! idempotency key: every send it takes reaches the customer, so its record is the suite's
//! independent count of what customers got. It can be told, per send, to lose the answer,
//! and to enforce Tencent's per-number limits with its `LimitExceeded.*` codes (the
//! [`Ledger`] does both). It also passes customers' replies on to a worker, as Tencent's
//! 上行回复 callback does.

use std::sync::Arc;

use axum::{Json, Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use chrono::{DateTime, Utc};
use postcall::channels::tencent::signature::{ACTION_PULL_STATUS, ACTION_SEND_SMS, Request};
use serde_json::{Value, json};

use crate::ledger::{Cap, Double, Fault, Ledger, Reply, Verdict};

pub const SECRET_ID: &str = "AKIDfaultsSuite0000000000000000000000";
pub const SECRET_KEY: &str = "faultsSuiteTencentKey000000000000";
pub const APP_ID: &str = "1400900900";
pub const SIGN: &str = "故障演练";
const REGION: &str = "ap-guangzhou";
/// The path token of the worker's Tencent callback routes.
const CALLBACK_TOKEN: &str = "faults-reconcile-tencent-token-9Xq4Lm";

pub struct TencentDouble {
    double: Double,
}

impl TencentDouble {
    pub async fn start() -> anyhow::Result<Self> {
        let double =
            Double::serve(|ledger| Router::new().route("/", post(call)).with_state(ledger)).await?;
        Ok(Self { double })
    }

    /// Its record, fault plan and limits.
    pub fn ledger(&self) -> &Ledger {
        self.double.ledger()
    }

    /// The customer on `phone` texts `text` back: Tencent's reply callback, one reply each.
    pub fn reply(phone: &str, text: &str) -> Reply {
        Reply {
            path: format!("/webhooks/tencent/{CALLBACK_TOKEN}/inbound"),
            body: json!({"extend": "", "mobile": phone.trim_start_matches("+86"),
                "nationcode": "86", "sign": SIGN, "text": text, "time": Utc::now().timestamp()}),
        }
    }

    /// The worker's settings for this platform.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__PROVIDER__KIND", "tencent"),
            (
                "POSTCALL__PROVIDER__TENCENT__BASE_URL",
                self.double.url.as_str(),
            ),
            ("POSTCALL__PROVIDER__TENCENT__SECRET_ID", SECRET_ID),
            ("POSTCALL__PROVIDER__TENCENT__SECRET_KEY", SECRET_KEY),
            ("POSTCALL__PROVIDER__TENCENT__REGION", REGION),
            ("POSTCALL__PROVIDER__TENCENT__SMS_SDK_APP_ID", APP_ID),
            ("POSTCALL__PROVIDER__TENCENT__SIGN_NAME", SIGN),
            (
                "POSTCALL__PROVIDER__TENCENT__CALLBACK_TOKEN",
                CALLBACK_TOKEN,
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Approved templates for every message the default survey sends, as a config file's
    /// TOML ([`templates_toml`]), ids `5000`… in zh-CN, `6000`… in en.
    pub fn templates_toml() -> String {
        templates_toml("tencent", |n| n.to_string())
    }
}

/// Approved templates for every message the default survey sends, in both its languages,
/// as a config file's TOML for the channel `kind`, numbered `id(5000…)` in zh-CN and
/// `id(6000…)` in en: the texts are placeholders, what the suite counts is who got what.
pub fn templates_toml(kind: &str, id: impl Fn(usize) -> String) -> String {
    const NAMES: [&str; 12] = [
        "first",
        "question_satisfaction",
        "question_recommend",
        "question_comment",
        "reprompt_resolved",
        "reprompt_satisfaction",
        "reprompt_recommend",
        "reprompt_comment",
        "thank_you",
        "opted_out",
        "opted_in",
        "help",
    ];
    let mut toml = String::new();
    for (language, base) in [("zh-CN", 5000), ("en", 6000)] {
        toml.push_str(&format!("[provider.{kind}.templates.\"{language}\"]\n"));
        for (i, name) in NAMES.iter().enumerate() {
            toml.push_str(&format!(
                "{name} = {{ id = \"{}\", text = \"满意度回访短信第{}条。\", params = [] }}\n",
                id(base + i),
                i + 1
            ));
        }
    }
    toml
}

fn answer(request_id: &str, body: Value) -> Json<Value> {
    let mut response = body;
    response["RequestId"] = json!(request_id);
    Json(json!({ "Response": response }))
}

fn error(code: &str) -> Json<Value> {
    answer(
        "faults",
        json!({"Error": {"Code": code, "Message": "refused by the suite's Tencent"}}),
    )
}

async fn call(State(ledger): State<Arc<Ledger>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let action = match verify(&headers, &body) {
        Ok(action) => action,
        Err(code) => {
            ledger.refuse(code);
            return error(code);
        }
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        ledger.refuse("json");
        return error("FailedOperation.JsonParseFail");
    };
    if request["SmsSdkAppId"] != APP_ID {
        ledger.refuse("app");
        return error("InvalidParameterValue.SdkAppIdNotExist");
    }
    if action == ACTION_PULL_STATUS {
        return pull(&ledger, &request);
    }
    send(&ledger, &request).await
}

async fn send(ledger: &Ledger, request: &Value) -> Json<Value> {
    let (Some([phone]), Some(context)) = (
        request["PhoneNumberSet"].as_array().map(Vec::as_slice),
        request["SessionContext"].as_str(),
    ) else {
        ledger.refuse("shape");
        return error("InvalidParameter");
    };
    let phone = phone.as_str().unwrap_or_default();
    // What the customer reads: the template and its values.
    let content = format!(
        "{}:{}",
        request["TemplateId"].as_str().unwrap_or_default(),
        request["TemplateParamSet"]
    );
    let serial = |n: usize| format!("2433:{}", 7_000_000_000u64 + n as u64);
    let (serial, fault) = match ledger.send(context, phone, &content, serial) {
        Verdict::HangUntaken(delay) => {
            tokio::time::sleep(delay).await;
            return error("InternalError.Timeout");
        }
        // Tencent refuses a number over a limit inside SendStatusSet, with the code of its
        // 错误码 page, and takes nothing.
        Verdict::Capped(cap) => {
            let code = match cap {
                Cap::Day => "LimitExceeded.PhoneNumberDailyLimit",
                Cap::SameContent => "LimitExceeded.PhoneNumberThirtySecondLimit",
            };
            return answer(
                "faults",
                json!({"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0,
                    "SessionContext": "", "Code": code, "Message": "over the limit",
                    "IsoCode": "CN"}]}),
            );
        }
        Verdict::Taken { serial, fault } => (serial, fault),
    };
    match fault {
        Fault::TakenButTimedOut => return error("InternalError.Timeout"),
        Fault::TakeThenHang(delay) => tokio::time::sleep(delay).await,
        Fault::None | Fault::HangUntaken(_) => {}
    }
    answer(
        "faults",
        json!({"SendStatusSet": [{"SerialNo": serial, "PhoneNumber": phone, "Fee": 1,
            "SessionContext": context, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}]}),
    )
}

/// The number's sends taken between `BeginTime` and `EndTime`, at most `Limit`.
fn pull(ledger: &Ledger, request: &Value) -> Json<Value> {
    ledger.looked_up();
    let (Some(phone), Some(begin), Some(end), Some(limit)) = (
        request["PhoneNumber"].as_str(),
        request["BeginTime"].as_i64(),
        request["EndTime"].as_i64(),
        request["Limit"].as_u64(),
    ) else {
        ledger.refuse("pull shape");
        return error("MissingParameter");
    };
    if request["Offset"] != 0 || !(1..=100).contains(&limit) || begin > end {
        ledger.refuse("pull values");
        return error("InvalidParameterValue.InvalidStartTime");
    }
    let listed: Vec<Value> = ledger
        .taken_to(phone, begin..=end)
        .iter()
        .take(limit as usize)
        .map(|t| {
            json!({"SerialNo": t.serial, "PhoneNumber": t.phone, "CountryCode": "86",
                   "SubscriberNumber": t.phone.trim_start_matches("+86"),
                   "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                   "UserReceiveTime": t.at.timestamp(), "SessionContext": t.key})
        })
        .collect();
    answer("faults", json!({"PullSmsSendStatusSet": listed}))
}

/// The action of a call whose `Authorization` is the one the suite's key gives, recomputed
/// from what arrived; or the code Tencent refuses it with.
fn verify(headers: &HeaderMap, body: &[u8]) -> Result<&'static str, &'static str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let action = match get("x-tc-action") {
        Some(ACTION_SEND_SMS) => ACTION_SEND_SMS,
        Some(ACTION_PULL_STATUS) => ACTION_PULL_STATUS,
        _ => return Err("InvalidAction"),
    };
    let (Some(host), Some(content_type), Some(timestamp), Some(region), Some(authorization)) = (
        get("host"),
        get("content-type"),
        get("x-tc-timestamp").and_then(|t| t.parse::<i64>().ok()),
        get("x-tc-region"),
        get("authorization"),
    ) else {
        return Err("MissingParameter");
    };
    let Some(time) = DateTime::from_timestamp(timestamp, 0) else {
        return Err("InvalidParameter");
    };
    if (Utc::now() - time).num_seconds().abs() > 300 {
        return Err("AuthFailure.SignatureExpire");
    }
    let mut expected = Request::sms(action, host, region, time, body);
    expected.content_type = content_type;
    if authorization != expected.authorization(SECRET_ID, SECRET_KEY) {
        return Err("AuthFailure.SignatureFailure");
    }
    Ok(action)
}
