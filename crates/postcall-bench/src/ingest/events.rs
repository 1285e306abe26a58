//! The call.completed events every ingest measurement uses, and publishing them.

use std::time::Instant;

use chrono::{TimeDelta, Utc};
use lapin::Channel;
use postcall::amqp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ROUTING_KEY: &str = "call.completed";
/// Confirms outstanding before the publisher waits for the oldest ones: publishing never
/// waits for a round trip, and a 1M backlog does not hold a million confirm futures.
const CONFIRM_WINDOW: usize = 8_000;
const CONFIRM_CHUNK: usize = 1_000;

/// Valid events with distinct call_ids and phones, so that every one is scheduled in a fresh
/// database (the most work an event can cause: a call row and a survey row): ended a
/// minute ago, answered after 40 s, 5 minutes of talk.
pub struct Events {
    run: String,
    started: String,
    answered: String,
    ended: String,
}

/// One event's fields as published; the baseline reads the same struct back (borrowing:
/// the bench's bodies hold no escapes) to get its columns.
#[derive(Serialize, Deserialize)]
pub struct Body<'a> {
    pub event_id: Uuid,
    pub call_id: &'a str,
    pub customer_phone: &'a str,
    pub agent_id: &'a str,
    pub queue: &'a str,
    pub started_at: &'a str,
    pub answered_at: &'a str,
    pub ended_at: &'a str,
    pub disposition: &'a str,
    pub language: &'a str,
}

impl Events {
    pub fn new() -> Self {
        Self::ended_ago(TimeDelta::minutes(1))
    }

    /// Calls that ended `ago` before now: more than the survey delay (5 minutes) makes
    /// their surveys due at once.
    pub fn ended_ago(ago: TimeDelta) -> Self {
        let ended = Utc::now() - ago;
        let answered = ended - TimeDelta::minutes(5);
        let started = answered - TimeDelta::seconds(40);
        Self {
            run: Uuid::new_v4().simple().to_string(),
            started: started.to_rfc3339(),
            answered: answered.to_rfc3339(),
            ended: ended.to_rfc3339(),
        }
    }

    /// The i-th body. Phones `+86139…` are China Mobile numbers, reachable by SMS.
    pub fn body(&self, i: usize) -> Vec<u8> {
        let call_id = format!("bench-{}-{i}", self.run);
        let phone = format!("+86139{:08}", i % 100_000_000);
        let agent = format!("agent-{}", i % 50);
        serde_json::to_vec(&Body {
            event_id: Uuid::new_v4(),
            call_id: &call_id,
            customer_phone: &phone,
            agent_id: &agent,
            queue: "payment",
            started_at: &self.started,
            answered_at: &self.answered,
            ended_at: &self.ended,
            disposition: "completed",
            language: "zh-CN",
        })
        .expect("a plain struct serializes")
    }

    /// Bodies serialized up front, so that JSON encoding is not timed as publishing.
    pub fn bodies(&self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| self.body(i)).collect()
    }
}

/// Publishes `n` bodies (persistent, JSON, confirmed) to `exchange`; returns events/s,
/// confirms included. `body(i)` makes the i-th.
pub async fn publish(
    channel: &Channel,
    exchange: &str,
    n: usize,
    body: impl Fn(usize) -> Vec<u8>,
) -> anyhow::Result<f64> {
    amqp::confirm_mode(channel).await?;
    let properties = amqp::persistent_json();
    let route = amqp::Route::new(exchange, ROUTING_KEY);
    let started = Instant::now();
    let mut pipeline = amqp::Pipeline::new(channel);
    for i in 0..n {
        pipeline
            .publish(route, &body(i), properties.clone())
            .await?;
        if pipeline.in_flight() >= CONFIRM_WINDOW {
            pipeline.settle(CONFIRM_CHUNK).await?;
        }
    }
    pipeline.settle_all().await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
