//! Ingest throughput, measured against the local RabbitMQ and PostgreSQL.
//!
//! The machine is shared and noisy, so absolute numbers mean little: every figure is shown
//! next to a baseline taken in the same run, and each stage is repeated (rounds interleave
//! the stages, so a noisy minute hits all of them alike).
//!
//! - `broker`: publish N events to a fresh quorum queue, then consume them with no database
//!   work: the ceiling RabbitMQ + lapin allow here.
//! - `ingest`: the same N events consumed by the real worker (`postcall::app::start`) into a
//!   fresh database; reported as a ratio to `broker`.
//! - `nodelay`: single large `INSERT … UNNEST` statements vs 1-row ones; fails the run if the
//!   large ones wait for a delayed ACK (DESIGN.md §7, sqlx#4335).
//!
//! `cargo bench --bench ingest -- [--events N] [--rounds R] [--stage broker|ingest|nodelay]
//! [--replicas W]`; `POSTCALL__*` variables tune the worker, `BENCH_LOG` turns its logs on.

use std::{
    collections::HashMap,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeleteOptions,
    },
    types::FieldTable,
};
use postcall::config::Settings;
use sqlx::{Connection as _, Executor, PgConnection, PgPool, postgres::PgPoolOptions};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const ROUTING_KEY: &str = "call.completed";
/// Broker baseline consumer settings: the worker's default prefetch, and an ack-multiple
/// per 500 deliveries as the worker acks once per 500-event batch.
const PREFETCH: u16 = 2000;
const ACK_EVERY: usize = 500;
/// Confirms are awaited in chunks after everything is published, so publishing never
/// waits for a round trip.
const CONFIRM_CHUNK: usize = 1000;
const POLL: Duration = Duration::from_millis(20);
/// Nothing here should take this long; a hang is reported rather than waited out.
const STAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Linux's minimum delayed-ACK timeout: a statement stalled by Nagle waits at least this.
const DELAYED_ACK_FLOOR_MS: f64 = 40.0;
const BATCH_ROWS: usize = 500;
const BATCH_STATEMENTS: usize = 40;
const SINGLES_PER_BATCH: usize = 5;
/// USER_HZ: /proc reports CPU time in these ticks; 100 on every mainstream Linux build.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Broker,
    Ingest,
    Nodelay,
}

struct Args {
    events: usize,
    rounds: usize,
    /// Workers started in-process on the same queue, as that many replicas would be; 1
    /// measures one worker, more show how far concurrent batches get on this machine.
    replicas: usize,
    stage: Option<Stage>,
}

/// Hand-parsed: cargo adds `--bench`, and anything unknown is ignored rather than fatal.
fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        events: 50_000,
        rounds: 5,
        replicas: 1,
        stage: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => args.events = value(&mut it, "--events")?,
            "--rounds" => args.rounds = value(&mut it, "--rounds")?,
            "--replicas" => args.replicas = value(&mut it, "--replicas")?,
            "--stage" => args.stage = Some(stage(&value::<String>(&mut it, "--stage")?)?),
            _ => {}
        }
    }
    if args.events < 2 * BATCH_ROWS || args.rounds == 0 || args.replicas == 0 {
        bail!(
            "need --events >= {}, --rounds >= 1, --replicas >= 1",
            2 * BATCH_ROWS
        );
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
        "broker" => Stage::Broker,
        "ingest" => Stage::Ingest,
        "nodelay" => Stage::Nodelay,
        other => bail!("--stage must be broker, ingest or nodelay, got {other:?}"),
    })
}

// ---------------------------------------------------------------------------------------
// Names: one database and one set of exchanges/queues per measurement.

struct Names {
    database: String,
    exchange: String,
    queue: String,
    dlx: String,
    dlq: String,
}

impl Names {
    fn new() -> Self {
        let id = Uuid::new_v4().simple().to_string();
        Self {
            database: format!("postcall_bench_{id}"),
            exchange: format!("calls.bench-{id}"),
            queue: format!("postcall.call-completed.bench-{id}"),
            dlx: format!("postcall.dlx.bench-{id}"),
            dlq: format!("postcall.call-completed.dead.bench-{id}"),
        }
    }

