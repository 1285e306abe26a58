//! A local SMS provider speaking the webhook provider contract (DESIGN.md §4): `POST /send`
//! with `{"id","to","body","status_callback"}`, Standard Webhooks-signed, `Idempotency-Key`;
//! answers 2xx `{"provider_message_id"}`. It keeps a record of every request — the suite's
//! independent count of what reached customers — and can be told, per request, to fail.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use postcall::channels::webhook::{
    signature::{self, Headers, Secret},
    wire::{Accepted, Callback, SendRequest},
};
use serde_json::json;

use crate::customer::{Customers, FIRST_QUESTION};

/// The secret the suite's workers and its provider share, both directions.
pub const SECRET: &str = "whsec_ZmF1bHRzLXN1aXRlLXNlY3JldC1rZXktMDAwMDE=";

/// What the provider does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accepts it: the SMS goes to the customer.
    None,
    /// Answers this HTTP status without sending.
    Status(u16),
    /// 429 with `Retry-After: seconds`, without sending.
    TooMany { retry_after: u64 },
    /// Never answers (the worker's request timeout fires); nothing is sent.
    Hang,
    /// Answers 200 after this long, having sent.
    Slow(Duration),
}

/// One request as the provider's plan sees it; `attempt` counts requests with its key.
pub struct Request<'a> {
    pub to: &'a str,
    pub attempt: u32,
}

type Plan = dyn Fn(&Request<'_>) -> Fault + Send + Sync;

/// Callbacks the provider makes before it answers a first question's send: as if the SMS
/// was delivered and the customer answered before the provider's own response reached the
/// worker (DESIGN.md §4: harmless).
pub struct Early {
    /// The workers' base URLs, taken in turn.
    pub bases: Vec<String>,
    /// Which customers answer this fast.
    pub who: fn(&str) -> bool,
    pub reply: &'static str,
}

#[derive(Debug, Clone)]
pub struct Receipt {
    /// The message id, which is also its idempotency key.
    pub key: String,
    pub to: String,
    pub body: String,
    pub at: Instant,
    pub wall: DateTime<Utc>,
    pub fault: Fault,
    /// Signed with the shared secret, and `Idempotency-Key` equal to the body's id.
    pub well_formed: bool,
}

impl Receipt {
    /// The provider sent this one to the customer (or would have, but for deduplication).
    pub fn accepted(&self) -> bool {
        matches!(self.fault, Fault::None | Fault::Slow(_))
    }
}

struct Shared {
    secret: Secret,
    receipts: Mutex<Vec<Receipt>>,
    attempts: Mutex<HashMap<String, u32>>,
    plan: Mutex<Arc<Plan>>,
    early: Mutex<Option<Arc<Early>>>,
    customers: Customers,
    /// Early callbacks made, and how many the worker did not answer 2xx.
    early_made: Mutex<(usize, usize)>,
    /// What the worker answered each refused early callback (a status, or the error).
    early_refusals: Mutex<Vec<String>>,
}

pub struct Provider {
    shared: Arc<Shared>,
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Provider {
    /// Starts on a free port, accepting everything.
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            secret: Secret::parse(SECRET).expect("the suite's secret parses"),
            receipts: Mutex::default(),
            attempts: Mutex::default(),
            plan: Mutex::new(Arc::new(|_: &Request<'_>| Fault::None)),
            early: Mutex::default(),
            customers: Customers::new(),
            early_made: Mutex::default(),
            early_refusals: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let app = Router::new()
            .route("/send", post(send))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            shared,
            url: format!("http://{addr}/send"),
            server,
        })
    }

    /// From now on, answers each request as `plan` says.
    pub fn plan(&self, plan: impl Fn(&Request<'_>) -> Fault + Send + Sync + 'static) {
        *self.shared.plan.lock().unwrap() = Arc::new(plan);
    }

    /// From now on, makes `early` callbacks before answering first questions.
    pub fn call_back_early(&self, early: Early) {
        *self.shared.early.lock().unwrap() = Some(Arc::new(early));
    }

    /// (early callbacks made, of which refused).
    pub fn early_made(&self) -> (usize, usize) {
        *self.shared.early_made.lock().unwrap()
    }

    /// What the worker answered the refused early callbacks, so a failure says why.
    pub fn early_refusals(&self) -> Vec<String> {
        self.shared.early_refusals.lock().unwrap().clone()
    }

    pub fn receipts(&self) -> Vec<Receipt> {
        self.shared.receipts.lock().unwrap().clone()
    }

    /// The worker's settings for this provider.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__PROVIDER__KIND", "webhook"),
            ("POSTCALL__PROVIDER__WEBHOOK__URL", self.url.as_str()),
            ("POSTCALL__PROVIDER__WEBHOOK__SECRET", SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(message) = serde_json::from_slice::<SendRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a send request").into_response();
    };
    let well_formed = signed(&shared.secret, &headers, &body)
        && headers.get("idempotency-key").and_then(|v| v.to_str().ok()) == Some(&message.id);
    let attempt = {
        let mut attempts = shared.attempts.lock().unwrap();
        let n = attempts.entry(message.id.clone()).or_default();
        *n += 1;
        *n
    };
    let plan = shared.plan.lock().unwrap().clone();
    let fault = plan(&Request {
        to: &message.to,
        attempt,
    });
    let early = shared.early.lock().unwrap().clone();
    if let Some(early) = early
        && fault == Fault::None
        && attempt == 1
        && (early.who)(&message.to)
        && message.body.contains(FIRST_QUESTION)
    {
        call_back(&shared, &early, &message).await;
    }
    shared.receipts.lock().unwrap().push(Receipt {
        key: message.id.clone(),
        to: message.to,
        body: message.body,
        at: Instant::now(),
        wall: Utc::now(),
        fault,
        well_formed,
    });
    // The same id for the same key: a resend is recognised and not delivered again.
    let accepted = Json(Accepted {
        provider_message_id: format!("pm-{}", message.id),
    });
    match fault {
        Fault::None => accepted.into_response(),
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            accepted.into_response()
        }
        Fault::Status(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(json!({ "error": format!("injected {code}") })),
        )
            .into_response(),
        Fault::TooMany { retry_after } => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({ "error": "rate limited" })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Fault::Hang => {
            // Dropped when the worker gives up and closes the connection.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

/// A delivery report and the customer's reply, to one of the workers, before answering.
async fn call_back(shared: &Shared, early: &Early, message: &SendRequest) {
    let customers = &shared.customers;
    let n = shared.early_made.lock().unwrap().0;
    let base = &early.bases[n % early.bases.len()];
    let delivered = Callback::Status {
        provider_message_id: format!("pm-{}", message.id),
        status: "delivered".into(),
        error_code: None,
    };
    let bodies = [
        serde_json::to_vec(&delivered).expect("a callback serializes"),
        Customers::received(&message.to, early.reply),
    ];
    for body in bodies {
        let answered = customers.post(base, &customers.sign(body)).await;
        let mut made = shared.early_made.lock().unwrap();
        made.0 += 1;
        let refusal = match answered {
            Ok(status) if status.is_success() => None,
            Ok(status) => Some(status.to_string()),
            Err(e) => Some(format!("{e:#}")),
        };
        if let Some(refusal) = refusal {
            made.1 += 1;
            shared.early_refusals.lock().unwrap().push(refusal);
        }
    }
}

fn signed(secret: &Secret, headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signature)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return false;
    };
    let headers = Headers {
        id,
        timestamp,
        signature,
    };
    signature::verify(secret, &headers, body, Utc::now().timestamp(), 300).is_ok()
}
