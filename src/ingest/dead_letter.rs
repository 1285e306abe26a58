//! Poison events go to the dead-letter exchange unchanged, with the reason attached.
//!
//! Rejecting with `requeue=false` would dead-letter natively but cannot add a header, so
//! postcall republishes the delivery itself (same body, same properties, plus
//! `x-postcall-error`) and waits for the broker's confirm before the original is acked.

use anyhow::{Context, bail};
use lapin::{
    BasicProperties, Channel, Confirmation, PublisherConfirm, message::Delivery,
    options::BasicPublishOptions,
};

use crate::amqp;

pub const ERROR_HEADER: &str = "x-postcall-error";

/// Publishes one poison delivery to the dead-letter exchange; await the returned confirm.
pub async fn publish(
    channel: &Channel,
    exchange: &str,
    delivery: &Delivery,
    reason: &str,
) -> anyhow::Result<PublisherConfirm> {
    let properties = with_reason(&delivery.properties, reason);
    let options = BasicPublishOptions {
        mandatory: true,
        ..Default::default()
    };
    channel
        .basic_publish(
            exchange.into(),
            delivery.routing_key.clone(),
            options,
            &delivery.data,
            properties,
        )
        .await
        .context("publishing a poison event to the dead-letter exchange")
}

/// Succeeds only if the broker took the message and could route it to a queue.
pub async fn confirmed(confirm: PublisherConfirm) -> anyhow::Result<()> {
    match confirm
        .await
        .context("waiting for the dead-letter confirm")?
    {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => bail!("dead-letter exchange has no queue bound"),
        Confirmation::Nack(_) => bail!("broker refused the dead-lettered event"),
        Confirmation::NotRequested => bail!("dead-letter channel is not in confirm mode"),
    }
}

fn with_reason(original: &BasicProperties, reason: &str) -> BasicProperties {
    let mut headers = original.headers().clone().unwrap_or_default();
    headers.insert(ERROR_HEADER.into(), amqp::string(reason));
    original.clone().with_headers(headers).with_delivery_mode(2)
}
