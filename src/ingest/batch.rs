//! Gathering deliveries into batches: up to `batch_size`, or whatever arrived within
//! `batch_linger_ms` of the first. Each delivery is parsed here, so parsing the next batch
//! overlaps with committing the previous one.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use futures_util::StreamExt;
use lapin::{Consumer, message::Delivery};
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;

use super::record::Valid;
use crate::domain::event;

#[derive(Default)]
pub struct Batch {
    /// The highest delivery tag in the batch: one ack-multiple covers all of it.
    pub last_tag: u64,
    pub valid: Vec<Valid>,
    /// Deliveries kept whole, to be republished unchanged, with the reason.
    pub poison: Vec<(Delivery, String)>,
}

impl Batch {
    fn len(&self) -> usize {
        self.valid.len() + self.poison.len()
    }

    /// Parsed once, into the event; the body is kept as the bytes that came, for the jsonb
    /// column (no `Value` tree, no re-encoding), unless only its re-encoding can be stored.
    fn push(&mut self, mut delivery: Delivery) {
        self.last_tag = self.last_tag.max(delivery.delivery_tag);
        let decoded = event::decode(&delivery.data).and_then(|(event, reencoded)| {
            event::not_ahead_of(&event, Utc::now())?;
            Ok((event, reencoded))
        });
        match decoded {
            Ok((event, Some(reencoded))) => self.valid.push(Valid {
                event,
                body: reencoded,
            }),
            Ok((event, None)) => match String::from_utf8(std::mem::take(&mut delivery.data)) {
                Ok(body) => self.valid.push(Valid { event, body }),
                // Unreachable: serde_json accepts UTF-8 only. Kept whole for the dead letters.
                Err(e) => {
                    delivery.data = e.into_bytes();
                    let reason = "invalid event JSON: not UTF-8".to_owned();
                    self.poison.push((delivery, reason));
                }
            },
            Err(reason) => self.poison.push((delivery, reason.0)),
        }
    }
}

pub struct Limits {
    pub size: usize,
    pub linger: Duration,
}

/// Feeds batches to `out` until shutdown (returns Ok) or until the consumer fails or its
/// stream ends, which lapin does silently on some broker-side cancels (returns Err, so the
/// session is restarted).
pub async fn collect(
    mut consumer: Consumer,
    limits: Limits,
    out: mpsc::Sender<Batch>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            next = consumer.next() => next,
        };
        let mut batch = Batch::default();
        batch.push(delivery(first)?);
        let deadline = Instant::now() + limits.linger;
        while batch.len() < limits.size {
            match tokio::time::timeout_at(deadline, consumer.next()).await {
                Ok(next) => batch.push(delivery(next)?),
                Err(_elapsed) => break,
            }
        }
        if out.send(batch).await.is_err() {
            bail!("the batch committer stopped");
        }
    }
}

fn delivery(next: Option<lapin::Result<Delivery>>) -> anyhow::Result<Delivery> {
    match next {
        Some(result) => result.context("receiving from RabbitMQ"),
        None => bail!("the consumer stream ended (consumer cancelled or channel closed)"),
    }
}
