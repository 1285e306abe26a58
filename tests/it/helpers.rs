//! `TestApp::spawn()`: a fresh database, unique broker names, the worker on port 0.

use std::{collections::HashMap, sync::Once, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties,
    options::{BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions},
    types::FieldTable,
};
use postcall::{
    amqp::{self, Route},
    app::{self, Running},
    config::Settings,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
                ))
                .with_test_writer()
                .try_init();
        }
    });
}

/// Per-test names: a database and a set of exchanges and queues no other test touches.
#[derive(Clone)]
pub struct Names {
    pub database_url: String,
    pub exchange: String,
    pub queue: String,
    pub dlx: String,
    pub dlq: String,
    pub events: String,
}

impl Names {
    pub fn new() -> Self {
        let id = Uuid::new_v4().simple().to_string()[..12].to_owned();
        Self {
            database_url: format!("postgres://postgres@127.0.0.1:5432/postcall_test_{id}"),
            exchange: format!("calls.test-{id}"),
            queue: format!("postcall.call-completed.test-{id}"),
            dlx: format!("postcall.dlx.test-{id}"),
            dlq: format!("postcall.call-completed.dead.test-{id}"),
            events: format!("postcall.events.test-{id}"),
        }
    }

    /// Settings for these names, quiet hours off (tests that need them turn them on),
    /// plus `overrides` as `POSTCALL__…` pairs.
    pub fn settings(&self, overrides: &[(&str, &str)]) -> Settings {
        self.settings_from(None, overrides)
    }

