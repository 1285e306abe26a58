//! `/api/v1`: views for operators and reporting clients, and the moves on follow-up cases,
//! behind a bearer token when `api.token` is set, and for this machine only when it is not.

mod access;
mod case_list;
mod cases;
mod cursor;
mod feedback;
mod page;
mod scores;
mod surveys;

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    handler::Handler,
    http::{
        HeaderValue,
        header::{AUTHORIZATION, CACHE_CONTROL, HOST},
    },
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
        .get("/api/v1/feedback", feedback::list)
        .get("/api/v1/cases", case_list::list)
        .get("/api/v1/cases/{call_id}", cases::show)
        .post(
            "/api/v1/cases/{call_id}/moves",
            cases::make_move.layer(DefaultBodyLimit::max(cases::BODY_LIMIT)),
        )
        .wrap(|router| router.layer(middleware::from_fn_with_state(state, guard)))
}

/// With `api.token` set, the bearer token. Without one (config allows that only on a loopback
/// bind), the request must be addressed to a loopback host: a page elsewhere that rebinds its
/// own name to 127.0.0.1 gets its browser to connect here, but still under that name.
async fn guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, HttpError> {
    check_access(state.api_token.as_deref(), &request)?;
    Ok(next.run(request).await)
}

fn check_access(token: Option<&str>, request: &Request) -> Result<(), HttpError> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match token {
        Some(expected) => {
            let given = header(AUTHORIZATION)
                .and_then(access::bearer)
                .unwrap_or_default();
            if !same(given, expected) {
                return Err(HttpError::Unauthorized);
            }
        }
        None => {
            let host = header(HOST).or_else(|| request.uri().authority().map(|a| a.as_str()));
            if !host.is_some_and(access::loopback_host) {
                return Err(HttpError::Forbidden(
                    "api.token is not set, so the API answers only requests addressed to \
                     localhost, 127.0.0.1 or [::1]"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

/// `Cache-Control: no-store` on every answer under /api, refusals and errors included: the
/// answers hold customers' replies, which no browser or proxy cache should keep.
pub async fn no_store(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path == "/api" || path.starts_with("/api/");
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
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
