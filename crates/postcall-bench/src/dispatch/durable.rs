//! The durable baseline: the least a dispatcher does that must never lose or double a
//! send, over its own table (`outbox.rs`) on the same PostgreSQL server, timed from the
//! provider's first request to the last outcome committed.
//!
//! - claim: one statement leases as many due rows as there are free slots (`FOR UPDATE
//!   SKIP LOCKED`, status `sending`, `attempts` + 1, `lease_until`) and commits without
//!   waiting for the WAL flush, as postcall's claims do: a claim lost in a crash only puts
//!   the row back, and its resend carries the same idempotency key;
//! - send: the same signed request postcall's `webhook` provider sends (body, idempotency
//!   key, signature headers) to the same provider double, one task per row;
//! - record: one statement, committed durably, for whatever outcomes arrived while the
//!   previous one was being written (at most 1,000, postcall's figure), fenced by the lease.
//!
//! A slot is held from claim until the outcome is committed, which is what
//! `dispatch.batch_size` bounds in postcall: the two keep the same number of messages in
//! flight. Every statement is its own transaction: one round trip each.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, ensure};
use postcall::channels::webhook::{
    signature::{self, Secret},
    wire::{Accepted, SendRequest},
};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};

use super::{
    backlog::{self, Counters, Work},
    floor,
    outbox::{self, Leased, Outcome},
    provider::Server,
};
use crate::{
    proc_stats::{Rate, Window},
    services::{self, Names},
};

/// The most outcomes one record statement carries, as in postcall's recorder.
const MOST: usize = 1000;

/// What the stage takes from postcall's settings, so both sides run alike.
pub struct Setup<'a> {
    pub concurrency: usize,
    pub body: &'a str,
    pub lease: Duration,
    pub request_timeout: Duration,
}

/// What the loop claims from and records into.
#[derive(Clone)]
pub enum Table {
    /// The baseline's own one-table outbox (`outbox.rs`).
    Outbox,
    /// Postcall's tables, written as little as its records allow (`floor.rs`).
    Schema(floor::First),
}

pub struct Measured {
    pub rate: Rate,
    /// Cores used by the backends of the baseline's database.
    pub own_pg_cores: f64,
    pub db: Work,
    /// Statements (each one round trip) per SMS: claims and records.
    pub round_trips: f64,
    /// Rows recorded sent after one attempt whose id the provider saw, and the requests it
    /// got: equal, and the backlog's size, when every row went out exactly once.
    pub rows_sent: usize,
    pub requests: u64,
}

/// One drain of `n` due rows, in a database of its own.
pub async fn run(n: usize, setup: &Setup<'_>, table: Table) -> anyhow::Result<Measured> {
    let names = Names::new(match &table {
        Table::Outbox => "durable",
        Table::Schema(_) => "floor",
    });
    services::create_database(&names.database).await?;
    let result = measure(&names, n, setup, table).await;
    services::drop_database(&names.database).await;
    result
}

async fn measure(
    names: &Names,
    n: usize,
    setup: &Setup<'_>,
    table: Table,
) -> anyhow::Result<Measured> {
    let server = Server::start(n).await?;
    let url = names.database_url();
    match &table {
        Table::Outbox => {
            let mut conn = PgConnection::connect(&url).await?;
            outbox::prepare(&mut conn, n, setup.body).await?;
            conn.close().await?;
        }
        Table::Schema(_) => {
            backlog::prepare(&super::settings(names, &server.url, &[])?, n).await?;
        }
    }
    let before = Counters::read(&names.database).await?;

    let options: PgConnectOptions = url.parse()?;
    let claims =
        PgConnection::connect_with(&options.options([("synchronous_commit", "off")])).await?;
    let records = PgConnection::connect(&url).await?;
    let sender = Arc::new(Sender::new(&server.url, setup.request_timeout)?);
    let lease = setup.lease.as_secs_f64();
    let looped = Loop {
        concurrency: setup.concurrency,
        lease,
        table: table.clone(),
    };
    let drain = tokio::spawn(dispatch(claims, records, sender, looped));
    // As generous as postcall's drain.
    let limit = Duration::from_secs(120).max(Duration::from_secs_f64(n as f64 / 300.0));

    server.first(Duration::from_secs(60)).await?;
    let window = Window::start();
    let backends = backlog::backend_ticks(&names.database).await?;
    let drained = tokio::time::timeout(limit, drain)
        .await
        .with_context(|| format!("the durable baseline did not finish within {limit:?}"))?
        .context("the durable baseline panicked")??;
    let after = backlog::backend_ticks(&names.database).await?;
    let rate = window.finish(n);
    let own_pg_cores = backlog::backend_cores(&backends, &after, rate.elapsed);

    let Drained {
        claims,
        mut records,
        round_trips,
    } = drained;
    let rows_sent = match &table {
        Table::Outbox => outbox::verify(&mut records, n, &server.sink).await?,
        Table::Schema(_) => {
            let pool = sqlx::PgPool::connect(&url).await?;
            let verified = backlog::verify(&pool, n, &server.sink).await;
            pool.close().await;
            verified?;
            n
        }
    };
    claims.close().await?;
    records.close().await?;
    server.sink.check()?;
    let after = Counters::read(&names.database).await?;
    Ok(Measured {
        rate,
        own_pg_cores,
        db: before.per_sms(after, n),
        round_trips: round_trips as f64 / n as f64,
        rows_sent,
        requests: server.sink.requests(),
    })
}

