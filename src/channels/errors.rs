//! What a platform's refusal of a send means, shared by the platforms that answer with
//! their own error codes (Tencent Cloud, Aliyun): each channel classes its codes, and the
//! class decides the outcome of the send.

use std::fmt;

use super::SendOutcome;

/// What a refused send means for the message and its survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Another attempt would be refused the same way (configuration, template, signature,
    /// account, request shape): the message fails for good.
    Permanent,
    /// The platform did not take the message and may take it later (API throttling).
    Retryable,
    /// A per-number, per-content or daily cap (DESIGN §4 "Per-number caps"): the survey ends
    /// with this reason; retrying only burns quota until the window passes.
    CapExceeded,
    /// The recipient is on the platform's do-not-disturb list, usually after unsubscribing:
    /// record the opt-out.
    OptedOut,
    /// Not a number the platform can send to.
    InvalidNumber,
    /// The platform timed out on its side and may have sent it: ask it (DESIGN §4 "No blind
    /// resend") before sending again, since neither platform's send is idempotent.
    OutcomeUnknown,
}

impl ErrorClass {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Retryable => "retryable",
            Self::CapExceeded => "cap exceeded",
            Self::OptedOut => "opted out",
            Self::InvalidNumber => "invalid number",
            Self::OutcomeUnknown => "outcome unknown",
        }
    }

    /// The outcome of a send refused with `code`; the class stays in the message text so
    /// that the stored reason shows it.
    pub fn outcome(self, code: &str, message: &str) -> SendOutcome {
        let message = format!("{code} ({self}): {message}");
        let code = Some(code.to_owned());
        match self {
            Self::CapExceeded => SendOutcome::CapExceeded { code, message },
            Self::Permanent | Self::InvalidNumber => SendOutcome::Failed {
                code,
                message,
                recipient_opted_out: false,
            },
            Self::OptedOut => SendOutcome::Failed {
                code,
                message,
                recipient_opted_out: true,
            },
            Self::Retryable => SendOutcome::Retry {
                code,
                message,
                retry_after: None,
            },
            Self::OutcomeUnknown => SendOutcome::Unknown {
                code,
                message,
                retry_after: None,
            },
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_becomes_its_outcome_and_keeps_code_and_class_in_view() {
        let failed = |class: ErrorClass| match class.outcome("X.Y", "why") {
            SendOutcome::Failed {
                code,
                message,
                recipient_opted_out,
            } => {
                assert_eq!(code.as_deref(), Some("X.Y"));
                assert_eq!(message, format!("X.Y ({class}): why"));
                Some(recipient_opted_out)
            }
            _ => None,
        };
        assert_eq!(failed(ErrorClass::Permanent), Some(false));
        assert_eq!(failed(ErrorClass::InvalidNumber), Some(false));
        assert!(matches!(
            ErrorClass::CapExceeded.outcome("X.Y", "why"),
            SendOutcome::CapExceeded { code: Some(c), message } if c == "X.Y" && message.contains("cap exceeded")
        ));
        assert!(matches!(
            ErrorClass::OutcomeUnknown.outcome("X.Y", "why"),
            SendOutcome::Unknown { code: Some(c), message, .. } if c == "X.Y" && message.contains("outcome unknown")
        ));
        assert_eq!(failed(ErrorClass::OptedOut), Some(true));
        for class in [ErrorClass::Retryable] {
            match class.outcome("X.Y", "why") {
                SendOutcome::Retry { code, message, .. } => {
                    assert_eq!(code.as_deref(), Some("X.Y"));
                    assert!(message.contains(class.as_str()), "{message}");
                }
                other => panic!("{class}: {other:?}"),
            }
        }
    }
}