    /// Like `settings`, with a config file layered under the environment.
    pub fn settings_from(
        &self,
        file: Option<&std::path::Path>,
        overrides: &[(&str, &str)],
    ) -> Settings {
        let mut env: HashMap<String, String> = [
            ("POSTCALL__DATABASE__URL", self.database_url.as_str()),
            ("POSTCALL__AMQP__URL", AMQP_URL),
            ("POSTCALL__AMQP__EXCHANGE", &self.exchange),
            ("POSTCALL__AMQP__QUEUE", &self.queue),
            ("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &self.dlx),
            ("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &self.dlq),
            ("POSTCALL__AMQP__EVENTS_EXCHANGE", &self.events),
            ("POSTCALL__HTTP__BIND", "127.0.0.1:0"),
            ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false"),
            ("POSTCALL__INGEST__BATCH_LINGER_MS", "5"),
            ("POSTCALL__INGEST__RETRY_MAX_DELAY_MS", "500"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in overrides {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        Settings::load_from(file, Some(env)).expect("test settings are valid")
    }
}

pub struct TestApp {
    pub names: Names,
    pub http: String,
    pub pool: PgPool,
    pub publisher: Publisher,
    shutdown: CancellationToken,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        Self::spawn_named(Names::new(), overrides).await
    }

    /// Starts a worker on existing names (a restart, or a second replica).
    pub async fn spawn_named(names: Names, overrides: &[(&str, &str)]) -> Self {
        let settings = names.settings(overrides);
        Self::spawn_settings(names, settings).await
    }

    /// Starts a worker with `settings` built by the test (a config file's tables, such as
    /// templates keyed by `zh-CN`, which environment variables cannot spell).
    pub async fn spawn_settings(names: Names, settings: Settings) -> Self {
        init_tracing();
        let shutdown = CancellationToken::new();
        let running: Running = app::start(settings, shutdown.clone())
            .await
            .expect("the worker starts (are PostgreSQL and RabbitMQ running?)");
        let http = format!("http://{}", running.http_addr.expect("http is enabled"));
        let pool = running.pool.clone();
        let handle = tokio::spawn(running.wait());
        let publisher = Publisher::connect(&names.exchange).await;
        let app = Self {
            names,
            http,
            pool,
            publisher,
            shutdown,
            running: Some(handle),
        };
        app.wait_until_ready().await;
        app
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.http);
        for _ in 0..100 {
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("worker not ready within 5 s");
    }

    /// Stops the worker and waits for it; unacked deliveries return to the queue.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(15), handle)
                .await
                .expect("worker stops within 15 s")
                .expect("worker task did not panic")
                .expect("worker stopped cleanly");
        }
    }

    pub async fn publish(&self, event: &Value) {
        self.publisher.publish_json(event).await;
    }

    /// Polls until `sql` (a count) reaches `expected`, or panics after 10 s.
    pub async fn wait_for_count(&self, sql: &str, expected: i64) {
        self.wait_for_count_within(sql, expected, Duration::from_secs(10))
            .await;
    }

    /// As [`Self::wait_for_count`], for work whose pace depends on the machine's load.
    pub async fn wait_for_count_within(&self, sql: &str, expected: i64, limit: Duration) {
        let mut last = -1;
        for _ in 0..limit.as_millis().div_ceil(50) {
            last = sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.pool)
                .await
                .unwrap_or(-1);
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("`{sql}` stayed at {last}, expected {expected}");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Every stored answer as (question id, value), in the order stored.
    pub async fn answers(&self) -> Vec<(String, Value)> {
        sqlx::query_as("SELECT question_id, value FROM answers ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn decision(&self, call_id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT decision FROM calls WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }

    /// Takes every message now in the dead-letter queue.
    pub async fn dead_letters(&self) -> Vec<lapin::message::BasicGetMessage> {
        drain(&self.publisher.channel, &self.names.dlq).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        drop(Cleanup(self.names.clone()));
    }
}

/// Removes a test's queues, exchanges and database when dropped, so repeated runs do not
/// pile them up. On its own thread and runtime: the test's runtime may be shutting down.
pub struct Cleanup(pub Names);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let names = self.0.clone();
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let publisher = Publisher::connect(&names.exchange).await;
                delete_topology(&publisher.channel, &names).await;
                drop_database(&names.database_url).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn drop_database(url: &str) {
    use sqlx::Connection;
    let name = url.rsplit('/').next().unwrap_or_default();
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

pub async fn delete_topology(channel: &Channel, names: &Names) {
    for q in [&names.queue, &names.dlq] {
        let _ = channel
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for x in [&names.exchange, &names.dlx, &names.events] {
        let _ = channel
            .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
}

pub struct Publisher {
    pub connection: Connection,
    pub channel: Channel,
    exchange: String,
}

impl Publisher {
    pub async fn connect(exchange: &str) -> Self {
        let connection = Connection::connect(AMQP_URL, ConnectionProperties::default())
            .await
            .expect("RabbitMQ is reachable at 127.0.0.1:5672");
        let channel = amqp::confirming_channel(&connection).await.unwrap();
        Self {
            connection,
            channel,
            exchange: exchange.to_owned(),
        }
    }

    pub async fn publish_json(&self, event: &Value) {
        self.publish_raw(&serde_json::to_vec(event).unwrap(), json_properties())
            .await;
    }

    /// Publishes `events` pipelined, awaiting the broker's confirms per chunk: one confirm
    /// at a time costs a quorum-queue commit each, far slower than the worker under test.
    pub async fn publish_many(&self, events: &[Value]) {
        let mut pipeline = amqp::Pipeline::new(&self.channel);
        for chunk in events.chunks(500) {
            for event in chunk {
                let body = serde_json::to_vec(event).unwrap();
                pipeline
                    .publish(self.route(), &body, json_properties())
                    .await
                    .unwrap();
            }
            pipeline.settle_all().await.unwrap();
        }
    }

    pub async fn publish_raw(&self, body: &[u8], properties: BasicProperties) {
        amqp::publish_confirmed(&self.channel, self.route(), body, properties)
            .await
            .unwrap();
    }

    fn route(&self) -> Route<'_> {
        Route::new(&self.exchange, "call.completed")
    }
}

pub fn json_properties() -> BasicProperties {
    amqp::persistent_json()
}

pub async fn drain(channel: &Channel, queue: &str) -> Vec<lapin::message::BasicGetMessage> {
    let mut out = Vec::new();
    while let Some(m) = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .expect("basic.get")
    {
        out.push(m);
    }
    out
}

/// Waits until the dead-letter queue holds `n` messages and returns them.
pub async fn wait_for_dead_letters(
    app: &TestApp,
    n: usize,
) -> Vec<lapin::message::BasicGetMessage> {
    let mut got = Vec::new();
    for _ in 0..200 {
        got.extend(app.dead_letters().await);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} dead letters after 10 s, expected {n}", got.len());
}

pub fn header(message: &lapin::message::BasicGetMessage, name: &str) -> Option<String> {
    let headers = message.delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        lapin::types::AMQPValue::LongString(s) => {
            Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
        }
        other => Some(format!("{other:?}")),
    }
}

/// A valid event that ended `ago` before now, answered, with 5 minutes of talk.
pub fn event(call_id: &str, phone: &str, ended: DateTime<Utc>) -> Value {
    let answered = ended - chrono::TimeDelta::minutes(5);
    json!({
        "event_id": Uuid::new_v4().to_string(),
        "call_id": call_id,
        "customer_phone": phone,
        "agent_id": "agent-7",
        "queue": "payment",
        "started_at": (answered - chrono::TimeDelta::seconds(40)).to_rfc3339(),
        "answered_at": answered.to_rfc3339(),
        "ended_at": ended.to_rfc3339(),
        "disposition": "completed",
        "language": "zh-CN",
    })
}

/// A distinct valid mainland mobile number per `n`.
pub fn phone(n: u32) -> String {
    format!("+86139{:08}", n)
}

pub fn minutes_ago(m: i64) -> DateTime<Utc> {
    // Whole seconds: PostgreSQL keeps microseconds, RFC 3339 round trips keep them too,
    // but comparisons in tests read better without sub-second noise.
    let now = Utc::now() - chrono::TimeDelta::minutes(m);
    DateTime::from_timestamp(now.timestamp(), 0).unwrap()
}

pub async fn _consume_one(channel: &Channel, queue: &str) -> Option<lapin::message::Delivery> {
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "".into(),
            Default::default(),
            FieldTable::default(),
        )
        .await
        .ok()?;
    tokio::time::timeout(Duration::from_secs(5), consumer.next())
        .await
        .ok()
        .flatten()
        .and_then(Result::ok)
}

/// Inserts `n` calls with surveys due at `send_at`, bypassing ingest (for dispatch tests),
/// phones `+86139000{i:05}`, customer time zone `zone`. Returns the survey ids.
pub async fn insert_surveys(pool: &PgPool, n: i64, send_at: DateTime<Utc>, zone: &str) -> Vec<i64> {
    sqlx::query(
        r#"
        INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                           ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                           decision, event)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'agent-' || (i % 7), 'payment',
               now() - interval '10 minutes', now() - interval '9 minutes', now() - interval '5 minutes',
               'completed', $2, 60, 240, 'scheduled', '{}'::jsonb
          FROM generate_series(1, $1) AS i
        "#,
    )
    .bind(n)
    .bind(zone)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query_scalar(
        r#"
        INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'zh-CN', $3, $2
          FROM generate_series(1, $1) AS i
        RETURNING id
        "#,
    )
    .bind(n)
    .bind(send_at)
    .bind(zone)
    .fetch_all(pool)
    .await
    .unwrap()
}

impl TestApp {
    /// The Prometheus text the worker serves at `/metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.http))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Like `spawn_with`, with owned overrides (provider settings built at run time).
    pub async fn spawn_env(names: Names, overrides: &[(String, String)]) -> Self {
        let pairs: Vec<(&str, &str)> = overrides
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self::spawn_named(names, &pairs).await
    }

    pub async fn survey_state(&self, id: i64) -> String {
        sqlx::query_scalar("SELECT state FROM surveys WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// A queue of our own bound to the events exchange, to see what postcall announces.
pub async fn listen_for_events(app: &TestApp) -> lapin::Consumer {
    let channel = &app.publisher.channel;
    let queue = channel
        .queue_declare(
            "".into(),
            lapin::options::QueueDeclareOptions {
                exclusive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    // The publisher declares the exchange when it connects; wait for it.
    for _ in 0..100 {
        let bound = app
            .publisher
            .connection
            .create_channel()
            .await
            .unwrap()
            .queue_bind(
                queue.name().clone(),
                app.names.events.as_str().into(),
                "#".into(),
                lapin::options::QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await;
        if bound.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    channel
        .basic_consume(
            queue.name().clone(),
            "".into(),
            lapin::options::BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap()
}

/// The scores (`/api/v1/scores?{query}`) after one aggregation run under `overrides`, once
/// nothing is left to send: a message still on its way out counts only once it is sent.
pub async fn scores_after_a_run(app: &TestApp, overrides: &[(&str, &str)], query: &str) -> Value {
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE status IN ('pending', 'sending')",
        0,
    )
    .await;
    let settings = app.names.settings(overrides);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    reqwest::get(format!("{}/api/v1/scores?{query}", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Serves `app` on a free local port for the rest of the test: its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
