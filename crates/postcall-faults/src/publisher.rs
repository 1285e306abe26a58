//! The call platform: `call.completed` events published with confirms, paced, and
//! republished after a broker outage until confirmed (at least once; the worker dedupes on
//! `call_id`). Publishes are mandatory, so an event the broker cannot route — the queue not
//! yet declared — comes back and is published again rather than silently dropped.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use lapin::{Channel, Connection, ConnectionProperties};
use postcall::amqp;
use serde_json::{Value, json};

const CHUNK: usize = 50;
/// A broker stopped mid-chunk may never confirm it: past this, the chunk is published again.
const CONFIRM_PATIENCE: Duration = Duration::from_secs(10);

pub struct Publisher {
    url: String,
    link: Option<(Connection, Channel)>,
    /// How many times a chunk had to be published again after a broker failure.
    pub retried_chunks: u32,
}

impl Publisher {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            link: None,
            retried_chunks: 0,
        }
    }

    /// Publishes every event, about `per_second` a second, retrying through outages for up
    /// to `patience` per chunk.
    pub async fn publish(
        &mut self,
        events: &[Value],
        per_second: f64,
        patience: Duration,
    ) -> anyhow::Result<()> {
        let bodies: Vec<Vec<u8>> = events
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<_, _>>()?;
        self.publish_bodies(&bodies, per_second, patience).await
    }

    /// As [`Publisher::publish`], bodies as they are: any bytes, JSON or not.
    pub async fn publish_bodies(
        &mut self,
        bodies: &[Vec<u8>],
        per_second: f64,
        patience: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        for (i, chunk) in bodies.chunks(CHUNK).enumerate() {
            let due = started + Duration::from_secs_f64((i * CHUNK) as f64 / per_second);
            tokio::time::sleep_until(due.into()).await;
            self.publish_chunk(chunk, patience).await?;
        }
        Ok(())
    }

    async fn publish_chunk(&mut self, chunk: &[Vec<u8>], patience: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            match self.try_chunk(chunk).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.link = None;
                    self.retried_chunks += 1;
                    if Instant::now() >= deadline {
                        return Err(e.context(format!("publishing for {patience:?}")));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    async fn try_chunk(&mut self, chunk: &[Vec<u8>]) -> anyhow::Result<()> {
        let channel = self.channel().await?;
        let route = amqp::Route::mandatory("calls", "call.completed");
        let properties = amqp::persistent_json();
        let mut pipeline = amqp::Pipeline::new(&channel);
        for body in chunk {
            pipeline.publish(route, body, properties.clone()).await?;
        }
        tokio::time::timeout(CONFIRM_PATIENCE, pipeline.settle_all())
            .await
            .map_err(|_| anyhow!("no confirms within {CONFIRM_PATIENCE:?}"))?
    }

    async fn channel(&mut self) -> anyhow::Result<Channel> {
        if let Some((connection, channel)) = &self.link
            && connection.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let connection = tokio::time::timeout(
            Duration::from_secs(5),
            Connection::connect(&self.url, ConnectionProperties::default()),
        )
        .await
        .map_err(|_| anyhow!("connecting to RabbitMQ timed out"))?
        .context("connecting to RabbitMQ")?;
        let channel = amqp::confirming_channel(&connection).await?;
        self.link = Some((connection, channel.clone()));
        Ok(channel)
    }

    pub async fn close(mut self) {
        if let Some((connection, _)) = self.link.take() {
            let _ = connection.close(200, "done".into()).await;
        }
    }
}

/// A call that ended at `ended`, answered, 5 minutes of talk: eligible for a survey.
pub fn event(call_id: &str, phone: &str, ended: DateTime<Utc>, zone: Option<&str>) -> Value {
    let answered = ended - chrono::TimeDelta::minutes(5);
    let mut event = json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "call_id": call_id,
        "customer_phone": phone,
        "agent_id": format!("agent-{}", call_id.len() % 7),
        "queue": "payment",
        "started_at": (answered - chrono::TimeDelta::seconds(40)).to_rfc3339(),
        "answered_at": answered.to_rfc3339(),
        "ended_at": ended.to_rfc3339(),
        "disposition": "completed",
        "language": "zh-CN",
    });
    if let Some(zone) = zone {
        event["customer_timezone"] = json!(zone);
    }
    event
}

/// A distinct valid mainland mobile number per `n` (and per scenario, by `prefix` 0–9).
pub fn phone(prefix: u32, n: u32) -> String {
    format!("+86139{prefix}{n:07}")
}
