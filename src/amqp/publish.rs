//! Publishing with publisher confirms, for postcall and its tools alike: a message counts as
//! sent once the broker confirms it and, on a mandatory route, has routed it to a queue.

use std::collections::VecDeque;

use anyhow::{Context, bail};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};

/// Where a message goes.
#[derive(Clone, Copy, Debug)]
pub struct Route<'a> {
    exchange: &'a str,
    routing_key: &'a str,
    /// A message no queue takes fails its confirm instead of being dropped by the broker.
    mandatory: bool,
}

impl<'a> Route<'a> {
    /// For a stream that may have no reader yet: unroutable is not an error.
    pub fn new(exchange: &'a str, routing_key: &'a str) -> Self {
        Self {
            exchange,
            routing_key,
            mandatory: false,
        }
    }

    /// For a queue that must exist: unroutable means a missing queue, better heard than lost.
    pub fn mandatory(exchange: &'a str, routing_key: &'a str) -> Self {
        Self {
            mandatory: true,
            ..Self::new(exchange, routing_key)
        }
    }
}

/// Persistent JSON: how the call platform publishes `call.completed` (DESIGN.md §1), and how
/// postcall publishes its own events.
pub fn persistent_json() -> BasicProperties {
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
}

/// A new channel in confirm mode; on any other, every confirm would be `NotRequested`.
pub async fn confirming_channel(connection: &Connection) -> anyhow::Result<Channel> {
    let channel = connection
        .create_channel()
        .await
        .context("opening a channel")?;
    confirm_mode(&channel).await?;
    Ok(channel)
}

/// Puts `channel` in confirm mode (idempotent).
pub async fn confirm_mode(channel: &Channel) -> anyhow::Result<()> {
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .context("enabling publisher confirms")
}

/// Publishes one message and waits for its confirm.
pub async fn publish_confirmed(
    channel: &Channel,
    route: Route<'_>,
    body: &[u8],
    properties: BasicProperties,
) -> anyhow::Result<()> {
    let mut pipeline = Pipeline::new(channel);
    pipeline.publish(route, body, properties).await?;
    pipeline.settle_all().await
}

/// Publishes without waiting; confirms are awaited later, oldest first. Awaiting each in
/// turn would cost a broker round trip (on a quorum queue, a commit) per message.
pub struct Pipeline<'c> {
    channel: &'c Channel,
    in_flight: VecDeque<PublisherConfirm>,
}

impl<'c> Pipeline<'c> {
    pub fn new(channel: &'c Channel) -> Self {
        Self {
            channel,
            in_flight: VecDeque::new(),
        }
    }

    pub async fn publish(
        &mut self,
        route: Route<'_>,
        body: &[u8],
        properties: BasicProperties,
    ) -> anyhow::Result<()> {
        let options = BasicPublishOptions {
            mandatory: route.mandatory,
            ..Default::default()
        };
        let confirm = self
            .channel
            .basic_publish(
                route.exchange.into(),
                route.routing_key.into(),
                options,
                body,
                properties,
            )
            .await
            .with_context(|| {
                format!(
                    "publishing to {} with {}",
                    route.exchange, route.routing_key
                )
            })?;
        self.in_flight.push_back(confirm);
        Ok(())
    }

    /// How many published messages wait for their confirm.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Waits for the oldest `n` confirms (all, if fewer are in flight); fails on the first
    /// message the broker did not take.
    pub async fn settle(&mut self, n: usize) -> anyhow::Result<()> {
        let oldest = self.in_flight.drain(..n.min(self.in_flight.len()));
        let confirmations = futures_util::future::try_join_all(oldest)
            .await
            .context("waiting for the broker's confirm")?;
        confirmations.into_iter().try_for_each(taken)
    }

    pub async fn settle_all(&mut self) -> anyhow::Result<()> {
        self.settle(self.in_flight.len()).await
    }
}

/// Never the returned message's Debug: its body may hold a phone number.
fn taken(confirmation: Confirmation) -> anyhow::Result<()> {
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) => bail!(
            "{} has no queue bound for {} ({})",
            returned.delivery.exchange,
            returned.delivery.routing_key,
            returned.reply_text
        ),
        Confirmation::Nack(_) => bail!("the broker refused a published message"),
        Confirmation::NotRequested => bail!("the channel is not in confirm mode"),
    }
}

#[cfg(test)]
mod tests {
    use lapin::Confirmation;

    use super::taken;

    #[test]
    fn only_a_plain_ack_counts_as_taken() {
        assert!(taken(Confirmation::Ack(None)).is_ok());
        let nack = taken(Confirmation::Nack(None)).unwrap_err().to_string();
        assert!(nack.contains("refused"), "{nack}");
        let unconfirmed = taken(Confirmation::NotRequested).unwrap_err().to_string();
        assert!(unconfirmed.contains("not in confirm mode"), "{unconfirmed}");
    }
}
