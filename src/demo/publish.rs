//! Publishing the hour of calls as the call platform would (DESIGN.md §1): JSON,
//! persistent, to the calls exchange, each confirmed by the broker.

use anyhow::{Context, bail};
use lapin::{
    BasicProperties, Confirmation,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};

use super::{calls::Call, progress::Progress};
use crate::{amqp, config};

pub async fn publish(
    settings: &config::Amqp,
    calls: &[Call],
    progress: &Progress,
) -> anyhow::Result<()> {
    let connection = amqp::connect(settings, "postcall-demo-calls").await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2);
    // Unroutable means the demo's queue is missing: better to hear it than to wait.
    let options = BasicPublishOptions {
        mandatory: true,
        ..Default::default()
    };
    let mut confirms = Vec::with_capacity(calls.len());
    for call in calls {
        let body = serde_json::to_vec(&call.event())?;
        let confirm = channel
            .basic_publish(
                settings.exchange.as_str().into(),
                settings.routing_key.as_str().into(),
                options,
                &body,
                properties.clone(),
            )
            .await
            .with_context(|| format!("publishing {}", call.call_id))?;
        confirms.push((call, confirm));
    }
    for (call, confirm) in confirms {
        match confirm.await? {
            Confirmation::Ack(None) => progress.inc(),
            Confirmation::Ack(Some(_)) => {
                bail!(
                    "{} was not routed to a queue by {}",
                    call.call_id,
                    settings.exchange
                )
            }
            // Not the message's Debug: it holds the body, and the body a phone number.
            Confirmation::Nack(_) => bail!("RabbitMQ refused {}", call.call_id),
            Confirmation::NotRequested => bail!("RabbitMQ did not confirm {}", call.call_id),
        }
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(())
}
