//! Dispatch throughput: SMS per second from a backlog of due surveys in the local PostgreSQL
//! to an SMS provider played by this process.
//!
//! The machine is shared and noisy, so absolute numbers mean little: every figure is shown
//! next to a baseline taken in the same run, and each stage is repeated (rounds interleave
//! the stages, so a noisy minute hits all of them alike).
//!
//! The provider is an axum server on 127.0.0.1:0 playing the generic `webhook` provider: it
//! takes `POST /send` with `{"id","to","body","status_callback"}`, answers 200 with a unique
//! `provider_message_id`, and counts every `id` it sees; one seen twice fails the run.
//!
//! - `http`: a plain reqwest client posts N pre-built requests to it, `dispatch.batch_size`
//!   in flight, no database: the ceiling HTTP allows here.
//! - `provider`: the same N sends through postcall's own webhook provider (JSON, Standard
//!   Webhooks signature, answer parsing), same concurrency, no database.
//! - `dispatch`: N due surveys inserted with SQL into a fresh database, then the real
//!   dispatcher (`postcall::app::start`, dispatch only) sends them; the clock runs from the
//!   provider's first request to its N-th. Every survey must end `open`, every message
//!   `queued`, every message id must reach the provider exactly once.
//! - `phases`: the same backlog sent by calling `Dispatcher::round` in a loop, as
//!   `Dispatcher::run` does while there is work, with clocks around each round and each
//!   provider request, and every SQL statement's client-side time tallied from sqlx's own
//!   query events: where a round's time goes. Everything it times is postcall's own code.
//!
//! `cargo bench --bench dispatch -- [--messages N] [--rounds R]
//! [--stage http|provider|dispatch|phases] [--replicas W]`; `POSTCALL__*` variables tune the
//! dispatcher, `BENCH_LOG` turns its logs on.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    process::ExitCode,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::post,
};
use futures_util::{StreamExt, TryStreamExt};
use postcall::{
    config::Settings,
    dispatch::Dispatcher,
    providers::{Outbound, SendOutcome, SmsProvider, Webhook},
    store::db,
};
use serde::Deserialize;
use sqlx::{Connection as _, Executor, PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::{Layer, layer, layer::SubscriberExt, util::SubscriberInitExt};
use uuid::Uuid;

const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Where postcall tells the provider to report delivery; nothing listens, it is only sent.
const STATUS_CALLBACK: &str = "http://127.0.0.1:8080/webhooks/sms";
/// High enough that the rate limiter never binds: the bench measures the pipeline.
const UNLIMITED: &str = "1000000";
const POLL: Duration = Duration::from_millis(20);
/// Nothing here should take this long; a hang is reported rather than waited out.
const STAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// After the N-th request, its outcome must be recorded within this long.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// USER_HZ: /proc reports CPU time in these ticks; 100 on every mainstream Linux build.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Http,
    Provider,
    Dispatch,
    Phases,
}

struct Args {
    messages: usize,
    rounds: usize,
    /// Dispatchers started in-process on the same database, as that many replicas would
    /// be; more than 1 also checks that none of them sends a message another one sent.
    replicas: usize,
    stage: Option<Stage>,
}

/// Hand-parsed: cargo adds `--bench`, and anything unknown is ignored rather than fatal.
fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        messages: 5_000,
        rounds: 5,
        replicas: 1,
        stage: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--messages" => args.messages = value(&mut it, "--messages")?,
            "--rounds" => args.rounds = value(&mut it, "--rounds")?,
            "--replicas" => args.replicas = value(&mut it, "--replicas")?,
            "--stage" => args.stage = Some(stage(&value::<String>(&mut it, "--stage")?)?),
            _ => {}
        }
    }
    if args.messages < 100 || args.rounds == 0 || args.replicas == 0 {
        bail!("need --messages >= 100, --rounds >= 1, --replicas >= 1");
    }
    Ok(args)
}

fn value<T: std::str::FromStr>(
    it: &mut impl Iterator<Item = String>,
    flag: &str,
) -> anyhow::Result<T> {
    it.next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{flag} needs a valid value"))
}

fn stage(name: &str) -> anyhow::Result<Stage> {
    Ok(match name {
        "http" => Stage::Http,
        "provider" => Stage::Provider,
        "dispatch" => Stage::Dispatch,
        "phases" => Stage::Phases,
        other => bail!("--stage must be http, provider, dispatch or phases, got {other:?}"),
    })
}

// ---------------------------------------------------------------------------------------
// Settings and databases: one fresh database per measurement.

