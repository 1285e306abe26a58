//! What the dispatcher does with a due survey, a claimed message and a provider's answer:
//! pure decisions, so every rule is tested without a database or a provider.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::{
    channels::SendOutcome,
    domain::{delivery::DeliveryStatus, quiet_hours::QuietHours},
};

/// Just before a send: may it go now?
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Send,
    /// Not now: it would land in the customer's quiet hours. Try again at this instant.
    Defer(DateTime<Utc>),
    /// Never: the customer opted out or the survey is over.
    Cancel(&'static str),
}

/// What may have changed since the message was scheduled.
pub struct Situation<'a> {
    pub opted_out: bool,
    /// The survey is still waiting for this message (not cancelled, expired or done).
    pub survey_live: bool,
    /// Survey questions respect quiet hours; replies to the customer's own texts do not.
    pub respects_quiet_hours: bool,
    pub quiet_hours: Option<&'a QuietHours>,
    pub zones: &'a [Tz],
}

pub fn gate(situation: &Situation<'_>, now: DateTime<Utc>) -> Gate {
    if situation.opted_out {
        return Gate::Cancel("opted_out");
    }
    if !situation.survey_live {
        return Gate::Cancel("survey_closed");
    }
    if let (true, Some(quiet)) = (situation.respects_quiet_hours, situation.quiet_hours) {
        let allowed = quiet.next_allowed(now, situation.zones);
        if allowed > now {
            return Gate::Defer(allowed);
        }
    }
    Gate::Send
}

/// What the claim read about opt-outs and the survey is trusted for this long; a message
/// that waited longer for the rate limit is re-read before it goes. The fault suite counts
/// an SMS more than a second after an opt-out's commit as a violation.
pub const FRESH_FOR: Duration = Duration::from_millis(500);

/// How long a claimed message should wait for the rate limit at most: claims run this far
/// ahead of the limit and no further, so that re-reads before sending stay rare.
const CLAIM_AHEAD: Duration = Duration::from_millis(250);

pub fn is_stale(waited: Duration) -> bool {
    waited > FRESH_FOR
}

/// How many claimed messages may wait for the rate limit at once: what it lets through in
/// `CLAIM_AHEAD`, at least one, at most `capacity` (every message in flight).
pub fn claim_ahead(messages_per_second: u32, capacity: usize) -> usize {
    let per_window = (f64::from(messages_per_second) * CLAIM_AHEAD.as_secs_f64()).ceil();
    (per_window as usize).clamp(1, capacity.max(1))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The wait after `attempts` failed attempts: base·2^(attempts−1), capped at `max`,
    /// "equal jitter" (half fixed, half random from `jitter` ∈ [0, 1)) so that replicas
    /// retrying one outage do not return in step; never shorter than the provider's
    /// `Retry-After`.
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(31);
        let full = self.base.saturating_mul(1 << exponent).min(self.max);
        let jittered = full / 2 + full.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
        jittered.max(retry_after.unwrap_or_default())
    }
}

/// How to record an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Accepted {
        provider_message_id: String,
        status: DeliveryStatus,
        /// What the provider billed, when it says: stored over postcall's own count.
        billed_segments: Option<i32>,
    },
    RetryAt {
        at: DateTime<Utc>,
        code: Option<String>,
        message: String,
    },
    Failed {
        code: Option<String>,
        message: String,
        recipient_opted_out: bool,
    },
    /// The platform refused it for a per-number cap: failed with its code, never retried,
    /// its survey ended (`provider_cap`).
    CapRefused {
        code: Option<String>,
        message: String,
    },
}

/// `attempts` counts this one.
pub fn record(
    outcome: SendOutcome,
    attempts: u32,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    jitter: f64,
) -> Record {
    match outcome {
        SendOutcome::Accepted {
            provider_message_id,
            status,
            billed_segments,
        } => Record::Accepted {
            provider_message_id,
            status,
            // A count past i32 is no count a provider bills; postcall's own stands.
            billed_segments: billed_segments.and_then(|n| i32::try_from(n).ok()),
        },
        SendOutcome::Failed {
            code,
            message,
            recipient_opted_out,
        } => Record::Failed {
            code,
            message,
            recipient_opted_out,
        },
        // Whatever the attempt: sent again, it would be refused again.
        SendOutcome::CapExceeded { code, message } => Record::CapRefused { code, message },
        // Until reconciliation is built, an unknown outcome is retried like a timeout.
        SendOutcome::Unknown {
            code,
            message,
            retry_after,
        } => record(
            SendOutcome::Retry {
                code,
                message,
                retry_after,
            },
            attempts,
            policy,
            now,
            jitter,
        ),
        SendOutcome::Retry { code, message, .. } if attempts >= policy.max_attempts => {
            Record::Failed {
                code,
                message: format!("gave up after {attempts} attempts; last: {message}"),
                recipient_opted_out: false,
            }
        }
        SendOutcome::Retry {
            code,
            message,
            retry_after,
        } => {
            let wait = policy.delay(attempts, retry_after, jitter);
            let at = now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
            Record::RetryAt { at, code, message }
        }
    }
}

#[cfg(test)]
mod tests;
