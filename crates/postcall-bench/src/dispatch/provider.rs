//! The SMS provider the stage sends to: an axum server in this process playing the generic
//! `webhook` provider. It takes `POST /send` with `{"id","to","body","status_callback"}`,
//! answers 200 with a unique `provider_message_id`, and counts every `id` it sees: one seen
//! twice is a duplicate SMS and fails the run.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use serde::Deserialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Deserialize)]
struct SendRequest {
    id: String,
    to: String,
    body: String,
    status_callback: String,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    duplicates: u64,
    /// Arrival of every well-formed request, in order.
    arrivals: Vec<Instant>,
}

/// What the provider saw.
pub struct Sink {
    /// Requests this run expects; reaching it wakes `reached`.
    target: u64,
    requests: AtomicU64,
    malformed: AtomicU64,
    seen: Mutex<Seen>,
    started: Notify,
    reached: Notify,
}

impl Sink {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn saw(&self, id: &str) -> bool {
        self.seen.lock().expect("sink lock").ids.contains(id)
    }

    pub fn arrivals(&self) -> Vec<Instant> {
        self.seen.lock().expect("sink lock").arrivals.clone()
    }

    /// Exactly `target` well-formed requests with distinct ids, or what went wrong.
    pub fn check(&self) -> anyhow::Result<()> {
        let (requests, malformed) = (self.requests(), self.malformed.load(Ordering::SeqCst));
        let (duplicates, distinct) = {
            let seen = self.seen.lock().expect("sink lock");
            (seen.duplicates, seen.ids.len())
        };
        anyhow::ensure!(
            requests == self.target && malformed == 0 && duplicates == 0,
            "provider saw {requests} requests for {} messages: {distinct} distinct ids, \
             {duplicates} duplicate, {malformed} malformed",
            self.target
        );
        Ok(())
    }
}

async fn accept(State(sink): State<Arc<Sink>>, body: Bytes) -> (StatusCode, String) {
    let request = serde_json::from_slice::<SendRequest>(&body)
        .ok()
        .filter(|r| {
            !(r.id.is_empty()
                || r.to.is_empty()
                || r.body.is_empty()
                || r.status_callback.is_empty())
        });
    let Some(request) = request else {
        sink.malformed.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::BAD_REQUEST, "malformed send".into());
    };
    {
        let mut seen = sink.seen.lock().expect("sink lock");
        if !seen.ids.insert(request.id) {
            seen.duplicates += 1;
        }
        seen.arrivals.push(Instant::now());
    }
    let n = sink.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        sink.started.notify_one();
    }
    if n == sink.target {
        sink.reached.notify_one();
    }
    (
        StatusCode::OK,
        format!(r#"{{"provider_message_id":"sink-{n}"}}"#),
    )
}

/// The provider for one measurement; stops serving when dropped.
pub struct Server {
    pub sink: Arc<Sink>,
    pub url: String,
    stop: CancellationToken,
}

impl Server {
    pub async fn start(target: usize) -> anyhow::Result<Self> {
        let sink = Arc::new(Sink {
            target: u64::try_from(target)?,
            requests: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            seen: Mutex::new(Seen {
                ids: HashSet::with_capacity(target),
                duplicates: 0,
                arrivals: Vec::with_capacity(target),
            }),
            started: Notify::new(),
            reached: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/send", listener.local_addr()?);
        let app = Router::new()
            .route("/send", post(accept))
            .with_state(sink.clone());
        let stop = CancellationToken::new();
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
        tokio::spawn(async move {
            if let Err(e) = serve.await {
                eprintln!("warning: the provider server stopped: {e}");
            }
        });
        Ok(Self { sink, url, stop })
    }

    /// Waits for the first request, then for the `target`-th; each within `limit`.
    pub async fn first(&self, limit: Duration) -> anyhow::Result<()> {
        tokio::time::timeout(limit, self.sink.started.notified())
            .await
            .with_context(|| format!("no request reached the provider within {limit:?}"))
    }

    pub async fn all(&self, limit: Duration) -> anyhow::Result<()> {
        tokio::time::timeout(limit, self.sink.reached.notified())
            .await
            .with_context(|| {
                format!(
                    "the provider got {} of {} requests within {limit:?}",
                    self.sink.requests(),
                    self.sink.target
                )
            })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
