//! A local server playing Twilio's Messages resource strictly: HTTP Basic with the account
//! SID and auth token, the account's own path, a form with `To`, `From` or
//! `MessagingServiceSid`, `Body`; created messages are kept and listed back by
//! `GET …/Messages.json` (filtered by `To` and `From`, newest first, `PageSize` a page, a
//! `next_page_uri` to the next) as Twilio documents them:
//! <https://www.twilio.com/docs/messaging/api/message-resource>.
//!
//! It can lose a send's answer: take it and answer too late ([`Fault::TakeThenHang`]), or
//! hold it untaken ([`Fault::HangUntaken`]); and refuse the list ([`TwilioDouble::refuse_lists`]).

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method, StatusCode},
    routing::any,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{helpers::serve, provider_double::twilio_env};

/// As `provider_double::twilio_env` configures the worker.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef";
pub const AUTH_TOKEN: &str = "7d29eb4aefd49dec04f9b6c572366fa2";

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    TakeThenHang(Duration),
    HangUntaken(Duration),
}

/// A message the double created.
#[derive(Debug, Clone)]
pub struct Created {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Default)]
struct Shared {
    created: Arc<Mutex<Vec<Created>>>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    list_refusal: Arc<Mutex<bool>>,
    lists: Arc<Mutex<usize>>,
    refused: Arc<Mutex<Vec<String>>>,
}

pub struct TwilioDouble {
    pub url: String,
    shared: Shared,
}

impl TwilioDouble {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .fallback(any(messages))
            .with_state(shared.clone());
        Self {
            url: serve(app).await,
            shared,
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        twilio_env(&self.url)
    }

    pub fn fail_next(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// The list answers 403 (Twilio's 20003, "Permission Denied") from now on.
    pub fn refuse_lists(&self) {
        *self.shared.list_refusal.lock().unwrap() = true;
    }

    pub fn created(&self) -> Vec<Created> {
        self.shared.created.lock().unwrap().clone()
    }

    pub fn lists(&self) -> usize {
        *self.shared.lists.lock().unwrap()
    }

    /// Why requests were refused before being played (auth, path, form).
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }
}

type Answer = (StatusCode, Json<Value>);

fn twilio_error(status: StatusCode, code: i64, message: &str) -> Answer {
    (
        status,
        Json(json!({"code": code, "message": message, "more_info":
            format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16()})),
    )
}

async fn messages(
    State(shared): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let refuse = |why: &str, answer: Answer| {
        shared.refused.lock().unwrap().push(why.to_owned());
        answer
    };
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse(
            "auth",
            twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate"),
        );
    }
    if uri.path() != format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json") {
        return refuse(
            "path",
            twilio_error(
                StatusCode::NOT_FOUND,
                20404,
                "The requested resource was not found",
            ),
        );
    }
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    match method {
        Method::GET => list(&shared, &query),
        Method::POST => create(&shared, &body).await,
        _ => refuse(
            "method",
            twilio_error(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed"),
        ),
    }
}

async fn create(shared: &Shared, body: &[u8]) -> Answer {
    let form: BTreeMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let (Some(to), Some(text)) = (form.get("To"), form.get("Body")) else {
        shared.refused.lock().unwrap().push("form".into());
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    let Some(from) = form.get("From").or(form.get("MessagingServiceSid")) else {
        shared.refused.lock().unwrap().push("form".into());
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        );
    };
    let fault = shared.faults.lock().unwrap().pop_front();
    if let Some(Fault::HangUntaken(delay)) = fault {
        tokio::time::sleep(delay).await;
        return twilio_error(
            StatusCode::SERVICE_UNAVAILABLE,
            20500,
            "Internal Server Error",
        );
    }
    let created = {
        let mut all = shared.created.lock().unwrap();
        let created = Created {
            sid: format!("SM{:032x}", all.len() + 1),
            to: to.clone(),
            from: from.clone(),
            body: text.clone(),
            at: Utc::now(),
        };
        all.push(created.clone());
        created
    };
    if let Some(Fault::TakeThenHang(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    (StatusCode::CREATED, Json(resource(&created)))
}

fn resource(m: &Created) -> Value {
    json!({"account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": m.body,
           "date_created": m.at.to_rfc2822(), "date_sent": null, "date_updated": m.at.to_rfc2822(),
           "direction": "outbound-api", "error_code": null, "error_message": null,
           "from": m.from, "messaging_service_sid": null, "num_media": "0", "num_segments": "1",
           "price": null, "price_unit": "USD", "sid": m.sid, "status": "queued", "to": m.to,
           "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{}.json", m.sid)})
}

/// Newest first, filtered by `To` and `From`, `PageSize` at a time from `Page`.
fn list(shared: &Shared, query: &BTreeMap<String, String>) -> Answer {
    *shared.lists.lock().unwrap() += 1;
    if *shared.list_refusal.lock().unwrap() {
        return twilio_error(StatusCode::FORBIDDEN, 20003, "Permission Denied");
    }
    let size: usize = query
        .get("PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let page: usize = query.get("Page").and_then(|s| s.parse().ok()).unwrap_or(0);
    if !(1..=1000).contains(&size) {
        return twilio_error(StatusCode::BAD_REQUEST, 20001, "Invalid PageSize");
    }
    let all = shared.created.lock().unwrap();
    let matching: Vec<&Created> = all
        .iter()
        .rev()
        .filter(|m| query.get("To").is_none_or(|to| &m.to == to))
        .filter(|m| query.get("From").is_none_or(|from| &m.from == from))
        .collect();
    let messages: Vec<Value> = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(|m| resource(m))
        .collect();
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json");
    let mut next_query = query.clone();
    next_query.insert("Page".into(), (page + 1).to_string());
    let next = ((page + 1) * size < matching.len()).then(|| {
        format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&next_query)
                .finish()
        )
    });
    (
        StatusCode::OK,
        Json(
            json!({"messages": messages, "next_page_uri": next, "page": page,
                    "page_size": size, "first_page_uri": path, "previous_page_uri": null,
                    "uri": path, "end": page * size + messages.len(), "start": page * size}),
        ),
    )
}