/// The shipped defaults (batch 50, pool 10, lease 60 s) with the bench's own addresses, only
/// the dispatch role on, quiet hours off and the rate limits out of the way. Tuning can be
/// tried without editing code: `POSTCALL__*` variables of this process are passed on, except
/// the addresses and roles, which stay the bench's own.
fn settings(database: &str, provider_url: &str) -> anyhow::Result<Settings> {
    let pairs = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut env = pairs(&[
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false"),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND",
            UNLIMITED,
        ),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
            UNLIMITED,
        ),
    ]);
    env.extend(tuning_overrides());
    env.extend(pairs(&[
        (
            "POSTCALL__DATABASE__URL",
            &format!("{PG_SERVER}/{database}"),
        ),
        ("POSTCALL__INGEST__ENABLED", "false"),
        ("POSTCALL__HTTP__ENABLED", "false"),
        ("POSTCALL__HTTP__BIND", "127.0.0.1:0"),
        ("POSTCALL__DISPATCH__ENABLED", "true"),
        ("POSTCALL__PROVIDER__KIND", "webhook"),
        ("POSTCALL__PROVIDER__WEBHOOK__URL", provider_url),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", WEBHOOK_SECRET),
    ]));
    Ok(Settings::load_from(None, Some(env))?)
}

fn tuning_overrides() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("POSTCALL__"))
        .collect()
}

fn database_name() -> String {
    format!("postcall_bench_{}", Uuid::new_v4().simple())
}

async fn admin() -> anyhow::Result<PgConnection> {
    PgConnection::connect(&format!("{PG_SERVER}/postgres"))
        .await
        .context("connecting to PostgreSQL at 127.0.0.1:5432")
}

async fn drop_database(name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Ok(mut conn) = admin().await
        && let Err(e) = conn.execute(sql.as_str()).await
    {
        eprintln!("warning: could not drop {name}: {e}");
    }
}

/// Creates and migrates the database through postcall, and inserts n calls with a survey
/// each, due a second ago, as ingest would have scheduled them (tests/it/helpers.rs
/// `insert_surveys`). The backlog's tables are analyzed, as autovacuum would have by then;
/// `messages` is not: analyzed while empty, it would tell the planner it stays empty, which
/// autovacuum never does (it analyzes only after rows arrive).
async fn prepare_database(settings: &Settings, n: usize) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    let n = i64::try_from(n)?;
    sqlx::query(
        r#"
        INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                           ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                           decision, event)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'agent-' || (i % 7), 'payment',
               now() - interval '10 minutes', now() - interval '9 minutes', now() - interval '5 minutes',
               'completed', 'Asia/Shanghai', 60, 240, 'scheduled', '{}'::jsonb
          FROM generate_series(1, $1) AS i
        "#,
    )
    .bind(n)
    .execute(&pool)
    .await?;
    sqlx::query(
        r#"
        INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
        SELECT 'call-' || i, '+86139' || lpad(i::text, 8, '0'), 'zh-CN', 'Asia/Shanghai',
               now() - interval '1 second'
          FROM generate_series(1, $1) AS i
        "#,
    )
    .bind(n)
    .execute(&pool)
    .await?;
    pool.execute("ANALYZE calls, surveys").await?;
    // Closed, not kept: its backend flushes its statistics as it exits, so the counters
    // read next do not count the backlog's inserts as the dispatcher's work.
    pool.close().await;
    Ok(())
}

/// The outcome the bench demands: every survey open, one message each, every message
/// queued after one attempt, and each of them seen by the provider.
async fn verify(pool: &PgPool, n: usize, sink: &Sink) -> anyhow::Result<()> {
    let (open, surveys): (i64, i64) =
        sqlx::query_as("SELECT count(*) FILTER (WHERE state = 'open'), count(*) FROM surveys")
            .fetch_one(pool)
            .await?;
    let (queued, once, total): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'queued' AND provider_message_id IS NOT NULL),
                count(*) FILTER (WHERE attempts = 1), count(*)
           FROM messages",
    )
    .fetch_one(pool)
    .await?;
    let n64 = i64::try_from(n)?;
    if (open, surveys, queued, once, total) != (n64, n64, n64, n64, n64) {
        bail!(
            "expected {n} open surveys and {n} queued messages, one attempt each; got {open} of \
             {surveys} surveys open, {queued} of {total} messages queued, {once} with one attempt"
        );
    }
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM messages")
        .fetch_all(pool)
        .await?;
    let seen = sink.seen.lock().expect("sink lock");
    let missing = ids
        .iter()
        .filter(|id| !seen.ids.contains(&id.to_string()))
        .count();
    if missing > 0 {
        bail!("{missing} queued messages never reached the provider");
    }
    Ok(())
}

/// Waits until every survey is open (the N-th request's outcome is recorded a little after
/// it arrived); returns how long that took after the N-th request.
async fn drain(pool: &PgPool, n: usize, sink: &Sink) -> anyhow::Result<Duration> {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM surveys WHERE state = 'open'")
            .fetch_one(pool)
            .await?;
        if usize::try_from(open)? >= n {
            let last = sink.last.get().copied().unwrap_or_else(Instant::now);
            return Ok(last.elapsed());
        }
        if Instant::now() > deadline {
            bail!("only {open} of {n} surveys open {DRAIN_TIMEOUT:?} after the last send");
        }
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------------------
// The provider: an axum server in this process.

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
}

/// What the provider saw. `first` and `last` are the arrivals of the first and the
/// `target`-th request; `started` and `reached` wake the one task timing them.
struct Sink {
    target: u64,
    requests: AtomicU64,
    malformed: AtomicU64,
    seen: Mutex<Seen>,
    first: OnceLock<Instant>,
    last: OnceLock<Instant>,
    started: Notify,
    reached: Notify,
}

