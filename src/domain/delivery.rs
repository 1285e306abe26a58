//! Delivery statuses, normalised across providers, ordered so a status never moves back.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
        }
    }

    /// Twilio's message statuses (and the generic provider's, which uses ours).
    pub fn normalise(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_lowercase().as_str() {
            "accepted" | "scheduled" | "queued" => Self::Queued,
            "sending" | "sent" => Self::Sent,
            "delivered" | "read" => Self::Delivered,
            "undelivered" => Self::Undelivered,
            "failed" | "canceled" | "cancelled" => Self::Failed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::{self, *};

    #[test]
    fn provider_words_normalise() {
        for (raw, want) in [
            ("accepted", Queued),
            ("queued", Queued),
            ("sending", Sent),
            ("SENT", Sent),
            ("delivered", Delivered),
            ("read", Delivered),
            ("undelivered", Undelivered),
            ("failed", Failed),
            ("canceled", Failed),
        ] {
            assert_eq!(DeliveryStatus::normalise(raw), Some(want), "{raw}");
        }
        assert_eq!(DeliveryStatus::normalise("receiving"), None);
    }

    #[test]
    fn order_runs_from_queued_to_final() {
        assert!(Queued < Sent && Sent < Delivered && Delivered < Undelivered);
    }
}
