//! Publishing the hour of calls as the call platform would (DESIGN.md §1): JSON,
//! persistent, to the calls exchange, each confirmed by the broker.

use anyhow::Context;

use super::{calls::Call, progress::Progress};
use crate::{amqp, config};

pub async fn publish(
    settings: &config::Amqp,
    calls: &[Call],
    progress: &Progress,
) -> anyhow::Result<()> {
    let connection = amqp::connect(settings, "postcall-demo-calls").await?;
    let channel = amqp::confirming_channel(&connection).await?;
    let properties = amqp::persistent_json();
    // Unroutable means the demo's queue is missing: better to hear it than to wait.
    let route = amqp::Route::mandatory(&settings.exchange, &settings.routing_key);
    let mut pipeline = amqp::Pipeline::new(&channel);
    for call in calls {
        let body = serde_json::to_vec(&call.event())?;
        pipeline
            .publish(route, &body, properties.clone())
            .await
            .with_context(|| format!("publishing {}", call.call_id))?;
    }
    // Confirms come back in publishing order, one call's each.
    for call in calls {
        pipeline
            .settle(1)
            .await
            .with_context(|| format!("publishing {}", call.call_id))?;
        progress.inc();
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(())
}
