//! What an HTTP answer means for a send, shared by the channels that send over HTTP, and
//! the one place that tells a request that never reached the provider from one that may
//! have been sent (DESIGN §4 "No blind resend").

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, header::RETRY_AFTER};

use super::SendOutcome;

/// Whether the provider drops a second send of the same message, which decides what an
/// answer that never came means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// The provider takes an idempotency key (the webhook provider's `Idempotency-Key`):
    /// sending again is safe whatever became of the first request.
    Blind,
    /// No idempotency key (Twilio, Tencent, Aliyun): a request that may have been sent is
    /// looked up on the platform before it is sent again.
    AfterLookup,
}

/// A provider's whole answer, read.
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// Sends the request and judges the whole answer with `judge`; a transport failure is an
/// outcome of its own, judged by `resend`.
pub async fn exchange(
    request: RequestBuilder,
    resend: Resend,
    judge: impl FnOnce(Answer) -> SendOutcome,
) -> SendOutcome {
    match read(request).await {
        Ok(answer) => judge(answer),
        Err(e) => transport_error(&e, resend),
    }
}

/// Sends a request that changes nothing (a lookup) and reads the answer; a transport failure
/// is described, since the caller only needs to know it could not ask.
pub async fn ask(request: RequestBuilder) -> Result<Answer, String> {
    read(request).await.map_err(|e| {
        format!(
            "{}: {e}",
            if e.is_timeout() {
                "timeout"
            } else {
                "connection error"
            }
        )
    })
}

async fn read(request: RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.text().await?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// How far a failed request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// No connection was made: the provider never saw it.
    NotReached,
    /// The request may have been written (a timeout, a connection lost mid-exchange):
    /// the provider may have taken it.
    MayHaveReached,
}

impl Transport {
    fn of(e: &reqwest::Error) -> Self {
        // A timeout while connecting is a connect error too: nothing was written.
        if e.is_connect() {
            Self::NotReached
        } else {
            Self::MayHaveReached
        }
    }
}

/// A transport failure: a request that could not even be built fails; one that never
/// reached the provider is retried; one that may have been sent is retried only where the
/// provider drops duplicates, and otherwise looked up first.
pub fn transport_error(e: &reqwest::Error, resend: Resend) -> SendOutcome {
    if e.is_builder() {
        return SendOutcome::Failed {
            code: None,
            message: format!("request could not be built: {e}"),
            recipient_opted_out: false,
        };
    }
    let kind = if e.is_timeout() {
        "timeout"
    } else {
        "connection error"
    };
    transport(Transport::of(e), resend, format!("{kind}: {e}"))
}

/// What a transport failure that got as far as `got` means for a provider that `resend`s.
pub fn transport(got: Transport, resend: Resend, message: String) -> SendOutcome {
    match (got, resend) {
        (Transport::MayHaveReached, Resend::AfterLookup) => SendOutcome::Unknown {
            code: None,
            message,
            retry_after: None,
        },
        (Transport::NotReached, _) | (_, Resend::Blind) => SendOutcome::Retry {
            code: None,
            message,
            retry_after: None,
        },
    }
}

/// An error status that is no refusal of this message: 429 (throttled before it was taken)
/// is retried; a 5xx may come after the provider took it, so it is retried only where the
/// provider drops duplicates and otherwise looked up. None for any other status: the
/// channel reads the provider's refusal.
pub fn unavailable(
    status: StatusCode,
    resend: Resend,
    code: Option<String>,
    message: String,
    retry_after: Option<Duration>,
) -> Option<SendOutcome> {
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && resend == Resend::Blind)
    {
        return Some(SendOutcome::Retry {
            code,
            message,
            retry_after,
        });
    }
    status.is_server_error().then_some(SendOutcome::Unknown {
        code,
        message,
        retry_after,
    })
}

/// A success status whose body cannot be read, or is not about this message: the provider
/// may have sent it, so it is looked up rather than sent again or failed.
pub fn unreadable(message: String) -> SendOutcome {
    SendOutcome::Unknown {
        code: None,
        message,
        retry_after: None,
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.to_utc() - chrono::Utc::now()).to_std().ok()
}

/// The start of a body, for an error message that stays readable.
pub fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(300).collect();
    if body.chars().count() > 300 {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests;
