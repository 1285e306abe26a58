//! One error type for the HTTP layer: each variant knows its status, and nothing internal
//! leaks into a response body.

use std::{
    num::NonZeroU32,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{domain::phone::redact, metrics};
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Refusal lines logged per second at most: anyone can provoke a refusal, and must not decide
/// how much the log holds. Every refusal is counted in `postcall_http_refusals_total`.
const REFUSAL_LINES_PER_SECOND: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Signature missing or wrong, or the endpoint has no secret to check it with.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    /// The request is understood but the resource's state does not allow it.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for HttpError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match &self {
            Self::Internal(e) => {
                tracing::error!(error = redact(&format!("{e:#}")), "request failed");
                (status, "internal error").into_response()
            }
            Self::Unauthorized => {
                refused(status, |suppressed| {
                    tracing::warn!(suppressed, "request refused: no valid bearer token");
                });
                let challenge = [(axum::http::header::WWW_AUTHENTICATE, "Bearer")];
                (status, challenge, self.to_string()).into_response()
            }
            other => {
                refused(status, |suppressed| {
                    let error = redact(&other.to_string());
                    tracing::warn!(error, suppressed, "request refused");
                });
                (status, other.to_string()).into_response()
            }
        }
    }
}

/// Counts a refusal and logs it through `log` unless this second's lines are spent; a line
/// logged says how many were left out since the last one (`suppressed`).
fn refused(status: StatusCode, log: impl FnOnce(u64)) {
    struct Sampler {
        lines: DefaultDirectRateLimiter,
        suppressed: AtomicU64,
    }
    static SAMPLER: OnceLock<Sampler> = OnceLock::new();
    metrics::http_refused(status.as_u16());
    let sampler = SAMPLER.get_or_init(|| Sampler {
        lines: RateLimiter::direct(Quota::per_second(
            NonZeroU32::new(REFUSAL_LINES_PER_SECOND).expect("a positive rate"),
        )),
        suppressed: AtomicU64::new(0),
    });
    if sampler.lines.check().is_ok() {
        log(sampler.suppressed.swap(0, Ordering::Relaxed));
    } else {
        sampler.suppressed.fetch_add(1, Ordering::Relaxed);
    }
}