impl Sink {
    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn duplicates(&self) -> u64 {
        self.seen.lock().expect("sink lock").duplicates
    }

    /// Exactly `target` well-formed requests with distinct ids: anything else is reported.
    fn faults(&self) -> Option<String> {
        let (requests, malformed) = (self.requests(), self.malformed.load(Ordering::SeqCst));
        let (duplicates, distinct) = {
            let seen = self.seen.lock().expect("sink lock");
            (seen.duplicates, seen.ids.len())
        };
        (requests != self.target || malformed > 0 || duplicates > 0).then(|| {
            format!(
                "provider saw {requests} requests for {} messages: {distinct} distinct ids, \
                 {duplicates} duplicate, {malformed} malformed",
                self.target
            )
        })
    }
}

async fn accept(State(sink): State<Arc<Sink>>, body: Bytes) -> impl IntoResponse {
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
        return (StatusCode::BAD_REQUEST, String::from("malformed send"));
    };
    {
        let mut seen = sink.seen.lock().expect("sink lock");
        if !seen.ids.insert(request.id) {
            seen.duplicates += 1;
        }
    }
    let n = sink.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        let _ = sink.first.set(Instant::now());
        sink.started.notify_one();
    }
    if n == sink.target {
        let _ = sink.last.set(Instant::now());
        sink.reached.notify_one();
    }
    (
        StatusCode::OK,
        format!(r#"{{"provider_message_id":"sink-{n}"}}"#),
    )
}

/// The provider for one measurement; stops serving when dropped.
struct SinkServer {
    sink: Arc<Sink>,
    url: String,
    stop: CancellationToken,
}

impl SinkServer {
    async fn start(target: usize) -> anyhow::Result<Self> {
        let sink = Arc::new(Sink {
            target: u64::try_from(target)?,
            requests: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            seen: Mutex::new(Seen {
                ids: HashSet::with_capacity(target),
                duplicates: 0,
            }),
            first: OnceLock::new(),
            last: OnceLock::new(),
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

    /// The rate from the first request's arrival to the `target`-th's (n-1 intervals, as
    /// neither end waits for anything), with the CPU used in between. Setup before the
    /// first request (connecting, migrating, the first claim) is not counted.
    async fn timed(&self) -> anyhow::Result<Rate> {
        let sink = &self.sink;
        let window = async {
            sink.started.notified().await;
            let ticks = cpu_ticks();
            let at = Instant::now();
            sink.reached.notified().await;
            let cpu = cpu_use(ticks, cpu_ticks(), at.elapsed());
            let (first, last) = (sink.first.get(), sink.last.get());
            let elapsed = last.zip(first).map(|(l, f)| *l - *f).unwrap_or_default();
            Rate {
                per_second: (sink.target - 1) as f64 / elapsed.as_secs_f64(),
                cpu,
                seconds: elapsed.as_secs_f64(),
            }
        };
        tokio::time::timeout(STAGE_TIMEOUT, window)
            .await
            .with_context(|| {
                format!(
                    "the provider got {} of {} requests within {STAGE_TIMEOUT:?}",
                    sink.requests(),
                    sink.target
                )
            })
    }
}

impl Drop for SinkServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

// ---------------------------------------------------------------------------------------
// CPU accounting: where the time goes, per process group, over a timed window.

#[derive(Clone, Copy, Default)]
struct CpuTicks {
    bench: u64,
    postgres: u64,
    machine_busy: u64,
}

/// Cores used over a window. `bench` is this process: client and provider in the http and
/// provider stages, dispatcher(s) and provider in the others. `machine` includes other
/// tenants.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    bench: f64,
    postgres: f64,
    machine: f64,
}

fn cpu_ticks() -> CpuTicks {
    let mut t = CpuTicks {
        bench: process_ticks("self").unwrap_or(0),
        machine_busy: machine_busy_ticks().unwrap_or(0),
        ..Default::default()
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return t;
    };
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            t.postgres += process_ticks(&pid).unwrap_or(0);
        }
    }
    t
}

/// utime + stime from /proc/<pid>/stat (fields 14 and 15; the name in field 2 may hold
/// spaces, so count from the closing parenthesis).
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// All CPUs' non-idle ticks from /proc/stat (idle and iowait excluded).
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().sum();
    Some(total - values.get(3)? - values.get(4)?)
}

fn cpu_use(from: CpuTicks, to: CpuTicks, window: Duration) -> CpuUse {
    let cores =
        |a: u64, b: u64| b.saturating_sub(a) as f64 / TICKS_PER_SECOND / window.as_secs_f64();
    CpuUse {
        bench: cores(from.bench, to.bench),
        postgres: cores(from.postgres, to.postgres),
        machine: cores(from.machine_busy, to.machine_busy),
    }
}

#[derive(Clone, Copy)]
struct Rate {
    per_second: f64,
    cpu: CpuUse,
    /// The timed window: CPU figures over much less than a second are coarse (100 Hz).
    seconds: f64,
}

