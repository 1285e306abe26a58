//! The outbox publisher: events written with the change they announce are published to
//! RabbitMQ (`amqp.events_exchange`) with publisher confirms, then marked published. A
//! broker outage delays them; nothing is lost. A crash between the confirm and the mark
//! publishes an event again with the same `message_id`, which consumers use to dedupe.

use std::time::Duration;

use anyhow::Context;
use lapin::{Channel, ExchangeKind, options::ExchangeDeclareOptions, types::FieldTable};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{amqp, backoff, config, store::outbox};

const BATCH: i64 = 100;
const IDLE: Duration = Duration::from_millis(500);

pub struct Publisher {
    pub pool: PgPool,
    pub amqp: config::Amqp,
    pub shutdown: CancellationToken,
}

impl Publisher {
    /// Runs until shutdown, reconnecting after any failure.
    pub async fn run(self) {
        let mut delays = backoff::RECONNECT.delays();
        while !self.shutdown.is_cancelled() {
            if let Err(e) = self.session().await {
                let delay = delays.next_delay();
                tracing::warn!(error = format!("{e:#}"), retry_in = ?delay, "event publisher failed");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = self.shutdown.cancelled() => {}
                }
            }
        }
    }

    async fn session(&self) -> anyhow::Result<()> {
        let connection = amqp::connect(&self.amqp, "postcall-events").await?;
        let channel = amqp::confirming_channel(&connection).await?;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        let exchange = self.amqp.events_exchange.as_str();
        channel
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("declaring exchange {exchange}"))?;
        while !self.shutdown.is_cancelled() {
            if publish_batch(&self.pool, &channel, exchange).await? == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = self.shutdown.cancelled() => {}
                }
            }
        }
        let _ = connection.close(200, "postcall stopping".into()).await;
        Ok(())
    }
}

/// Publishes up to a batch of unpublished events in creation order; returns how many.
pub async fn publish_batch(
    pool: &PgPool,
    channel: &Channel,
    exchange: &str,
) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = outbox::take_unpublished(&mut tx, BATCH).await?;
    let mut pipeline = amqp::Pipeline::new(channel);
    for row in &rows {
        let properties = amqp::persistent_json().with_message_id(row.id.to_string().into());
        let body = serde_json::to_vec(&row.payload)?;
        // Not mandatory: an event nobody has bound a queue for yet is published all the same.
        let route = amqp::Route::new(exchange, &row.routing_key);
        pipeline.publish(route, &body, properties).await?;
    }
    pipeline.settle_all().await.context("publishing events")?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    outbox::mark_published(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(rows.len())
}
