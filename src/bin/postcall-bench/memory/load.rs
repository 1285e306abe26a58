//! A steady stream of call.completed events at a fixed rate, as a busy call centre sends
//! them, rather than a backlog: memory at steady load, not at a burst.

use std::time::Duration;

use anyhow::bail;
use lapin::{
    BasicProperties, Channel, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};

use crate::ingest::events::Events;

const TICK: Duration = Duration::from_millis(10);

/// Publishes `n` events at `per_second`, confirms awaited a tick behind; returns when the
/// last is confirmed.
pub async fn steady(
    channel: &Channel,
    exchange: &str,
    events: &Events,
    n: usize,
    per_second: usize,
) -> anyhow::Result<()> {
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2);
    let started = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0;
    let mut pending: Vec<PublisherConfirm> = Vec::new();
    while sent < n {
        ticks.tick().await;
        let due = ((started.elapsed().as_secs_f64() * per_second as f64) as usize + 1).min(n);
        let previous = std::mem::take(&mut pending);
        while sent < due {
            pending.push(
                channel
                    .basic_publish(
                        exchange.into(),
                        "call.completed".into(),
                        BasicPublishOptions::default(),
                        &events.body(sent),
                        properties.clone(),
                    )
                    .await?,
            );
            sent += 1;
        }
        confirmed(previous).await?;
    }
    confirmed(pending).await
}

async fn confirmed(confirms: Vec<PublisherConfirm>) -> anyhow::Result<()> {
    for confirmation in futures_util::future::try_join_all(confirms).await? {
        if !confirmation.is_ack() {
            bail!("the broker did not accept a published event: {confirmation:?}");
        }
    }
    Ok(())
}