    fn database_url(&self) -> String {
        format!("{PG_SERVER}/{}", self.database)
    }

    /// The shipped defaults (batch 500, prefetch 2000, linger 20 ms) with only the
    /// addresses and names replaced: the bench measures what production runs. Tuning can be
    /// tried without editing code: `POSTCALL__*` variables of this process are passed on,
    /// except the addresses and names, which stay the bench's own.
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut env = tuning_overrides();
        let own: HashMap<String, String> = [
            ("POSTCALL__DATABASE__URL", self.database_url()),
            ("POSTCALL__AMQP__URL", AMQP_URL.to_owned()),
            ("POSTCALL__AMQP__EXCHANGE", self.exchange.clone()),
            ("POSTCALL__AMQP__QUEUE", self.queue.clone()),
            ("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", self.dlx.clone()),
            ("POSTCALL__AMQP__DEAD_LETTER_QUEUE", self.dlq.clone()),
            ("POSTCALL__HTTP__BIND", "127.0.0.1:0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(own);
        Ok(Settings::load_from(None, Some(env))?)
    }
}

fn tuning_overrides() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("POSTCALL__"))
        .collect()
}

async fn admin() -> anyhow::Result<PgConnection> {
    PgConnection::connect(&format!("{PG_SERVER}/postgres"))
        .await
        .context("connecting to PostgreSQL at 127.0.0.1:5432")
}

async fn create_database(names: &Names) -> anyhow::Result<()> {
    let sql = format!("CREATE DATABASE \"{}\"", names.database);
    admin().await?.execute(sql.as_str()).await?;
    Ok(())
}

async fn drop_database(names: &Names) {
    let sql = format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        names.database
    );
    if let Ok(mut conn) = admin().await
        && let Err(e) = conn.execute(sql.as_str()).await
    {
        eprintln!("warning: could not drop {}: {e}", names.database);
    }
}

async fn amqp_connect(name: &str) -> anyhow::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(AMQP_URL, properties),
    )
    .await
    .context("connecting to RabbitMQ timed out")?
    .context("connecting to RabbitMQ at 127.0.0.1:5672")
}

/// Declared through postcall itself, so the baseline queue has exactly the worker's shape
/// (quorum, dead-lettering) and the worker's own re-declare is a no-op.
async fn declare(channel: &Channel, names: &Names) -> anyhow::Result<()> {
    postcall::amqp::declare_topology(channel, &names.settings()?.amqp).await
}

