//! What the dispatcher does with a due survey, a claimed message and a provider's answer:
//! pure decisions, so every rule is tested without a database or a provider.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::{
    channels::{Lookup, SendOutcome},
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
    pub reconcile: ReconcilePolicy,
}

/// How a send of unknown outcome is looked up (`dispatch.reconcile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcilePolicy {
    /// How long after the attempt the platform is first asked: long enough for the
    /// platform to list what it took.
    pub grace: Duration,
    /// Lookups a message gets in its life; the last one unanswered fails it.
    pub max_checks: u32,
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

/// How far before an attempt a lookup searches: what a platform's clock may be behind ours.
pub const LOOKUP_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

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
    /// It may have been sent: ask the platform at `at` before anything else.
    ReconcileAt {
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
        // Never resent blind, whatever attempts are left: the platform is asked first.
        SendOutcome::Unknown {
            code,
            message,
            retry_after,
        } => {
            let wait = policy.reconcile.grace.max(retry_after.unwrap_or_default());
            Record::ReconcileAt {
                at: later(now, wait),
                code,
                message,
            }
        }
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
            Record::RetryAt {
                at: later(now, wait),
                code,
                message,
            }
        }
    }
}

fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX)
}

/// What to do with a send of unknown outcome once the platform answered a lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// It went out: recorded as the accepted send it was.
    Accepted {
        provider_message_id: String,
        status: DeliveryStatus,
    },
    /// It did not: back to the queue, sent again through the normal path (gate, rate limit,
    /// a counted attempt).
    Resend,
    /// The platform could not be asked: ask again at `at`.
    CheckAgainAt {
        at: DateTime<Utc>,
        message: String,
    },
    Failed {
        message: String,
    },
}

/// `attempts` are the sends made so far, `checks` the lookups, this one included.
pub fn reconciled(
    lookup: Lookup,
    attempts: u32,
    checks: u32,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    jitter: f64,
) -> Reconciled {
    match lookup {
        Lookup::Found {
            provider_message_id,
            status,
        } => Reconciled::Accepted {
            provider_message_id,
            status,
        },
        Lookup::NotFound if attempts >= policy.max_attempts => Reconciled::Failed {
            message: format!(
                "not sent: the platform has no record of it and all {attempts} attempts are spent"
            ),
        },
        Lookup::NotFound => Reconciled::Resend,
        Lookup::CannotAsk { message } if checks >= policy.reconcile.max_checks => {
            Reconciled::Failed {
                message: format!(
                    "outcome unknown: the platform could not be asked whether it was sent \
                     ({checks} lookups); last: {message}"
                ),
            }
        }
        Lookup::CannotAsk { message } => Reconciled::CheckAgainAt {
            at: later(now, policy.delay(checks, None, jitter)),
            message: format!("the platform could not be asked: {message}"),
        },
    }
}

#[cfg(test)]
mod tests;
