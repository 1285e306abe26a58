//! RabbitMQ: connecting (bounded in time), declaring postcall's topology (DESIGN.md §1), and
//! publishing with confirms (`publish`).

mod publish;

use std::time::Duration;

use anyhow::{Context, anyhow};
use lapin::{
    Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, ShortString},
};

pub use self::publish::{
    Pipeline, Route, confirm_mode, confirming_channel, persistent_json, publish_confirmed,
};
use crate::config::{self, ExposeSecret};

/// Connects, giving up after `connect_timeout_seconds`: lapin may otherwise hang when the
/// broker is absent at first connect (DESIGN.md §7).
pub async fn connect(settings: &config::Amqp, name: &str) -> anyhow::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    let limit = Duration::from_secs(settings.connect_timeout_seconds);
    tokio::time::timeout(
        limit,
        Connection::connect(settings.url.expose_secret(), properties),
    )
    .await
    .map_err(|_| anyhow!("connecting to RabbitMQ timed out after {limit:?}"))?
    .context("connecting to RabbitMQ")
}

/// Declares the exchanges and queues ingest needs. Idempotent: declaring what exists with
/// the same arguments is a no-op; different arguments fail with PRECONDITION_FAILED,
/// which names the queue, rather than silently using another shape.
pub async fn declare_topology(channel: &Channel, settings: &config::Amqp) -> anyhow::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for exchange in [&settings.exchange, &settings.dead_letter_exchange] {
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("declaring exchange {exchange}"))?;
    }

    let mut dead_args = FieldTable::default();
    dead_args.insert("x-queue-type".into(), string("quorum"));
    declare_queue(channel, &settings.dead_letter_queue, dead_args).await?;
    bind(
        channel,
        &settings.dead_letter_queue,
        &settings.dead_letter_exchange,
        "#",
    )
    .await?;

    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string("quorum"));
    args.insert(
        "x-dead-letter-exchange".into(),
        string(&settings.dead_letter_exchange),
    );
    declare_queue(channel, &settings.queue, args).await?;
    bind(
        channel,
        &settings.queue,
        &settings.exchange,
        &settings.routing_key,
    )
    .await
}

async fn declare_queue(channel: &Channel, queue: &str, args: FieldTable) -> anyhow::Result<()> {
    let options = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.into(), options, args)
        .await
        .with_context(|| format!("declaring queue {queue}"))?;
    Ok(())
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> anyhow::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("binding {queue} to {exchange} with {key}"))
}

pub fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(s.into())
}

pub fn short(s: &str) -> ShortString {
    s.into()
}