async fn delete_topology(names: &Names) {
    let Ok(connection) = amqp_connect("postcall-bench-cleanup").await else {
        eprintln!(
            "warning: could not reach RabbitMQ to delete {}",
            names.queue
        );
        return;
    };
    if let Ok(channel) = connection.create_channel().await {
        for q in [&names.queue, &names.dlq] {
            let _ = channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for x in [&names.exchange, &names.dlx] {
            let options = ExchangeDeleteOptions::default();
            let _ = channel.exchange_delete(x.as_str().into(), options).await;
        }
    }
    let _ = connection.close(200, "bench done".into()).await;
}

// ---------------------------------------------------------------------------------------
// Events and publishing.

/// N valid call.completed bodies: distinct call_ids and phones (so every one is scheduled
/// in a fresh database), ended a minute ago, answered, 5 minutes of talk. Serialized up
/// front so that JSON encoding is not timed as publishing.
fn event_bodies(n: usize) -> Vec<Vec<u8>> {
    let run = Uuid::new_v4().simple().to_string();
    let ended = Utc::now() - TimeDelta::minutes(1);
    let answered = ended - TimeDelta::minutes(5);
    let started = answered - TimeDelta::seconds(40);
    (0..n)
        .map(|i| {
            let body = serde_json::json!({
                "event_id": Uuid::new_v4().to_string(),
                "call_id": format!("bench-{run}-{i}"),
                "customer_phone": format!("+86139{i:08}"),
                "agent_id": format!("agent-{}", i % 50),
                "queue": "payment",
                "started_at": started.to_rfc3339(),
                "answered_at": answered.to_rfc3339(),
                "ended_at": ended.to_rfc3339(),
                "disposition": "completed",
                "language": "zh-CN",
            });
            serde_json::to_vec(&body).expect("a json! value serializes")
        })
        .collect()
}

/// Publishes every body (persistent, JSON, confirms on) and returns events/s, confirms
/// included.
async fn publish_all(channel: &Channel, exchange: &str, bodies: &[Vec<u8>]) -> anyhow::Result<f64> {
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2);
    let started = Instant::now();
    let mut confirms = Vec::with_capacity(bodies.len());
    for body in bodies {
        let options = BasicPublishOptions::default();
        let confirm = channel
            .basic_publish(
                exchange.into(),
                ROUTING_KEY.into(),
                options,
                body,
                properties.clone(),
            )
            .await?;
        confirms.push(confirm);
    }
    for chunk in confirms.chunks_mut(CONFIRM_CHUNK) {
        for confirmation in futures_util::future::try_join_all(chunk.iter_mut()).await? {
            if !confirmation.is_ack() {
                bail!("the broker did not accept a published event: {confirmation:?}");
            }
        }
    }
    Ok(bodies.len() as f64 / started.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------------------
// CPU accounting: where the time goes, per process group, over a timed window.

#[derive(Clone, Copy, Default)]
struct CpuTicks {
    bench: u64,
    postgres: u64,
    rabbitmq: u64,
    machine_busy: u64,
}

/// Cores used over a window. `bench` is this process: the publisher/consumer in the
/// broker stage, the worker itself in the ingest stage. `machine` includes other tenants.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    bench: f64,
    postgres: f64,
    rabbitmq: f64,
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
        match comm.trim() {
            "postgres" => t.postgres += process_ticks(&pid).unwrap_or(0),
            "beam.smp" => t.rabbitmq += process_ticks(&pid).unwrap_or(0),
            _ => {}
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
        rabbitmq: cores(from.rabbitmq, to.rabbitmq),
        machine: cores(from.machine_busy, to.machine_busy),
    }
}

/// A started clock with the CPU counters at its start.
struct Window {
    started: Instant,
    ticks: CpuTicks,
}

impl Window {
    fn start() -> Self {
        Self {
            started: Instant::now(),
            ticks: cpu_ticks(),
        }
    }

    /// Items per second over the window, with the CPU used meanwhile.
    fn finish(self, items: usize) -> Rate {
        let elapsed = self.started.elapsed();
        Rate {
            per_second: items as f64 / elapsed.as_secs_f64(),
            cpu: cpu_use(self.ticks, cpu_ticks(), elapsed),
        }
    }
}

#[derive(Clone, Copy)]
struct Rate {
    per_second: f64,
    cpu: CpuUse,
}

// ---------------------------------------------------------------------------------------
// Stage 1: the broker alone.

struct BrokerRound {
    publish: f64,
    consume: Rate,
}

async fn broker_round(n: usize) -> anyhow::Result<BrokerRound> {
    let names = Names::new();
    let result = broker_measure(&names, n).await;
    delete_topology(&names).await;
    result
}

async fn broker_measure(names: &Names, n: usize) -> anyhow::Result<BrokerRound> {
    let bodies = event_bodies(n);
    let publisher = amqp_connect("postcall-bench-publisher").await?;
    let channel = publisher.create_channel().await?;
    declare(&channel, names).await?;
    let publish = publish_all(&channel, &names.exchange, &bodies).await?;
    // A second connection, as the worker has its own: publisher and consumer do not share
    // a socket or an io loop.
    let consumer = amqp_connect("postcall-bench-consumer").await?;
    let consume = tokio::time::timeout(STAGE_TIMEOUT, consume_all(&consumer, &names.queue, n))
        .await
        .context("consuming the backlog timed out")??;
    let _ = consumer.close(200, "bench done".into()).await;
    let _ = publisher.close(200, "bench done".into()).await;
    Ok(BrokerRound { publish, consume })
}

/// Consumes n deliveries, acking multiple every ACK_EVERY. The clock starts at the first
/// delivery (as the ingest clock starts at the first commit), so consumer setup is not
/// counted; the n-1 deliveries after it are.
async fn consume_all(connection: &Connection, queue: &str, n: usize) -> anyhow::Result<Rate> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await?;
    let options = BasicConsumeOptions::default();
    let mut consumer = channel
        .basic_consume(queue.into(), "".into(), options, FieldTable::default())
        .await?;
    let mut window = None;
    let mut last_tag = 0;
    for received in 1..=n {
        let delivery = consumer
            .next()
            .await
            .context("the consumer stream ended")??;
        window.get_or_insert_with(Window::start);
        last_tag = delivery.delivery_tag;
        if received.is_multiple_of(ACK_EVERY) {
            channel
                .basic_ack(last_tag, BasicAckOptions { multiple: true })
                .await?;
        }
    }
    if !n.is_multiple_of(ACK_EVERY) {
        channel
            .basic_ack(last_tag, BasicAckOptions { multiple: true })
            .await?;
    }
    Ok(window.expect("n >= 1").finish(n - 1))
}

