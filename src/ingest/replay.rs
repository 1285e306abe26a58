//! `postcall replay-dead-letters`: after a fix, moves dead-lettered events back to the
//! `calls` exchange, unchanged but for postcall's own error header, one confirmed publish
//! before each ack, so an event is never lost on the way. `--dry-run` only lists them.

use anyhow::Context;
use lapin::{
    BasicProperties, Channel,
    message::BasicGetMessage,
    options::{BasicAckOptions, BasicGetOptions},
    types::FieldTable,
};

use super::dead_letter::ERROR_HEADER;
use crate::{amqp, config, domain::phone, telemetry};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub moved: usize,
    pub listed: usize,
}

pub async fn replay(
    settings: &config::Amqp,
    dry_run: bool,
    limit: usize,
) -> anyhow::Result<Replayed> {
    let connection = amqp::connect(settings, "postcall-replay").await?;
    let channel = amqp::confirming_channel(&connection).await?;
    let mut done = Replayed::default();
    while done.moved + done.listed < limit {
        let Some(message) = channel
            .basic_get(
                settings.dead_letter_queue.as_str().into(),
                BasicGetOptions::default(),
            )
            .await
            .context("reading the dead-letter queue")?
        else {
            break;
        };
        describe(&message);
        if dry_run {
            // Left unacked: closing the channel returns every listed message to the queue.
            done.listed += 1;
            continue;
        }
        republish(&channel, settings, &message).await?;
        message
            .delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .context("acking a replayed event")?;
        done.moved += 1;
    }
    let _ = connection.close(200, "replay done".into()).await;
    Ok(done)
}

fn describe(message: &BasicGetMessage) {
    let reason =
        header(&message.delivery.properties, ERROR_HEADER).unwrap_or_else(|| "(no reason)".into());
    let call_id = serde_json::from_slice::<serde_json::Value>(&message.delivery.data)
        .ok()
        .and_then(|v| v.get("call_id").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "(unreadable)".into());
    println!("{}\t{}", printable(&call_id), printable(&reason));
}

/// An outside value as the operator's terminal may show it: a call_id may hold a phone
/// number and either may hold control characters.
fn printable(value: &str) -> String {
    telemetry::escape_controls(&phone::redact(value)).into_owned()
}

async fn republish(
    channel: &Channel,
    settings: &config::Amqp,
    message: &BasicGetMessage,
) -> anyhow::Result<()> {
    let properties = without_postcall_headers(&message.delivery.properties);
    let route = amqp::Route::mandatory(&settings.exchange, &settings.routing_key);
    amqp::publish_confirmed(channel, route, &message.delivery.data, properties)
        .await
        .context("republishing a dead-lettered event")
}

/// The event as the call platform sent it: our reason and the broker's death records go.
fn without_postcall_headers(original: &BasicProperties) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(old) = original.headers() {
        for (k, v) in old.inner() {
            if k.as_str() != ERROR_HEADER
                && !k.as_str().starts_with("x-death")
                && !k.as_str().starts_with("x-first-death")
                && !k.as_str().starts_with("x-last-death")
            {
                headers.insert(k.clone(), v.clone());
            }
        }
    }
    original.clone().with_headers(headers)
}

fn header(properties: &BasicProperties, name: &str) -> Option<String> {
    match properties.headers().as_ref()?.inner().get(name)? {
        lapin::types::AMQPValue::LongString(s) => {
            Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
        }
        other => Some(format!("{other:?}")),
    }
}
