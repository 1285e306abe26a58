//! `/api/v1`: read-only views for operators and reporting clients, behind a bearer token
//! when `api.token` is set.

mod scores;
mod surveys;

use axum::{
    extract::{Request, State},
    http::header::AUTHORIZATION,
    middleware::{self, Next},
    response::Response,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AppState, Routes, error::HttpError};

pub fn routes(state: AppState) -> Routes {
    Routes::new()
        .get("/api/v1/scores", scores::show)
        .get("/api/v1/surveys/{call_id}", surveys::show)
        .wrap(|router| router.layer(middleware::from_fn_with_state(state, require_token)))
}

async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, HttpError> {
    if let Some(expected) = state.api_token.as_deref() {
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same(given, expected) {
            return Err(HttpError::Unauthorized);
        }
    }
    Ok(next.run(request).await)
}

/// Compares in constant time (through an HMAC check), so timing reveals nothing of the token.
fn same(given: &str, expected: &str) -> bool {
    let tag = |s: &str| {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(b"postcall-api-token").expect("any key length");
        mac.update(s.as_bytes());
        mac
    };
    tag(given)
        .verify_slice(&tag(expected).finalize().into_bytes())
        .is_ok()
}