// ---------------------------------------------------------------------------------------
// Stage 2: the worker.

async fn ingest_round(n: usize, replicas: usize) -> anyhow::Result<Rate> {
    let names = Names::new();
    let result = ingest_measure(&names, n, replicas).await;
    delete_topology(&names).await;
    drop_database(&names).await;
    result
}

async fn ingest_measure(names: &Names, n: usize, replicas: usize) -> anyhow::Result<Rate> {
    create_database(names).await?;
    let bodies = event_bodies(n);
    let publisher = amqp_connect("postcall-bench-publisher").await?;
    let channel = publisher.create_channel().await?;
    declare(&channel, names).await?;
    publish_all(&channel, &names.exchange, &bodies).await?;
    let _ = publisher.close(200, "bench done".into()).await;

    let shutdown = CancellationToken::new();
    let mut workers = Vec::with_capacity(replicas);
    // Whatever fails, the workers started so far are stopped before the database and
    // queues they use are dropped.
    let rate = async {
        for _ in 0..replicas {
            workers.push(postcall::app::start(names.settings()?, shutdown.clone()).await?);
        }
        poll_rows(names, n).await
    }
    .await;
    shutdown.cancel();
    for running in workers {
        tokio::time::timeout(Duration::from_secs(15), running.wait())
            .await
            .context("a worker did not stop within 15 s")??;
    }
    rate
}

/// The poller has its own one-connection pool: it must not queue behind the worker's.
async fn poll_rows(names: &Names, n: usize) -> anyhow::Result<Rate> {
    let poller = PgPoolOptions::new()
        .max_connections(1)
        .connect(&names.database_url())
        .await?;
    let rate = tokio::time::timeout(STAGE_TIMEOUT, time_rows(&poller, n))
        .await
        .with_context(|| format!("fewer than {n} calls recorded after {STAGE_TIMEOUT:?}"));
    poller.close().await;
    rate?
}

/// The whole backlog is queued before the worker starts, and the clock starts at the first
/// poll that sees committed rows, not at `app::start`: connecting, migrating, declaring and
/// filling the prefetch window are startup. From the first commit on, the worker runs
/// against a full queue (steady state), so rows committed after the first sighting divided
/// by the time since is its consumption rate. (Publishing into a running worker instead
/// would measure the publisher, which shares these 2 cores.) Each end is seen within one
/// 20 ms poll: under 1 % of a multi-second window.
async fn time_rows(pool: &PgPool, n: usize) -> anyhow::Result<Rate> {
    let (window, first) = loop {
        let rows = count_calls(pool).await?;
        if rows > 0 {
            break (Window::start(), rows);
        }
        tokio::time::sleep(POLL).await;
    };
    if first >= n {
        bail!("all {n} events were committed before the first poll; use more --events");
    }
    loop {
        let rows = count_calls(pool).await?;
        if rows >= n {
            return Ok(window.finish(n - first));
        }
        tokio::time::sleep(next_poll(&window, rows - first, n - rows)).await;
    }
}

