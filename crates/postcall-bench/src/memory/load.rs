//! A steady stream of call.completed events at a fixed rate, as a busy call centre sends
//! them, rather than a backlog: memory at steady load, not at a burst.

use std::time::Duration;

use lapin::Channel;
use postcall::amqp;

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
    amqp::confirm_mode(channel).await?;
    let properties = amqp::persistent_json();
    let route = amqp::Route::new(exchange, "call.completed");
    let started = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0;
    let mut pipeline = amqp::Pipeline::new(channel);
    while sent < n {
        ticks.tick().await;
        let due = ((started.elapsed().as_secs_f64() * per_second as f64) as usize + 1).min(n);
        let previous = pipeline.in_flight();
        while sent < due {
            pipeline
                .publish(route, &events.body(sent), properties.clone())
                .await?;
            sent += 1;
        }
        pipeline.settle(previous).await?;
    }
    pipeline.settle_all().await
}