// ---------------------------------------------------------------------------------------
// PostgreSQL's own counters: what one SMS costs the database.

#[derive(Clone, Copy, Default)]
struct DbCounters {
    commits: i64,
    wal_bytes: f64,
    wal_syncs: i64,
}

/// Commits in the bench database; WAL bytes and WAL fsyncs cluster-wide (other tenants
/// included, which on this box are idle). Backends publish their counters when they exit,
/// so this is read with every connection to the database closed.
async fn db_counters(database: &str) -> anyhow::Result<DbCounters> {
    let mut conn = admin().await?;
    for _ in 0..100 {
        let backends: i32 =
            sqlx::query_scalar("SELECT numbackends FROM pg_stat_database WHERE datname = $1")
                .bind(database)
                .fetch_one(&mut conn)
                .await?;
        if backends == 0 {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let (commits, wal_bytes, wal_syncs): (i64, f64, i64) = sqlx::query_as(
        "SELECT d.xact_commit, w.wal_bytes::float8, w.wal_sync
           FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1",
    )
    .bind(database)
    .fetch_one(&mut conn)
    .await?;
    Ok(DbCounters {
        commits,
        wal_bytes,
        wal_syncs,
    })
}

/// Per SMS: commits, WAL KiB and WAL fsyncs.
#[derive(Clone, Copy, Default)]
struct DbWork {
    commits: f64,
    wal_kib: f64,
    fsyncs: f64,
}

fn db_work(before: DbCounters, after: DbCounters, n: usize) -> DbWork {
    let n = n as f64;
    DbWork {
        commits: (after.commits - before.commits) as f64 / n,
        wal_kib: (after.wal_bytes - before.wal_bytes) / 1024.0 / n,
        fsyncs: (after.wal_syncs - before.wal_syncs) as f64 / n,
    }
}

// ---------------------------------------------------------------------------------------
// Stages 1 and 2: HTTP alone, then postcall's provider alone.

/// The first SMS of a zh-CN survey to a mainland number, as the dispatcher sends it: the
/// same bytes on the wire in every stage.
fn sms_body(settings: &Settings) -> anyhow::Result<String> {
    Ok(settings.survey_definition()?.first_message("zh-CN", true))
}

fn phone(i: usize) -> String {
    format!("+86139{i:08}")
}

#[derive(Deserialize)]
struct Accepted {
    provider_message_id: String,
}

struct Checked {
    rate: Rate,
    duplicates: u64,
}

/// Runs `load` against a fresh provider that expects n requests and times it there; the
/// provider must then have seen exactly n distinct ids.
async fn against_sink<F, Fut>(n: usize, load: F) -> anyhow::Result<Checked>
where
    F: FnOnce(String, usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let server = SinkServer::start(n).await?;
    let concurrency = settings("unused", &server.url)?.dispatch.batch_size as usize;
    let running = tokio::spawn(load(server.url.clone(), concurrency));
    let rate = server.timed().await;
    running.await.context("the load task panicked")??;
    let rate = rate?;
    if let Some(fault) = server.sink.faults() {
        bail!("{fault}");
    }
    Ok(Checked {
        rate,
        duplicates: server.sink.duplicates(),
    })
}

/// The ceiling: pre-built bodies, a default reqwest client, `concurrency` requests in
/// flight at all times (a sliding window, not batches), answers read and parsed.
async fn http_round(n: usize) -> anyhow::Result<Checked> {
    let body = sms_body(&settings("unused", "http://unused")?)?;
    let bodies: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": Uuid::new_v4().to_string(),
                "to": phone(i),
                "body": body,
                "status_callback": STATUS_CALLBACK,
            })
            .to_string()
        })
        .collect();
    against_sink(n, move |url, concurrency| async move {
        let client = reqwest::Client::new();
        futures_util::stream::iter(bodies)
            .map(|body| {
                let request = client
                    .post(&url)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body);
                async move {
                    let response = request.send().await?.error_for_status()?;
                    let accepted = response.json::<Accepted>().await?;
                    anyhow::ensure!(!accepted.provider_message_id.is_empty(), "no provider id");
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<()>()
            .await
    })
    .await
}

/// postcall's webhook provider, built from settings as the dispatcher builds it, sending
/// `concurrency` at a time with no database behind it.
async fn provider_round(n: usize) -> anyhow::Result<Checked> {
    against_sink(n, move |url, concurrency| async move {
        let settings = settings("unused", &url)?;
        let body = sms_body(&settings)?;
        let timeout = Duration::from_secs(settings.dispatch.request_timeout_seconds);
        let provider = Webhook::new(
            &settings.provider.webhook,
            &settings.http.public_url,
            timeout,
        )?;
        let messages: Vec<(Uuid, String)> = (0..n).map(|i| (Uuid::new_v4(), phone(i))).collect();
        futures_util::stream::iter(messages)
            .map(|(id, to)| {
                let (provider, body) = (&provider, &body);
                async move {
                    let outbound = Outbound { id, to: &to, body };
                    match provider.send(&outbound).await {
                        SendOutcome::Accepted { .. } => Ok(()),
                        other => bail!("the provider did not accept a send: {other:?}"),
                    }
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<()>()
            .await
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Stage 3: the dispatcher.

struct DispatchRound {
    rate: Rate,
    /// From the N-th request to the last survey seen open.
    drain: Duration,
    db: DbWork,
    duplicates: u64,
}

async fn dispatch_round(n: usize, replicas: usize) -> anyhow::Result<DispatchRound> {
    let database = database_name();
    let result = dispatch_measure(&database, n, replicas).await;
    drop_database(&database).await;
    result
}

async fn dispatch_measure(
    database: &str,
    n: usize,
    replicas: usize,
) -> anyhow::Result<DispatchRound> {
    let server = SinkServer::start(n).await?;
    let settings = settings(database, &server.url)?;
    prepare_database(&settings, n).await?;
    let before = db_counters(database).await?;

    let shutdown = CancellationToken::new();
    let mut dispatchers = Vec::with_capacity(replicas);
    // Whatever fails, the dispatchers started so far are stopped before the database is
    // dropped.
    let measured = async {
        for _ in 0..replicas {
            dispatchers.push(postcall::app::start(settings.clone(), shutdown.clone()).await?);
        }
        let rate = server.timed().await?;
        let pool = PgPool::connect(&settings.database.url).await?;
        let checked = async {
            let drain = drain(&pool, n, &server.sink).await?;
            verify(&pool, n, &server.sink).await?;
            anyhow::Ok(drain)
        }
        .await;
        pool.close().await;
        anyhow::Ok((rate, checked?))
    }
    .await;
    shutdown.cancel();
    for running in dispatchers {
        tokio::time::timeout(Duration::from_secs(15), running.wait())
            .await
            .context("a dispatcher did not stop within 15 s")??;
    }
    let (rate, drain) = measured?;
    // Replicas that kept going after the check would show here.
    let duplicates = server.sink.duplicates();
    if let Some(fault) = server.sink.faults().filter(|_| duplicates == 0) {
        bail!("{fault}");
    }
    let after = db_counters(database).await?;
    Ok(DispatchRound {
        rate,
        drain,
        db: db_work(before, after, n),
        duplicates,
    })
}

// ---------------------------------------------------------------------------------------
// Stage 4: the dispatcher's own rounds, one at a time, timed from outside.

/// postcall's webhook provider, noting when each send started and got its answer.
struct TimedProvider {
    inner: Webhook,
    sends: Mutex<Vec<(Instant, Instant)>>,
}

impl SmsProvider for TimedProvider {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        let began = Instant::now();
        let outcome = self.inner.send(message).await;
        let answered = Instant::now();
        self.sends
            .lock()
            .expect("sends lock")
            .push((began, answered));
        outcome
    }
}

/// A round's time, split at its first provider request and its last answer: before, the
/// round rescues expired leases, starts due surveys and claims a batch; after, the last
/// outcomes are recorded (each message is recorded as soon as its own answer arrives, so
/// recording also overlaps the sends).
#[derive(Clone, Copy, Default)]
struct Split {
    before: Duration,
    sends: Duration,
    after: Duration,
}

#[derive(Clone)]
struct PhasesRound {
    rate: Rate,
    batches: usize,
    /// Per batch, averaged over the batches.
    split: Split,
    /// Median over every send, provider answer included.
    send_ms: f64,
    statements: Vec<Statement>,
}

async fn phases_round(n: usize) -> anyhow::Result<PhasesRound> {
    let database = database_name();
    let result = phases_measure(&database, n).await;
    drop_database(&database).await;
    result
}

/// `Dispatcher::round`, exactly as `Dispatcher::run` calls it while there is work, with a
/// clock around each call and around each provider request, and every SQL statement's
/// client-side duration tallied from sqlx's own query events.
async fn phases_measure(database: &str, n: usize) -> anyhow::Result<PhasesRound> {
    let server = SinkServer::start(n).await?;
    let settings = settings(database, &server.url)?;
    prepare_database(&settings, n).await?;
    // As `app::start` builds them.
    let pool = db::connect(&settings.database).await?;
    let provider = Arc::new(TimedProvider {
        inner: Webhook::new(
            &settings.provider.webhook,
            &settings.http.public_url,
            Duration::from_secs(settings.dispatch.request_timeout_seconds),
        )?,
        sends: Mutex::new(Vec::with_capacity(n)),
    });
    let dispatcher = Dispatcher::new(
        &settings,
        pool.clone(),
        provider.clone(),
        CancellationToken::new(),
    )?;
    STATEMENTS.start();
    let rounds = drive(&dispatcher, &provider, &server.sink, n).await;
    let statements = STATEMENTS.stop();
    let checked = match rounds {
        Ok(round) => verify(&pool, n, &server.sink).await.map(|()| round),
        Err(e) => Err(e),
    };
    pool.close().await;
    if let Some(fault) = server.sink.faults() {
        bail!("{fault}");
    }
    let mut round = checked?;
    round.statements = statements;
    Ok(round)
}

async fn drive(
    dispatcher: &Dispatcher<TimedProvider>,
    provider: &TimedProvider,
    sink: &Sink,
    n: usize,
) -> anyhow::Result<PhasesRound> {
    let (began, ticks) = (Instant::now(), cpu_ticks());
    let (mut total, mut batches, mut sends) = (Split::default(), 0u32, Vec::with_capacity(n));
    while usize::try_from(sink.requests())? < n {
        if began.elapsed() > STAGE_TIMEOUT {
            bail!("{} of {n} sent after {STAGE_TIMEOUT:?}", sink.requests());
        }
        let t = Instant::now();
        let busy = dispatcher.round().await?;
        let done = Instant::now();
        let round = std::mem::take(&mut *provider.sends.lock().expect("sends lock"));
        let first = round.iter().map(|(b, _)| *b).min();
        let last = round.iter().map(|(_, a)| *a).max();
        let (Some(first), Some(last)) = (first, last) else {
            if !busy {
                bail!("a round found no work with {} of {n} sent", sink.requests());
            }
            continue;
        };
        total.before += first - t;
        total.sends += last - first;
        total.after += done - last;
        batches += 1;
        sends.extend(round.iter().map(|(b, a)| (*a - *b).as_secs_f64() * 1e3));
    }
    let elapsed = began.elapsed();
    let per_batch = |d: Duration| d / batches.max(1);
    Ok(PhasesRound {
        rate: Rate {
            per_second: n as f64 / elapsed.as_secs_f64(),
            cpu: cpu_use(ticks, cpu_ticks(), elapsed),
            seconds: elapsed.as_secs_f64(),
        },
        batches: batches as usize,
        split: Split {
            before: per_batch(total.before),
            sends: per_batch(total.sends),
            after: per_batch(total.after),
        },
        send_ms: median(&sends),
        statements: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------
// SQL statements, tallied from sqlx's `sqlx::query` events while the phases stage runs.
// sqlx logs each statement's client-side duration (from sending it to its last row, so
// including any wait behind another statement on the same connection, not the wait for a
// pool connection); it does not log `BEGIN` or the ping with which the pool checks a
// connection before handing it out.

#[derive(Clone, Default)]
struct Statement {
    label: String,
    count: u64,
    seconds: f64,
}

struct Tally {
    on: AtomicBool,
    by_sql: Mutex<BTreeMap<String, (u64, f64)>>,
}

static STATEMENTS: Tally = Tally {
    on: AtomicBool::new(false),
    by_sql: Mutex::new(BTreeMap::new()),
};

impl Tally {
    fn start(&self) {
        self.by_sql.lock().expect("tally lock").clear();
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops tallying; returns the statements, the costliest first.
    fn stop(&self) -> Vec<Statement> {
        self.on.store(false, Ordering::SeqCst);
        let by_sql = std::mem::take(&mut *self.by_sql.lock().expect("tally lock"));
        let mut statements: Vec<Statement> = by_sql
            .into_iter()
            .map(|(sql, (count, seconds))| Statement {
                label: label(&sql),
                count,
                seconds,
            })
            .collect();
        statements.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        statements
    }
}

/// The statement on one line, cut where statements still differ (`WITH due AS (SELECT id
/// FROM surveys` and `… FROM messages` share their first words).
fn label(sql: &str) -> String {
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(52) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[derive(Default)]
struct QueryEvent {
    summary: String,
    statement: String,
    seconds: Option<f64>,
}

impl tracing::field::Visit for QueryEvent {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.seconds = Some(value);
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

struct TallyLayer;

impl<S: tracing::Subscriber> Layer<S> for TallyLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: layer::Context<'_, S>) {
        let mut query = QueryEvent::default();
        event.record(&mut query);
        let Some(seconds) = query.seconds else {
            return;
        };
        // sqlx leaves the statement empty when the summary is all of it.
        let sql = if query.statement.is_empty() {
            query.summary
        } else {
            query.statement
        };
        let mut by_sql = STATEMENTS.by_sql.lock().expect("tally lock");
        let entry = by_sql.entry(sql).or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }
}

/// Lets sqlx's query events through only while the tally is on: the rest of the time sqlx
/// sees them disabled and skips building them, as with no subscriber at all.
struct WhileTallying;

impl<S> layer::Filter<S> for WhileTallying {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: &layer::Context<'_, S>) -> bool {
        meta.target() == "sqlx::query" && STATEMENTS.on.load(Ordering::Relaxed)
    }

    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rounds and the report.

#[derive(Default)]
struct Results {
    http: Vec<Rate>,
    provider: Vec<Rate>,
    dispatch: Vec<DispatchRound>,
    phases: Vec<PhasesRound>,
    duplicates: u64,
}

async fn run(args: &Args) -> anyhow::Result<Results> {
    let wants = |s: Stage| args.stage.is_none_or(|only| only == s);
    let mut results = Results::default();
    for round in 1..=args.rounds {
        let mut line = format!("round {round}/{}:", args.rounds);
        if wants(Stage::Http) {
            let r = http_round(args.messages).await.context("http stage")?;
            line += &format!("  http {}/s", k(r.rate.per_second));
            results.duplicates += r.duplicates;
            results.http.push(r.rate);
        }
        if wants(Stage::Provider) {
            let r = provider_round(args.messages)
                .await
                .context("provider stage")?;
            line += &format!("  provider {}/s", k(r.rate.per_second));
            results.duplicates += r.duplicates;
            results.provider.push(r.rate);
        }
        if wants(Stage::Dispatch) {
            let r = dispatch_round(args.messages, args.replicas)
                .await
                .context("dispatch stage")?;
            line += &format!("  dispatch {} SMS/s", k(r.rate.per_second));
            if r.duplicates > 0 {
                line += &format!(" ({} DUPLICATE sends)", r.duplicates);
            }
            results.duplicates += r.duplicates;
            results.dispatch.push(r);
        }
        if wants(Stage::Phases) {
            let r = phases_round(args.messages).await.context("phases stage")?;
            line += &format!("  phases {} SMS/s", k(r.rate.per_second));
            results.phases.push(r);
        }
        println!("{line}");
    }
    Ok(results)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.is_empty() {
        f64::NAN
    } else if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

fn spread(values: &[f64]) -> String {
    let (min, max) = min_max(values);
    format!("{}–{}", k(min), k(max))
}

/// 12345.6 → "12.3k", 1234.5 → "1.23k": 3 digits are all the noise allows.
fn k(value: f64) -> String {
    if value < 1e4 {
        format!("{:.2}k", value / 1e3)
    } else {
        format!("{:.1}k", value / 1e3)
    }
}

/// Median of per-round ratios (rounds interleave stages, so each ratio pairs two
/// measurements taken seconds apart), with their range.
fn ratio(values: &[f64], baseline: &[f64]) -> String {
    if baseline.is_empty() {
        return "n/a (no http stage)".to_owned();
    }
    let ratios: Vec<f64> = values.iter().zip(baseline).map(|(v, b)| v / b).collect();
    let (min, max) = min_max(&ratios);
    format!("{:.2} ({min:.2}–{max:.2})", median(&ratios))
}

fn print_table(results: &Results, args: &Args) {
    let (batch, pool) = shape();
    let http: Vec<f64> = results.http.iter().map(|r| r.per_second).collect();
    let provider: Vec<f64> = results.provider.iter().map(|r| r.per_second).collect();
    let dispatch: Vec<f64> = results.dispatch.iter().map(|r| r.rate.per_second).collect();
    let phases: Vec<f64> = results.phases.iter().map(|r| r.rate.per_second).collect();
    let dispatch_name = format!("postcall dispatch x{}", args.replicas);
    println!();
    println!(
        "{:<24}{:<15}{:<16}ratio to http",
        "stage", "median SMS/s", "spread"
    );
    for (name, rates) in [
        ("http (no db)", &http),
        ("postcall provider", &provider),
        (dispatch_name.as_str(), &dispatch),
        ("phases (round by round)", &phases),
    ] {
        if !rates.is_empty() {
            let (m, s) = (k(median(rates)), spread(rates));
            println!("{name:<24}{m:<15}{s:<16}{}", ratio(rates, &http));
        }
    }
    if !results.dispatch.is_empty() {
        print_dispatch(&results.dispatch);
    }
    if !results.phases.is_empty() {
        print_phases(&results.phases, batch, pool);
    }
    print_cpu(results, &dispatch_name);
}

fn print_dispatch(rounds: &[DispatchRound]) {
    let m = |f: fn(&DispatchRound) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
    println!();
    println!(
        "dispatch, per SMS: {:.0} µs of wall time; PostgreSQL {:.2} commits, {:.2} KiB WAL, \
         {:.2} WAL fsyncs; last outcome recorded {:.0} ms after the last send",
        m(|r| 1e6 / r.rate.per_second),
        m(|r| r.db.commits),
        m(|r| r.db.wal_kib),
        m(|r| r.db.fsyncs),
        m(|r| r.drain.as_secs_f64() * 1e3),
    );
}

fn print_phases(rounds: &[PhasesRound], batch: u32, pool: u32) {
    let m = |f: &dyn Fn(&PhasesRound) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
    let ms = |f: fn(&Split) -> Duration| m(&|r: &PhasesRound| f(&r.split).as_secs_f64() * 1e3);
    let (before, sends, after) = (ms(|s| s.before), ms(|s| s.sends), ms(|s| s.after));
    let total = before + sends + after;
    println!();
    println!(
        "where a batch's time goes (phases stage: Dispatcher::round in a loop, {:.0} batches of \
         up to {batch} per round, medians):",
        m(&|r| r.batches as f64)
    );
    println!(
        "{:<48}{:>9}  {:>5}",
        "part of Dispatcher::round", "ms/batch", "share"
    );
    for (name, value) in [
        ("before the first send (rescue, start_due, claim)", before),
        ("first request to last answer", sends),
        ("after the last answer (recording the last ones)", after),
    ] {
        println!("{name:<48}{value:>9.2}  {:>4.0} %", value / total * 100.0);
    }
    println!("{:<48}{total:>9.2}", "batch total");
    println!(
        "provider request (send to answer), median {:.2} ms",
        m(&|r| r.send_ms)
    );

    // Summed over every round, per batch: statements are few enough per round that a
    // median of per-round figures would add nothing but noise.
    let batches: usize = rounds.iter().map(|r| r.batches).sum();
    let mut merged: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for s in rounds.iter().flat_map(|r| &r.statements) {
        let entry = merged.entry(&s.label).or_default();
        entry.0 += s.count;
        entry.1 += s.seconds;
    }
    let mut merged: Vec<_> = merged.into_iter().collect();
    merged.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    let per_batch = |v: f64| v / batches.max(1) as f64;
    println!();
    println!(
        "SQL statements per batch, client-side (sqlx's own timing: the statement's round trip, \
         not the wait for a pool connection; BEGIN and the pool's ping before each checkout are \
         not logged):"
    );
    println!(
        "{:>8}{:>10}{:>10}  statement",
        "calls", "ms each", "ms/batch"
    );
    let mut busy = 0.0;
    for (label, (count, seconds)) in &merged {
        let each = seconds * 1e3 / *count as f64;
        let sum = per_batch(seconds * 1e3);
        busy += sum;
        println!(
            "{:>8.1}{each:>10.3}{sum:>10.2}  {label}",
            per_batch(*count as f64)
        );
    }
    println!(
        "{:>28.2}  in all: {:.1} of the pool's {pool} connections busy in statements on average",
        busy,
        busy / total
    );
}

/// CPU in cores over each stage's timed window, median over rounds: shows whether this
/// process or PostgreSQL is the one working, and how busy other tenants are; and what that
/// is in CPU time per SMS. The http and provider windows last a fraction of a second, so
/// their figures are coarse (/proc counts in 10 ms ticks).
fn print_cpu(results: &Results, dispatch_name: &str) {
    let rates = |rounds: &mut dyn Iterator<Item = Rate>| rounds.collect::<Vec<_>>();
    let groups = [
        ("http (no db)", rates(&mut results.http.iter().copied())),
        (
            "postcall provider",
            rates(&mut results.provider.iter().copied()),
        ),
        (
            dispatch_name,
            rates(&mut results.dispatch.iter().map(|r| r.rate)),
        ),
        (
            "phases (round by round)",
            rates(&mut results.phases.iter().map(|r| r.rate)),
        ),
    ];
    println!();
    println!(
        "{:<24}{:<9}{:<12}{:<10}{:<10}CPU µs per SMS: bench / postgres",
        "cpu cores", "window", "bench proc", "postgres", "machine"
    );
    for (name, rounds) in groups.iter().filter(|(_, r)| !r.is_empty()) {
        let m = |f: &dyn Fn(&Rate) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
        println!(
            "{name:<24}{:<9}{:<12.2}{:<10.2}{:<10.2}{:.0} / {:.0}",
            format!("{:.2} s", m(&|r| r.seconds)),
            m(&|r| r.cpu.bench),
            m(&|r| r.cpu.postgres),
            m(&|r| r.cpu.machine),
            m(&|r| r.cpu.bench / r.per_second * 1e6),
            m(&|r| r.cpu.postgres / r.per_second * 1e6),
        );
    }
    println!(
        "(machine: all tenants' busy cores; bench proc: client and provider, or dispatcher and provider)"
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    for (key, value) in tuning_overrides() {
        println!("override {key}={value}");
    }
    let (batch, pool) = shape();
    println!(
        "messages {} per round, {} rounds, {} dispatcher replica(s), batch {batch}, pool {pool}, \
         {} cores",
        args.messages,
        args.rounds,
        args.replicas,
        cores()
    );
    match run(&args).await {
        Ok(results) => {
            print_table(&results, &args);
            let sends = results.http.len() + results.provider.len() + results.dispatch.len();
            println!();
            if results.duplicates > 0 {
                println!(
                    "exactly-once: FAIL ({} message ids reached the provider more than once)",
                    results.duplicates
                );
                return ExitCode::FAILURE;
            }
            println!(
                "exactly-once: OK ({} runs of {} sends, no id twice; every survey open, every \
                 message queued after one attempt)",
                sends + results.phases.len(),
                args.messages
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Quiet by default; `BENCH_LOG=postcall=debug,sqlx=debug` shows the dispatcher's rounds
/// and each statement's duration. The statement tally of the phases stage is always
/// installed; it lets events through only while that stage runs.
fn init_tracing() {
    let log = std::env::var("BENCH_LOG").ok().map(|filter| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(tracing_subscriber::EnvFilter::new(filter))
    });
    tracing_subscriber::registry()
        .with(TallyLayer.with_filter(WhileTallying))
        .with(log)
        .init();
}

/// The dispatcher's batch size and pool size, as configured for this run.
fn shape() -> (u32, u32) {
    settings("unused", "http://unused").map_or((0, 0), |s| {
        (s.dispatch.batch_size, s.database.max_connections)
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