/// Every `count(*)` scans the growing table (3–7 ms at 50 k rows): polled every 20 ms
/// throughout, that is PostgreSQL CPU taken from the worker under test. So, far from the
/// end, sleep through half the remaining time the rate so far predicts; close to it, poll
/// every 20 ms, which keeps the end as sharp as constant polling would.
fn next_poll(window: &Window, done: usize, remaining: usize) -> Duration {
    if done == 0 {
        return POLL;
    }
    let per_row = window.started.elapsed().as_secs_f64() / done as f64;
    POLL.max(Duration::from_secs_f64(per_row * remaining as f64 / 2.0))
}

async fn count_calls(pool: &PgPool) -> anyhow::Result<usize> {
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM calls")
        .fetch_one(pool)
        .await?;
    Ok(rows.try_into()?)
}

// ---------------------------------------------------------------------------------------
// Stage 3: no Nagle on sqlx's sockets.

struct NodelayRound {
    batch_ms: f64,
    single_ms: f64,
    rows_per_second: f64,
    statement_bytes: usize,
    /// Statements (of either size) at or above the delayed-ACK floor: a stall that hits only
    /// some statements would not move the median, but shows here.
    stalled: usize,
    statements: usize,
}

/// Six text/timestamptz columns, like the worker's `calls` table minus the indexes: this
/// stage is about the wire, not about PostgreSQL's index maintenance.
const SCRATCH_TABLE: &str = "CREATE TABLE scratch (id text, phone text, agent text, \
    note text, started_at timestamptz, ended_at timestamptz)";
const SCRATCH_INSERT: &str = "INSERT INTO scratch SELECT * FROM unnest($1::text[], \
    $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])";

struct Rows {
    ids: Vec<String>,
    phones: Vec<String>,
    agents: Vec<String>,
    notes: Vec<String>,
    started: Vec<DateTime<Utc>>,
    ended: Vec<DateTime<Utc>>,
}

fn rows(n: usize) -> Rows {
    let now = Utc::now();
    Rows {
        ids: (0..n).map(|_| Uuid::new_v4().to_string()).collect(),
        phones: (0..n).map(|i| format!("+86139{i:08}")).collect(),
        agents: (0..n).map(|i| format!("agent-{}", i % 50)).collect(),
        // ~100 bytes of text per row: 500 rows make a ~96 KiB statement, more than one
        // segment even on loopback (64 KiB MSS): the shape DESIGN.md §7 saw stall.
        notes: (0..n).map(|i| format!("{i:0>100}")).collect(),
        started: vec![now - TimeDelta::minutes(6); n],
        ended: vec![now; n],
    }
}

/// Bytes of bound parameters on the wire: each array element carries a 4-byte length.
fn statement_bytes(rows: &Rows) -> usize {
    let text: usize = [&rows.ids, &rows.phones, &rows.agents, &rows.notes]
        .iter()
        .flat_map(|column| column.iter().map(|s| s.len() + 4))
        .sum();
    text + rows.started.len() * 2 * (8 + 4)
}

async fn insert(pool: &PgPool, rows: &Rows) -> anyhow::Result<f64> {
    let started = Instant::now();
    sqlx::query(SCRATCH_INSERT)
        .bind(&rows.ids)
        .bind(&rows.phones)
        .bind(&rows.agents)
        .bind(&rows.notes)
        .bind(&rows.started)
        .bind(&rows.ended)
        .execute(pool)
        .await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

async fn nodelay_round() -> anyhow::Result<NodelayRound> {
    let names = Names::new();
    let result = nodelay_measure(&names).await;
    drop_database(&names).await;
    result
}

/// Large and 1-row statements interleave on one pooled connection, so both see the same
/// noise; a few of each go first so statement preparation is not timed.
async fn nodelay_measure(names: &Names) -> anyhow::Result<NodelayRound> {
    create_database(names).await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&names.database_url())
        .await?;
    pool.execute(SCRATCH_TABLE).await?;
    let (batch, single) = (rows(BATCH_ROWS), rows(1));
    for _ in 0..3 {
        insert(&pool, &batch).await?;
        insert(&pool, &single).await?;
    }
    let (mut batch_ms, mut single_ms) = (Vec::new(), Vec::new());
    for _ in 0..BATCH_STATEMENTS {
        batch_ms.push(insert(&pool, &batch).await?);
        for _ in 0..SINGLES_PER_BATCH {
            single_ms.push(insert(&pool, &single).await?);
        }
    }
    pool.close().await;
    let total_seconds = batch_ms.iter().sum::<f64>() / 1e3;
    let all = batch_ms.iter().chain(&single_ms);
    Ok(NodelayRound {
        batch_ms: median(&batch_ms),
        single_ms: median(&single_ms),
        rows_per_second: (BATCH_ROWS * BATCH_STATEMENTS) as f64 / total_seconds,
        statement_bytes: statement_bytes(&batch),
        stalled: all.filter(|&&ms| ms >= DELAYED_ACK_FLOOR_MS).count(),
        statements: batch_ms.len() + single_ms.len(),
    })
}

