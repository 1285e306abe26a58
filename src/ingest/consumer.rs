//! One ingest session: a connection, the topology, a consumer, and the pipeline that turns
//! batches of deliveries into committed rows and then acks them.

use std::{
    collections::{HashSet, VecDeque},
    time::Duration,
};

use anyhow::Context;
use futures_util::{StreamExt, stream::FuturesOrdered};
use lapin::{
    Channel,
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

use super::{
    Ingest,
    batch::{self, Batch, Limits},
    dead_letter,
    record::{self, Rules},
};
use crate::{amqp, backoff::Backoff, domain::phone, metrics};

pub async fn session(ingest: &Ingest) -> anyhow::Result<()> {
    let amqp_settings = &ingest.settings.amqp;
    let name = format!("postcall-ingest {}", amqp_settings.queue);
    let connection = amqp::connect(amqp_settings, &name).await?;
    let consume = connection
        .create_channel()
        .await
        .context("opening a channel")?;
    amqp::declare_topology(&consume, amqp_settings).await?;
    consume
        .basic_qos(ingest.settings.ingest.prefetch, BasicQosOptions::default())
        .await
        .context("setting prefetch")?;
    let publish = amqp::confirming_channel(&connection).await?;
    let consumer = consume
        .basic_consume(
            amqp_settings.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .context("starting the consumer")?;
    ingest.health.set_broker(true);
    tracing::info!(queue = %amqp_settings.queue, "ingest consuming");

    let limits = Limits {
        size: ingest.settings.ingest.batch_size,
        linger: Duration::from_millis(ingest.settings.ingest.batch_linger_ms),
    };
    // One batch waits while the previous one commits. The collector is a task of its own,
    // on another worker thread, so that parsing really overlaps the database round trips
    // (in one task, parsing a buffered batch kept the committer from reading replies).
    let (tx, rx) = mpsc::channel(1);
    let collector = AbortOnDropHandle::new(tokio::spawn(batch::collect(
        consumer,
        limits,
        tx,
        ingest.shutdown.clone(),
    )));
    let collected = async { collector.await.context("the batch collector panicked")? };
    let committed = commit_all(ingest, rx, &consume, &publish);
    let result = tokio::try_join!(collected, committed).map(|_| ());
    // Closing returns every delivery not acked to the queue, in order.
    let _ = connection
        .close(200, "postcall ingest stopping".into())
        .await;
    result
}

/// Commits batches up to `ingest.in_flight` at a time, each on its own pooled connection (three
/// measured 0.06 of the baseline better than two: a batch's commit waits on the WAL flush,
/// and a third batch keeps PostgreSQL busy meanwhile; BENCHMARKS.md, ingest), and
/// acks them strictly in delivery order, each only once it and every batch before it have
/// committed (an ack-multiple covers everything before its tag).
///
/// A batch sharing a phone or a call_id with one still in flight waits until nothing is in
/// flight: its eligibility (the phone's open survey, frequency cap) must see the earlier
/// batch committed, exactly as one-at-a-time commits would, and two transactions never wait
/// on each other's rows. Batches of different phones cannot affect each other's decisions.
async fn commit_all(
    ingest: &Ingest,
    mut batches: mpsc::Receiver<Batch>,
    consume: &Channel,
    publish: &Channel,
) -> anyhow::Result<()> {
    let rules = Rules {
        policy: &ingest.policy,
        default_language: &ingest.settings.eligibility.default_language,
        retention: ingest.retention.as_ref(),
    };
    let mut summary = IngestLog::default();
    let mut in_flight = FuturesOrdered::new();
    let mut keys_in_flight: VecDeque<HashSet<String>> = VecDeque::new();
    let mut held: Option<(Batch, HashSet<String>)> = None;
    let mut open = true;
    loop {
        if let Some((_, keys)) = &held
            && (in_flight.is_empty() || !keys_in_flight.iter().any(|k| !k.is_disjoint(keys)))
        {
            let (batch, keys) = held.take().expect("checked above");
            keys_in_flight.push_back(keys);
            in_flight.push_back(commit_one(ingest, batch, &rules, publish));
        }
        if !open && held.is_none() && in_flight.is_empty() {
            return Ok(());
        }
        tokio::select! {
            done = in_flight.next(), if !in_flight.is_empty() => {
                let (batch, outcome) = done.expect("not empty");
                keys_in_flight.pop_front();
                let outcome = outcome?;
                acked(consume, &batch, outcome, &mut summary).await?;
            }
            next = batches.recv(), if open && held.is_none() && in_flight.len() < ingest.settings.ingest.in_flight => {
                match next {
                    Some(batch) => {
                        let keys = keys_of(&batch);
                        held = Some((batch, keys));
                    }
                    None => open = false,
                }
            }
        }
    }
}

/// The phones and call_ids of a batch's valid events: what two batches must not share to
/// commit at once.
fn keys_of(batch: &Batch) -> HashSet<String> {
    batch
        .valid
        .iter()
        .flat_map(|v| {
            [
                format!("p{}", v.event.customer_phone.as_e164()),
                format!("c{}", v.event.call_id),
            ]
        })
        .collect()
}

/// Dead-letters a batch's poison and commits its valid events; the ack is the caller's.
async fn commit_one(
    ingest: &Ingest,
    batch: Batch,
    rules: &Rules<'_>,
    publish: &Channel,
) -> (Batch, anyhow::Result<Option<record::Recorded>>) {
    // The unit of work is a batch: its calls' ids are in the rows it commits.
    let span = tracing::info_span!(
        "batch",
        events = batch.valid.len() + batch.poison.len(),
        last_tag = batch.last_tag
    );
    let result = async {
        dead_letter_all(ingest, publish, &batch).await?;
        if batch.valid.is_empty() {
            return Ok(None);
        }
        let outcome = record_until_committed(ingest, &batch, rules).await?;
        tracing::debug!(?outcome, events = batch.valid.len(), "batch committed");
        Ok(Some(outcome))
    }
    .instrument(span)
    .await;
    (batch, result)
}

/// Acks a committed batch (and, by ack-multiple, every delivery before it).
async fn acked(
    consume: &Channel,
    batch: &Batch,
    outcome: Option<record::Recorded>,
    summary: &mut IngestLog,
) -> anyhow::Result<()> {
    summary.poison += batch.poison.len();
    if let Some(outcome) = outcome {
        for (reason, n) in &outcome.by_reason {
            metrics::decision(reason, *n);
        }
        metrics::duplicates(outcome.duplicates);
        summary.totals.add(&outcome);
    }
    summary.log_every(Duration::from_secs(10));
    consume
        .basic_ack(batch.last_tag, BasicAckOptions { multiple: true })
        .await
        .context("acking a committed batch")?;
    metrics::events_consumed(batch.valid.len(), batch.poison.len());
    Ok(())
}

/// What ingest did lately. The first batch after a quiet spell is logged at once; later
/// ones are folded into one line per period, so a busy worker's log stays readable.
#[derive(Default)]
struct IngestLog {
    totals: record::Recorded,
    poison: usize,
    last_logged: Option<tokio::time::Instant>,
}

impl IngestLog {
    fn log_every(&mut self, period: Duration) {
        if self.last_logged.is_some_and(|t| t.elapsed() < period) {
            return;
        }
        if !self.totals.is_empty() || self.poison > 0 {
            tracing::info!(
                decisions = ?self.totals.by_reason,
                duplicates = self.totals.duplicates,
                dead_lettered = self.poison,
                "ingested"
            );
            self.last_logged = Some(tokio::time::Instant::now());
        }
        self.totals = record::Recorded::default();
        self.poison = 0;
    }
}

async fn dead_letter_all(ingest: &Ingest, publish: &Channel, batch: &Batch) -> anyhow::Result<()> {
    let exchange = &ingest.settings.amqp.dead_letter_exchange;
    let mut pipeline = amqp::Pipeline::new(publish);
    for (delivery, reason) in &batch.poison {
        let call_id = dead_letter::call_id_of(&delivery.data);
        tracing::warn!(call_id = call_id.as_deref().unwrap_or("-"), reason = %phone::redact(reason),
            delivery_tag = delivery.delivery_tag, "poison event dead-lettered");
        dead_letter::publish(&mut pipeline, exchange, delivery, reason).await?;
    }
    pipeline
        .settle_all()
        .await
        .context("dead-lettering poison events")
}

/// Retries the batch's transaction until it commits: a database outage must make events
/// wait, never dead-letter them. The deliveries stay unacked meanwhile, and with the
/// prefetch window full the broker stops sending. Shutdown gives up without acking.
async fn record_until_committed(
    ingest: &Ingest,
    batch: &Batch,
    rules: &Rules<'_>,
) -> anyhow::Result<record::Recorded> {
    let limits = &ingest.settings.ingest;
    let mut delays = Backoff::new(
        Duration::from_millis(limits.retry_min_delay_ms),
        Duration::from_millis(limits.retry_max_delay_ms),
    )
    .delays();
    for attempt in 1.. {
        match record::record(&ingest.pool, &batch.valid, rules, chrono::Utc::now()).await {
            Ok(outcome) => {
                if attempt > 1 {
                    tracing::info!(attempt, "database is back; batch committed");
                }
                ingest.health.set_database_failing(false);
                return Ok(outcome);
            }
            Err(e) => {
                ingest.health.set_database_failing(true);
                let delay = delays.next_delay();
                tracing::warn!(error = %e, attempt, retry_in = ?delay, events = batch.valid.len(),
                    "could not commit batch; keeping it unacked and retrying");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = ingest.shutdown.cancelled() => anyhow::bail!("shutdown while the database was failing"),
                }
            }
        }
    }
    unreachable!("the retry loop only ends by returning")
}
