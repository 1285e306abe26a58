//! A local Tencent Cloud SMS playing `SendSms` and `PullSmsSendStatusByPhoneNumber`
//! (2021-01-11) as the platform does: every call TC3-signed with the suite's key (checked
//! by recomputing the `Authorization` header), one number per send, the send echoing its
//! `SessionContext` (postcall's message id) and listed back by the pull with it. No
//! idempotency key: every send it takes reaches the customer, so its record is the suite's
//! independent count of what customers got. It can be told, per send, to lose the answer.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Json, Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use chrono::{DateTime, Utc};
use postcall::channels::tencent::signature::{ACTION_PULL_STATUS, ACTION_SEND_SMS, Request};
use serde_json::{Value, json};

use crate::provider::{Fault as Seen, Receipt};

pub const SECRET_ID: &str = "AKIDfaultsSuite0000000000000000000000";
pub const SECRET_KEY: &str = "faultsSuiteTencentKey000000000000";
pub const APP_ID: &str = "1400900900";
pub const SIGN: &str = "故障演练";
const REGION: &str = "ap-guangzhou";
/// Callbacks are not part of what this double plays; the setting must still be valid.
const CALLBACK_TOKEN: &str = "faults-reconcile-tencent-token-9Xq4Lm";

/// What the double does with one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Takes it and answers at once.
    None,
    /// Takes it (the customer gets it) and answers only after this long.
    TakeThenHang(Duration),
    /// Holds the request this long without taking it.
    HangUntaken(Duration),
    /// Takes it and answers `InternalError.Timeout`, as Tencent does when its own side
    /// timed out after sending.
    TakenButTimedOut,
}

type Plan = dyn Fn(&str, u32) -> Fault + Send + Sync;

struct Taken {
    context: String,
    phone: String,
    serial: String,
    at: DateTime<Utc>,
}

struct Shared {
    receipts: Mutex<Vec<Receipt>>,
    taken: Mutex<Vec<Taken>>,
    /// Sends per `SessionContext`, this one included.
    attempts: Mutex<std::collections::HashMap<String, u32>>,
    plan: Mutex<Arc<Plan>>,
    pulls: Mutex<usize>,
    refused: Mutex<Vec<String>>,
}

pub struct TencentDouble {
    shared: Arc<Shared>,
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl TencentDouble {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            receipts: Mutex::default(),
            taken: Mutex::default(),
            attempts: Mutex::default(),
            plan: Mutex::new(Arc::new(|_: &str, _: u32| Fault::None)),
            pulls: Mutex::default(),
            refused: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let app = Router::new()
            .route("/", post(call))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            shared,
            url: format!("http://{addr}"),
            server,
        })
    }

    /// Each send is answered as `plan(phone, attempt)` says; `attempt` counts sends of one
    /// message id.
    pub fn plan(&self, plan: impl Fn(&str, u32) -> Fault + Send + Sync + 'static) {
        *self.shared.plan.lock().unwrap() = Arc::new(plan);
    }

    /// Every send, keyed by its `SessionContext`; `accepted()` when the double took it.
    pub fn receipts(&self) -> Vec<Receipt> {
        self.shared.receipts.lock().unwrap().clone()
    }

    pub fn pulls(&self) -> usize {
        *self.shared.pulls.lock().unwrap()
    }

    /// Calls refused before being played (signature, action, shape).
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }

    /// The worker's settings for this platform.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__PROVIDER__KIND", "tencent"),
            ("POSTCALL__PROVIDER__TENCENT__BASE_URL", self.url.as_str()),
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

    /// Approved templates for every message the default survey sends, in both its
    /// languages, as a config file's TOML: the texts are placeholders, what the suite counts
    /// is who got what.
    pub fn templates_toml() -> String {
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
            toml.push_str(&format!("[provider.tencent.templates.\"{language}\"]\n"));
            for (i, name) in NAMES.iter().enumerate() {
                toml.push_str(&format!(
                    "{name} = {{ id = \"{}\", text = \"满意度回访短信第{}条。\", params = [] }}\n",
                    base + i,
                    i + 1
                ));
            }
        }
        toml
    }
}

impl Drop for TencentDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
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

async fn call(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let action = match verify(&headers, &body) {
        Ok(action) => action,
        Err(code) => {
            shared.refused.lock().unwrap().push(code.to_owned());
            return error(code);
        }
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        shared.refused.lock().unwrap().push("json".into());
        return error("FailedOperation.JsonParseFail");
    };
    if request["SmsSdkAppId"] != APP_ID {
        shared.refused.lock().unwrap().push("app".into());
        return error("InvalidParameterValue.SdkAppIdNotExist");
    }
    if action == ACTION_PULL_STATUS {
        return pull(&shared, &request);
    }
    send(&shared, &request).await
}

async fn send(shared: &Shared, request: &Value) -> Json<Value> {
    let (Some([phone]), Some(context)) = (
        request["PhoneNumberSet"].as_array().map(Vec::as_slice),
        request["SessionContext"].as_str(),
    ) else {
        shared.refused.lock().unwrap().push("shape".into());
        return error("InvalidParameter");
    };
    let phone = phone.as_str().unwrap_or_default().to_owned();
    let attempt = {
        let mut attempts = shared.attempts.lock().unwrap();
        let n = attempts.entry(context.to_owned()).or_default();
        *n += 1;
        *n
    };
    let plan = shared.plan.lock().unwrap().clone();
    let fault = plan(&phone, attempt);
    let seen = match fault {
        Fault::HangUntaken(_) => Seen::Hang,
        Fault::TakeThenHang(delay) => Seen::Slow(delay),
        Fault::None | Fault::TakenButTimedOut => Seen::None,
    };
    shared.receipts.lock().unwrap().push(Receipt {
        key: context.to_owned(),
        to: phone.clone(),
        body: request["TemplateId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        at: Instant::now(),
        wall: Utc::now(),
        fault: seen,
        well_formed: true,
    });
    if let Fault::HangUntaken(delay) = fault {
        tokio::time::sleep(delay).await;
        return error("InternalError.Timeout");
    }
    let serial = {
        let mut taken = shared.taken.lock().unwrap();
        let serial = format!("2433:{}", 7_000_000_000u64 + taken.len() as u64);
        taken.push(Taken {
            context: context.to_owned(),
            phone: phone.clone(),
            serial: serial.clone(),
            at: Utc::now(),
        });
        serial
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
fn pull(shared: &Shared, request: &Value) -> Json<Value> {
    *shared.pulls.lock().unwrap() += 1;
    let (Some(phone), Some(begin), Some(end), Some(limit)) = (
        request["PhoneNumber"].as_str(),
        request["BeginTime"].as_i64(),
        request["EndTime"].as_i64(),
        request["Limit"].as_u64(),
    ) else {
        shared.refused.lock().unwrap().push("pull shape".into());
        return error("MissingParameter");
    };
    if request["Offset"] != 0 || !(1..=100).contains(&limit) || begin > end {
        shared.refused.lock().unwrap().push("pull values".into());
        return error("InvalidParameterValue.InvalidStartTime");
    }
    let listed: Vec<Value> = shared
        .taken
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.phone == phone && (begin..=end).contains(&t.at.timestamp()))
        .take(limit as usize)
        .map(|t| {
            json!({"SerialNo": t.serial, "PhoneNumber": t.phone, "CountryCode": "86",
                   "SubscriberNumber": t.phone.trim_start_matches("+86"),
                   "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                   "UserReceiveTime": t.at.timestamp(), "SessionContext": t.context})
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
