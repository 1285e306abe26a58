//! What an HTTP answer means for a send, shared by the channels that send over HTTP.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, header::RETRY_AFTER};

use super::SendOutcome;

/// A provider's whole answer, read.
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// Sends the request and judges the whole answer with `judge`; a transport failure is an
/// outcome of its own.
pub async fn exchange(
    request: RequestBuilder,
    judge: impl FnOnce(Answer) -> SendOutcome,
) -> SendOutcome {
    match read(request).await {
        Ok(answer) => judge(answer),
        Err(failed) => failed,
    }
}

async fn read(request: RequestBuilder) -> Result<Answer, SendOutcome> {
    let response = request.send().await.map_err(|e| transport_error(&e))?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.text().await.map_err(|e| transport_error(&e))?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A transport failure: timeouts and connection errors are worth retrying; a request that
/// could not even be built is not.
pub fn transport_error(e: &reqwest::Error) -> SendOutcome {
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
    SendOutcome::Retry {
        code: None,
        message: format!("{kind}: {e}"),
        retry_after: None,
    }
}

/// 429 and 5xx are retried (after `Retry-After` if the provider sent one); any other
/// error status fails the message for good.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
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