/// The connections, handed back open so their backends' CPU can be read; and the
/// statements run.
struct Drained {
    claims: PgConnection,
    records: PgConnection,
    round_trips: usize,
}

/// The loop's settings, owned by its task.
struct Loop {
    concurrency: usize,
    lease: f64,
    table: Table,
}

impl Table {
    async fn claim(
        &self,
        conn: &mut PgConnection,
        limit: usize,
        lease: f64,
    ) -> sqlx::Result<Vec<Leased>> {
        match self {
            Table::Outbox => outbox::claim(conn, limit, lease).await,
            Table::Schema(first) => floor::claim(conn, limit, &first.body).await,
        }
    }

    async fn record(&self, conn: &mut PgConnection, outcomes: &[Outcome]) -> sqlx::Result<u64> {
        match self {
            Table::Outbox => outbox::record(conn, outcomes).await,
            Table::Schema(first) => floor::record(conn, outcomes, first).await,
        }
    }
}

/// Claims until nothing is due, sends each row, records every outcome; returns once the
/// last is committed.
async fn dispatch(
    mut claims: PgConnection,
    records: PgConnection,
    sender: Arc<Sender>,
    looped: Loop,
) -> anyhow::Result<Drained> {
    let looped = Arc::new(looped);
    let slots = Arc::new(Semaphore::new(looped.concurrency));
    let (sent, outcomes) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_all(records, outcomes, looped.clone()));
    let mut sends = JoinSet::new();
    let mut claimed = 0;
    loop {
        let mut free = slots.clone().acquire_owned().await?;
        let more = slots.available_permits();
        if more > 0 {
            free.merge(slots.clone().try_acquire_many_owned(u32::try_from(more)?)?);
        }
        let leased = looped
            .table
            .claim(&mut claims, free.num_permits(), looped.lease)
            .await?;
        claimed += 1;
        if leased.is_empty() {
            break;
        }
        for row in leased {
            let slot = free.split(1).context("a slot per leased row")?;
            sends.spawn(send_one(sender.clone(), row, slot, sent.clone()));
        }
        while let Some(done) = sends.try_join_next() {
            done??;
        }
    }
    drop(sent);
    while let Some(done) = sends.join_next().await {
        done??;
    }
    let (records, recorded) = recorder.await??;
    Ok(Drained {
        claims,
        records,
        round_trips: claimed + recorded,
    })
}

type Sent = (Outcome, OwnedSemaphorePermit);

async fn send_one(
    sender: Arc<Sender>,
    row: Leased,
    slot: OwnedSemaphorePermit,
    sent: mpsc::UnboundedSender<Sent>,
) -> anyhow::Result<()> {
    let provider_message_id = sender.send(&row).await?;
    let outcome = Outcome {
        id: row.id,
        attempts: row.attempts,
        provider_message_id,
        survey_id: row.survey_id,
        fence: row.fence,
    };
    sent.send((outcome, slot))
        .ok()
        .context("the recorder stopped")
}

/// Writes outcomes until every sender is gone; each slot is freed once its outcome is
/// committed. Returns the connection and the statements run.
async fn record_all(
    mut conn: PgConnection,
    mut sent: mpsc::UnboundedReceiver<Sent>,
    looped: Arc<Loop>,
) -> anyhow::Result<(PgConnection, usize)> {
    let mut batch = Vec::with_capacity(MOST);
    let mut statements = 0;
    while sent.recv_many(&mut batch, MOST).await > 0 {
        let (outcomes, slots): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        let recorded = looped.table.record(&mut conn, &outcomes).await?;
        statements += 1;
        ensure!(
            recorded == outcomes.len() as u64,
            "{} of {} outcomes found their lease",
            recorded,
            outcomes.len()
        );
        drop(slots);
    }
    Ok((conn, statements))
}

/// Postcall's `webhook` send, byte for byte: the JSON body, `Idempotency-Key` and the
/// signature headers; the answer's `provider_message_id` taken.
struct Sender {
    client: reqwest::Client,
    url: String,
    secret: Secret,
}

impl Sender {
    fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            url: url.to_owned(),
            secret: Secret::parse(super::WEBHOOK_SECRET)?,
        })
    }

    async fn send(&self, row: &Leased) -> anyhow::Result<String> {
        let id = row.id.to_string();
        let body = serde_json::to_string(&SendRequest {
            id: id.clone(),
            to: row.to_phone.clone(),
            body: row.body.clone(),
            status_callback: super::STATUS_CALLBACK.to_owned(),
        })?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature::sign(&self.secret, &id, timestamp, body.as_bytes());
        let accepted: Accepted = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &id)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ensure!(!accepted.provider_message_id.is_empty(), "no provider id");
        Ok(accepted.provider_message_id)
    }
}