// ---------------------------------------------------------------------------------------
// Rounds and the report.

#[derive(Default)]
struct Results {
    broker: Vec<BrokerRound>,
    ingest: Vec<Rate>,
    nodelay: Vec<NodelayRound>,
}

async fn run(args: &Args) -> anyhow::Result<Results> {
    let wants = |s: Stage| args.stage.is_none_or(|only| only == s);
    let mut results = Results::default();
    for round in 1..=args.rounds {
        let mut line = format!("round {round}/{}:", args.rounds);
        if wants(Stage::Broker) {
            let r = broker_round(args.events).await.context("broker stage")?;
            line += &format!(
                "  broker {} ev/s (publish {})",
                k(r.consume.per_second),
                k(r.publish)
            );
            results.broker.push(r);
        }
        if wants(Stage::Ingest) {
            let r = ingest_round(args.events, args.replicas)
                .await
                .context("ingest stage")?;
            line += &format!("  ingest {} ev/s", k(r.per_second));
            results.ingest.push(r);
        }
        if wants(Stage::Nodelay) {
            let r = nodelay_round().await.context("nodelay stage")?;
            line += &format!(
                "  500-row {:.1} ms, 1-row {:.2} ms",
                r.batch_ms, r.single_ms
            );
            results.nodelay.push(r);
        }
        println!("{line}");
    }
    Ok(results)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
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

/// 12345.6 → "12.3k": rates here are thousands per second, and 3 digits are all the
/// noise allows.
fn k(value: f64) -> String {
    format!("{:.1}k", value / 1e3)
}

/// Median of per-round ratios (rounds interleave stages, so each ratio pairs two
/// measurements taken a few seconds apart), with their range.
fn ratio(values: &[f64], baseline: &[f64]) -> String {
    if baseline.is_empty() {
        return "n/a (no broker stage)".to_owned();
    }
    let ratios: Vec<f64> = values.iter().zip(baseline).map(|(v, b)| v / b).collect();
    let (min, max) = min_max(&ratios);
    format!("{:.2} ({min:.2}–{max:.2})", median(&ratios))
}

fn print_table(results: &Results) {
    let broker: Vec<f64> = results
        .broker
        .iter()
        .map(|r| r.consume.per_second)
        .collect();
    println!();
    println!(
        "{:<22}{:<15}{:<16}ratio to broker",
        "stage", "median ev/s", "spread"
    );
    if !broker.is_empty() {
        let publish: Vec<f64> = results.broker.iter().map(|r| r.publish).collect();
        println!(
            "{:<22}{:<15}{:<16}1.00",
            "broker (no db)",
            k(median(&broker)),
            spread(&broker)
        );
        let (m, s) = (k(median(&publish)), spread(&publish));
        println!(
            "{:<22}{m:<15}{s:<16}{}",
            "publish (confirms)",
            ratio(&publish, &broker)
        );
    }
    if !results.ingest.is_empty() {
        let ingest: Vec<f64> = results.ingest.iter().map(|r| r.per_second).collect();
        let (m, s) = (k(median(&ingest)), spread(&ingest));
        println!(
            "{:<22}{m:<15}{s:<16}{}",
            "postcall ingest",
            ratio(&ingest, &broker)
        );
    }
    if !results.nodelay.is_empty() {
        print_nodelay_row(&results.nodelay, &broker);
    }
    print_cpu(results);
}

fn print_nodelay_row(rounds: &[NodelayRound], broker: &[f64]) {
    let rows: Vec<f64> = rounds.iter().map(|r| r.rows_per_second).collect();
    let batch = median(&rounds.iter().map(|r| r.batch_ms).collect::<Vec<_>>());
    let single = median(&rounds.iter().map(|r| r.single_ms).collect::<Vec<_>>());
    let (m, s) = (format!("{} rows/s", k(median(&rows))), spread(&rows));
    println!(
        "{:<22}{m:<15}{s:<16}{}",
        "500-row insert",
        ratio(&rows, broker)
    );
    println!(
        "{:<22}median {batch:.1} ms per 500-row statement (~{} KiB), {single:.2} ms per 1-row \
         ({:.1}x the latency for 500x the rows)",
        "",
        rounds[0].statement_bytes / 1024,
        batch / single
    );
}

/// CPU in cores (of 2) over each stage's timed window, median over rounds: shows whether
/// the worker, PostgreSQL or RabbitMQ is the one working, and how busy other tenants are.
fn print_cpu(results: &Results) {
    let groups = [
        (
            "broker consume",
            results
                .broker
                .iter()
                .map(|r| r.consume.cpu)
                .collect::<Vec<_>>(),
        ),
        (
            "postcall ingest",
            results.ingest.iter().map(|r| r.cpu).collect(),
        ),
    ];
    if groups.iter().all(|(_, cpu)| cpu.is_empty()) {
        return;
    }
    println!();
    println!(
        "{:<22}{:<13}{:<10}{:<10}machine (all tenants)",
        "cpu cores", "bench proc", "postgres", "rabbitmq"
    );
    for (name, cpu) in groups.iter().filter(|(_, cpu)| !cpu.is_empty()) {
        let m = |f: fn(&CpuUse) -> f64| median(&cpu.iter().map(f).collect::<Vec<_>>());
        println!(
            "{name:<22}{:<13.2}{:<10.2}{:<10.2}{:.2}",
            m(|c| c.bench),
            m(|c| c.postgres),
            m(|c| c.rabbitmq),
            m(|c| c.machine)
        );
    }
}

/// The verdict DESIGN.md §7 asks for: a large statement that waited for a delayed ACK
/// would take at least the 40 ms floor.
fn nodelay_verdict(rounds: &[NodelayRound]) -> bool {
    let batch = median(&rounds.iter().map(|r| r.batch_ms).collect::<Vec<_>>());
    let ok = batch < DELAYED_ACK_FLOOR_MS;
    let stalled: usize = rounds.iter().map(|r| r.stalled).sum();
    let statements: usize = rounds.iter().map(|r| r.statements).sum();
    println!();
    println!(
        "statements >= {DELAYED_ACK_FLOOR_MS:.0} ms: {stalled} of {statements} (Nagle would make \
         them the rule; on a shared box a few can be scheduling noise)"
    );
    if ok {
        println!(
            "nodelay: OK (500-row median {batch:.1} ms, < {DELAYED_ACK_FLOOR_MS:.0} ms delayed-ACK floor)"
        );
    } else {
        println!(
            "nodelay: FAIL (500-row median {batch:.1} ms, >= {DELAYED_ACK_FLOOR_MS:.0} ms: Nagle + delayed ACK in play)"
        );
    }
    ok
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
    println!(
        "events {} per round, {} rounds, {} worker replica(s), {} cores",
        args.events,
        args.rounds,
        args.replicas,
        cores()
    );
    match run(&args).await {
        Ok(results) => {
            print_table(&results);
            if results.nodelay.is_empty() || nodelay_verdict(&results.nodelay) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Quiet by default; `BENCH_LOG=postcall=debug,sqlx=debug` shows the worker's batches and
/// each statement's duration, which is how the time per batch can be taken apart.
fn init_tracing() {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
