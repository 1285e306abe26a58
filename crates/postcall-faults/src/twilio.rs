//! A local Twilio playing the Messages resource (2010-04-01) as the platform does: HTTP
//! Basic with the account SID and auth token, the account's own path, a form with `To` in
//! E.164, the account's `From` number, a `Body` of at most 1,600 characters and an absolute
//! `StatusCallback` if any; created messages listed back by `GET …/Messages.json` filtered by
//! `To` and `From`, newest first, `PageSize` a page with a `next_page_uri`
//! (<https://www.twilio.com/docs/messaging/api/message-resource>). No idempotency key and
//! nothing of postcall's echoed: a lookup can only match the body. Its [`Ledger`] is the
//! suite's count of what customers got, and can lose answers.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method, StatusCode},
    routing::any,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::ledger::{Double, Fault, Ledger, Taken, Verdict};

pub const ACCOUNT_SID: &str = "ACfa017500fa017500fa017500fa017500";
pub const AUTH_TOKEN: &str = "fa017500suitetoken0000000000beef";
pub const FROM: &str = "+15005550006";

pub struct TwilioDouble {
    double: Double,
}

impl TwilioDouble {
    pub async fn start() -> anyhow::Result<Self> {
        let double =
            Double::serve(|ledger| Router::new().fallback(any(messages)).with_state(ledger))
                .await?;
        Ok(Self { double })
    }

    pub fn ledger(&self) -> &Ledger {
        self.double.ledger()
    }

    /// The worker's settings for this platform.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__PROVIDER__KIND", "twilio"),
            (
                "POSTCALL__PROVIDER__TWILIO__BASE_URL",
                self.double.url.as_str(),
            ),
            ("POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID", ACCOUNT_SID),
            ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", AUTH_TOKEN),
            ("POSTCALL__PROVIDER__TWILIO__FROM", FROM),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

type Answer = (StatusCode, Json<Value>);

fn error(status: StatusCode, code: i64, message: &str) -> Answer {
    (
        status,
        Json(
            json!({"code": code, "message": message, "status": status.as_u16(),
                    "more_info": format!("https://www.twilio.com/docs/errors/{code}")}),
        ),
    )
}

fn path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
}

async fn messages(
    State(ledger): State<Arc<Ledger>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        ledger.refuse("auth");
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    if uri.path() != path() {
        ledger.refuse("path");
        return error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    }
    match method {
        Method::GET => {
            let query: BTreeMap<String, String> =
                form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            list(&ledger, &query)
        }
        Method::POST => {
            let form_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
            if !form_type {
                ledger.refuse("content type");
                return error(StatusCode::BAD_REQUEST, 20001, "Unsupported content type");
            }
            let form: BTreeMap<String, String> =
                form_urlencoded::parse(&body).into_owned().collect();
            create(&ledger, &form).await
        }
        _ => {
            ledger.refuse("method");
            error(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
        }
    }
}

async fn create(ledger: &Ledger, form: &BTreeMap<String, String>) -> Answer {
    let e164 = |s: &str| {
        s.strip_prefix('+')
            .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let Some(to) = form.get("To").filter(|to| e164(to)) else {
        ledger.refuse("To");
        return error(StatusCode::BAD_REQUEST, 21211, "Invalid 'To' Phone Number");
    };
    if form.get("From").map(String::as_str) != Some(FROM) {
        ledger.refuse("From");
        return error(
            StatusCode::BAD_REQUEST,
            21606,
            "The 'From' phone number provided is not a valid message-capable Twilio phone number",
        );
    }
    let Some(text) = form
        .get("Body")
        .filter(|b| !b.is_empty() && b.chars().count() <= 1600)
    else {
        ledger.refuse("Body");
        return error(StatusCode::BAD_REQUEST, 21602, "Message body is required");
    };
    if form
        .get("StatusCallback")
        .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        ledger.refuse("StatusCallback");
        return error(StatusCode::BAD_REQUEST, 21609, "Invalid StatusCallback");
    }
    // Twilio echoes nothing of postcall's: the ledger keys a send by number and body.
    let key = format!("{to}\n{text}");
    let sid = |n: usize| format!("SM{:032x}", n + 1);
    let (sid, fault) = match ledger.send(&key, to, text, sid) {
        Verdict::HangUntaken(delay) => {
            tokio::time::sleep(delay).await;
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                20503,
                "Service Unavailable",
            );
        }
        Verdict::Capped(_) => {
            return error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
        }
        Verdict::Taken { serial, fault } => (serial, fault),
    };
    match fault {
        Fault::TakenButTimedOut => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            );
        }
        Fault::TakeThenHang(delay) => tokio::time::sleep(delay).await,
        Fault::None | Fault::HangUntaken(_) => {}
    }
    let taken = ledger
        .taken_to(to, i64::MIN..=i64::MAX)
        .into_iter()
        .find(|t| t.serial == sid)
        .expect("a message just taken");
    (StatusCode::CREATED, Json(resource(&taken)))
}

fn resource(m: &Taken) -> Value {
    json!({"account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": m.content,
           "date_created": m.at.to_rfc2822(), "date_sent": null, "date_updated": m.at.to_rfc2822(),
           "direction": "outbound-api", "error_code": null, "error_message": null,
           "from": FROM, "messaging_service_sid": null, "num_media": "0", "num_segments": "1",
           "price": null, "price_unit": "USD", "sid": m.serial, "status": "queued", "to": m.phone,
           "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{}.json", m.serial)})
}

/// Newest first, filtered by `To` (required here: postcall always names the number) and
/// `From`, `PageSize` (1 to 1,000) at a time from `Page`.
fn list(ledger: &Ledger, query: &BTreeMap<String, String>) -> Answer {
    ledger.looked_up();
    let Some(to) = query.get("To") else {
        ledger.refuse("list without To");
        return error(StatusCode::BAD_REQUEST, 20001, "To is required here");
    };
    let number = |name: &str, default: usize| {
        query
            .get(name)
            .map_or(Some(default), |s| s.parse::<usize>().ok())
    };
    let (Some(size), Some(page)) = (number("PageSize", 50), number("Page", 0)) else {
        ledger.refuse("list paging");
        return error(StatusCode::BAD_REQUEST, 20001, "Invalid paging");
    };
    if !(1..=1000).contains(&size) {
        ledger.refuse("PageSize");
        return error(StatusCode::BAD_REQUEST, 20001, "Invalid PageSize");
    }
    let mut matching = ledger.taken_to(to, i64::MIN..=i64::MAX);
    if query.get("From").is_some_and(|from| from != FROM) {
        matching.clear();
    }
    matching.reverse();
    let messages: Vec<Value> = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(resource)
        .collect();
    let mut next_query = query.clone();
    next_query.insert("Page".into(), (page + 1).to_string());
    let next = ((page + 1) * size < matching.len()).then(|| {
        format!(
            "{}?{}",
            path(),
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&next_query)
                .finish()
        )
    });
    (
        StatusCode::OK,
        Json(
            json!({"messages": messages, "next_page_uri": next, "page": page,
                    "page_size": size, "first_page_uri": path(), "previous_page_uri": null,
                    "uri": path(), "start": page * size, "end": page * size + messages.len()}),
        ),
    )
}
