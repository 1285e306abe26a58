//! A local HTTP server playing the SMS provider (wiremock), recording when each request
//! arrived so tests can check retry timing and rate limits.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::method};

type Answer = dyn Fn(usize) -> ResponseTemplate + Send + Sync;

/// Answers the n-th request with `answer(n)`, noting each request's arrival.
#[derive(Clone)]
pub struct Script {
    answer: Arc<Answer>,
    pub arrivals: Arc<Mutex<Vec<(Instant, Request)>>>,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        let n = arrivals.len();
        arrivals.push((Instant::now(), request.clone()));
        (self.answer)(n)
    }
}

pub struct Provider {
    pub server: MockServer,
    pub script: Script,
}

impl Provider {
    /// Answers with `responses` in turn; the last one repeats.
    pub async fn start(responses: Vec<ResponseTemplate>) -> Self {
        Self::answering(move |n| responses[n.min(responses.len() - 1)].clone()).await
    }

    pub async fn answering(
        answer: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
    ) -> Self {
        let server = MockServer::start().await;
        let script = Script {
            answer: Arc::new(answer),
            arrivals: Arc::default(),
        };
        Mock::given(method("POST"))
            .respond_with(script.clone())
            .mount(&server)
            .await;
        Self { server, script }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.script
            .arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn times(&self) -> Vec<Instant> {
        self.script
            .arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn count(&self) -> usize {
        self.script.arrivals.lock().unwrap().len()
    }

    /// Waits until `n` requests arrived (or 15 s passed) and returns how many did.
    pub async fn wait_for(&self, n: usize) -> usize {
        for _ in 0..300 {
            if self.count() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.count()
    }
}

pub fn twilio_created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "sid": sid, "status": "queued", "num_segments": "1", "to": "+8613900000001"
    }))
}

pub fn webhook_accepted(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(postcall::channels::webhook::wire::Accepted {
        provider_message_id: id.to_owned(),
    })
}

pub const WEBHOOK_SECRET: &str = "whsec_mqz+WG5H0HMvZIIG1h7RC2OlRj8MsspfT1RN03slAHc=";

/// Settings overrides for the webhook provider at `uri`.
pub fn webhook_env(uri: &str) -> Vec<(String, String)> {
    vec![
        ("POSTCALL__PROVIDER__KIND".into(), "webhook".into()),
        (
            "POSTCALL__PROVIDER__WEBHOOK__URL".into(),
            format!("{uri}/send"),
        ),
        (
            "POSTCALL__PROVIDER__WEBHOOK__SECRET".into(),
            WEBHOOK_SECRET.into(),
        ),
    ]
}

pub fn twilio_env(uri: &str) -> Vec<(String, String)> {
    vec![
        ("POSTCALL__PROVIDER__KIND".into(), "twilio".into()),
        ("POSTCALL__PROVIDER__TWILIO__BASE_URL".into(), uri.into()),
        (
            "POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID".into(),
            "AC0123456789abcdef".into(),
        ),
        (
            "POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN".into(),
            "7d29eb4aefd49dec04f9b6c572366fa2".into(),
        ),
        (
            "POSTCALL__PROVIDER__TWILIO__FROM".into(),
            "+15005550006".into(),
        ),
    ]
}
