//! `GET /metrics`, and the per-request measurements behind its HTTP series.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::AppState;
use crate::{metrics, store::backlog};

/// Counts and times every request by route template (never the raw path, which would
/// carry call ids) and status.
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::http_request(route, response.status().as_u16(), started.elapsed());
    response
}

/// The Prometheus text format. The dispatch lag is read from the database at scrape time.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let lag = backlog::dispatch_lag_seconds(&state.pool)
        .await
        .unwrap_or(None);
    metrics::dispatch_lag(lag.unwrap_or(0.0));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::handle().render(),
    )
}
