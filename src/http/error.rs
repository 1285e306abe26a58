//! One error type for the HTTP layer: each variant knows its status, and nothing internal
//! leaks into a response body.

use crate::domain::phone::redact;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

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
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match &self {
            Self::Internal(e) => {
                tracing::error!(error = redact(&format!("{e:#}")), "request failed");
                (status, "internal error").into_response()
            }
            Self::Unauthorized => {
                tracing::warn!("request refused: no valid bearer token");
                let challenge = [(axum::http::header::WWW_AUTHENTICATE, "Bearer")];
                (status, challenge, self.to_string()).into_response()
            }
            other => {
                tracing::warn!(error = redact(&other.to_string()), "request refused");
                (status, other.to_string()).into_response()
            }
        }
    }
}
