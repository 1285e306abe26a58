//! The development provider: the SMS goes to the log, never to a phone.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Lookup, Outbound, ProviderKind, SendOutcome, SmsProvider};
use crate::domain::{delivery::DeliveryStatus, phone};

pub struct Console;

impl SmsProvider for Console {
    fn name(&self) -> &'static str {
        ProviderKind::Console.as_str()
    }

    async fn send(&self, message: &Outbound<'_>) -> SendOutcome {
        tracing::info!(to = %phone::mask(message.to), id = %message.id, body = message.body, "SMS (console provider)");
        SendOutcome::Accepted {
            provider_message_id: format!("console-{}", Uuid::new_v4()),
            status: DeliveryStatus::Sent,
            billed_segments: None,
        }
    }

    /// Never asked: the console accepts every send.
    async fn find(&self, _: &Outbound<'_>, _: DateTime<Utc>) -> Lookup {
        Lookup::NotFound
    }
}
