//! Poison events go to the dead-letter exchange unchanged, with the reason attached.
//!
//! Rejecting with `requeue=false` would dead-letter natively but cannot add a header, so
//! postcall republishes the delivery itself (same body, same properties, plus
//! `x-postcall-error`) and waits for the broker's confirm before the original is acked.

use anyhow::Context;
use lapin::{BasicProperties, message::Delivery};

use crate::amqp;

pub const ERROR_HEADER: &str = "x-postcall-error";

/// The `call_id` of a poison body, when it has a usable one, for the log line: masked like
/// any free text, and cut short, since a poison body can hold anything.
pub fn call_id_of(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = value.get("call_id")?.as_str()?;
    Some(crate::domain::phone::redact(
        &id.chars().take(64).collect::<String>(),
    ))
}

/// Publishes one poison delivery to the dead-letter exchange; it is dead-lettered once
/// `pipeline` is settled. Mandatory: only a queue holding it makes acking the original safe.
pub async fn publish(
    pipeline: &mut amqp::Pipeline<'_>,
    exchange: &str,
    delivery: &Delivery,
    reason: &str,
) -> anyhow::Result<()> {
    let route = amqp::Route::mandatory(exchange, delivery.routing_key.as_str());
    let properties = with_reason(&delivery.properties, reason);
    pipeline
        .publish(route, &delivery.data, properties)
        .await
        .context("publishing a poison event to the dead-letter exchange")
}

fn with_reason(original: &BasicProperties, reason: &str) -> BasicProperties {
    let mut headers = original.headers().clone().unwrap_or_default();
    headers.insert(ERROR_HEADER.into(), amqp::string(reason));
    original.clone().with_headers(headers).with_delivery_mode(2)
}

#[cfg(test)]
mod tests {
    use super::call_id_of;

    #[test]
    fn a_poison_bodys_call_id_is_logged_short_and_masked() {
        assert_eq!(
            call_id_of(br#"{"call_id":"c-1","x":1}"#).as_deref(),
            Some("c-1")
        );
        assert_eq!(call_id_of(b"not json"), None);
        assert_eq!(call_id_of(br#"{"call_id":42}"#), None);
        let long = format!(r#"{{"call_id":"{}"}}"#, "x".repeat(500));
        assert_eq!(call_id_of(long.as_bytes()).unwrap().len(), 64);
        let phone = call_id_of(br#"{"call_id":"+8613912345678"}"#).unwrap();
        assert!(!phone.contains("13912345678"), "{phone}");
    }
}
