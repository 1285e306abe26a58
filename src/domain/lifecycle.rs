//! The lifecycle of a survey and of its SMS as types: a survey's state, a message's status and
//! its purpose, spelled exactly as the database's CHECK lists store them, and the moves each
//! may make. A value that is none of these is an error, never a default.

use std::{fmt, str::FromStr};

/// A stored string that names no variant of the type expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct Unknown {
    pub kind: &'static str,
    pub value: String,
}

/// One spelling per variant: `as_str`, `FromStr`/`TryFrom<&str>` and `Display` from one table.
macro_rules! spelled {
    ($ty:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = Unknown;
            fn from_str(s: &str) -> Result<Self, Unknown> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(Unknown { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Unknown;
            fn try_from(s: &str) -> Result<Self, Unknown> {
                s.parse()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// For the other states spelled as stored (`domain::follow_up::CaseState`).
pub(crate) use spelled;

/// `surveys.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurveyState {
    /// Waiting for its `send_at`.
    Scheduled,
    /// Its first question is claimed by a dispatcher; the provider has not accepted it yet.
    Sending,
    /// The first question went out: replies are awaited until `expires_at`.
    Open,
    Completed,
    Expired,
    OptedOut,
    /// Never sent: opted out before, an unusable phone, or the send was cancelled.
    Cancelled,
    /// Its first question could not be sent.
    Failed,
}

spelled!(SurveyState, "survey state", {
    Scheduled => "scheduled",
    Sending => "sending",
    Open => "open",
    Completed => "completed",
    Expired => "expired",
    OptedOut => "opted_out",
    Cancelled => "cancelled",
    Failed => "failed",
});

impl SurveyState {
    /// The states of `surveys_one_in_flight_per_phone`: at most one per phone.
    pub fn in_flight(self) -> bool {
        matches!(self, Self::Scheduled | Self::Sending | Self::Open)
    }

    /// Whether a write may take a survey from `self` to `next`. Staying put is always allowed
    /// (a re-prompt, a late reply, a deferral); an ended survey never moves again.
    pub fn can_move_to(self, next: SurveyState) -> bool {
        use SurveyState::*;
        self == next
            || match (self, next) {
                (Scheduled, Sending | Cancelled) => true,
                (Sending, Open | Failed | Cancelled) => true,
                // A reply can be recorded before the provider's acceptance of the first
                // question is (see `replied_to`): it moves a `sending` survey as an open one,
                // which has no deadline yet to expire by.
                (Sending, Completed | OptedOut) => true,
                (Open, Completed | Expired | OptedOut) => true,
                // Another survey's opt-out cancels this one while it waits for a reply.
                (Open, Cancelled) => true,
                _ => false,
            }
    }

    /// The state a reply finds the survey in: one still `sending` is open to the customer,
    /// who evidently has the first question.
    pub fn replied_to(self) -> SurveyState {
        match self {
            Self::Sending => Self::Open,
            other => other,
        }
    }

    /// Where a survey still `sending` ends when its first question ends for good as `status`.
    pub fn first_question_ended(status: MessageStatus) -> SurveyState {
        match status {
            MessageStatus::Cancelled => Self::Cancelled,
            _ => Self::Failed,
        }
    }
}

/// `messages.status`: the outbox's own steps, then the provider's normalised delivery status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by one dispatcher under a lease.
    Sending,
    /// Its last attempt's outcome is unknown (DESIGN §4 "No blind resend"): the platform is
    /// asked whether it went out before anything is sent again. Not a failure.
    Reconciling,
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Not sent, and never will be (an opt-out, a survey that ended).
    Cancelled,
}

spelled!(MessageStatus, "message status", {
    Pending => "pending",
    Sending => "sending",
    Reconciling => "reconciling",
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    Undelivered => "undelivered",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl MessageStatus {
    /// `postcall_status_rank` (migration …0003), which the SQL that applies delivery
    /// reports orders by: a status only ever moves to a higher rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Pending | Self::Sending | Self::Reconciling => 0,
            Self::Queued => 1,
            Self::Sent => 2,
            Self::Delivered | Self::Undelivered | Self::Failed => 3,
            Self::Cancelled => 4,
        }
    }

    /// Claimed and handed back (a retry, quiet hours, a lease that ran out) between
    /// `pending` and `sending`; cancelled only before it is sent; a send of unknown outcome
    /// `reconciling` until the platform says: found (on to its status), not found (back to
    /// `pending` for the resend) or never answered (`failed`); otherwise only forward.
    pub fn can_move_to(self, next: MessageStatus) -> bool {
        use MessageStatus::*;
        match (self, next) {
            (Pending, Sending | Cancelled) | (Sending, Pending | Cancelled) => true,
            (Sending, Reconciling) | (Reconciling, Pending) => true,
            (Pending, _) | (_, Pending | Cancelled) => false,
            (from, to) => to.rank() > from.rank(),
        }
    }
}

impl From<super::delivery::DeliveryStatus> for MessageStatus {
    fn from(status: super::delivery::DeliveryStatus) -> Self {
        use super::delivery::DeliveryStatus as D;
        match status {
            D::Queued => Self::Queued,
            D::Sent => Self::Sent,
            D::Delivered => Self::Delivered,
            D::Undelivered => Self::Undelivered,
            D::Failed => Self::Failed,
        }
    }
}

/// `messages.purpose`: decides how the dispatcher treats a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessagePurpose {
    /// The first question, which opens the survey.
    Question,
    /// A later question or a re-prompt: answers the customer's own text.
    FollowUp,
    ThankYou,
    OptOutConfirmation,
    OptInConfirmation,
    Help,
}

spelled!(MessagePurpose, "message purpose", {
    Question => "question",
    FollowUp => "follow_up",
    ThankYou => "thank_you",
    OptOutConfirmation => "opt_out_confirmation",
    OptInConfirmation => "opt_in_confirmation",
    Help => "help",
});

impl MessagePurpose {
    /// Only the first question waits out quiet hours: anything else answers a text the
    /// customer has just sent.
    pub fn respects_quiet_hours(self) -> bool {
        self == Self::Question
    }

    /// Its acceptance by the provider opens the survey and starts the reply deadline.
    pub fn opens_survey(self) -> bool {
        self == Self::Question
    }

    /// Survey texts stop at an opt-out; its confirmation, and help, are still owed.
    pub fn stops_at_opt_out(self) -> bool {
        matches!(self, Self::Question | Self::FollowUp | Self::ThankYou)
    }

    /// Whether the message may still go while its survey is in `survey` (none: a system
    /// reply to a phone without a survey). The first question goes while the survey is
    /// `sending`; a follow-up while it is `open`; a thank-you once it completed.
    /// Confirmations and help answer the customer whatever the survey's state.
    pub fn goes_while(self, survey: Option<SurveyState>) -> bool {
        use SurveyState::*;
        match self {
            Self::Question => matches!(survey, Some(Sending | Open)),
            Self::FollowUp => survey == Some(Open),
            Self::ThankYou => survey == Some(Completed),
            Self::OptOutConfirmation | Self::OptInConfirmation | Self::Help => true,
        }
    }
}

#[cfg(test)]
mod tests;
