//! The HTTP server: health, metrics, provider callbacks, the API and the dashboard.

mod api;
mod dashboard;
pub(crate) mod error;
mod health;
mod idle;
mod observe;
mod openapi;
mod routes;
mod server;
mod webhooks;

pub use routes::{Route, Routes};
pub use server::Limits;
pub use webhooks::sweep_inbox;

/// The state's dispatcher waker, built by whoever builds the state.
pub use crate::store::wake::Waker;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::Router;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Wakes the dispatchers after a reply queued an SMS, without making the reply wait.
    pub wake: Waker,
    pub health: Arc<Health>,
    /// Whether this replica consumes from RabbitMQ (so readiness depends on the broker).
    pub uses_broker: bool,
    /// What the provider callbacks are verified with.
    pub webhooks: Arc<crate::channels::callbacks::Keys>,
    pub survey: Arc<crate::domain::survey::SurveyDefinition>,
    /// The chosen channel's settings, for its templates (`channels::compose::Texts`).
    pub channel: Arc<crate::channels::Settings>,
    /// `api.token`, if set: /api routes then require it as a bearer token.
    pub api_token: Option<String>,
    /// `api.max_groups`: the most groups one scores answer may hold.
    pub max_groups: u64,
    /// `scores.min_answers_to_rank`: told to the dashboard with the scores (`ranking`).
    pub min_answers_to_rank: u64,
    /// `aggregation.timezone`: what "today" means for the scores API's default range.
    pub scores_zone: chrono_tz::Tz,
}

/// Every route, as one server serves them when /metrics has no bind of its own.
pub fn router(state: AppState) -> Router {
    finish(routes(&state), state)
}

/// Every route but /metrics, for the main bind when `http.metrics_bind` is set.
pub fn router_without_metrics(state: AppState) -> Router {
    finish(service_routes(&state), state)
}

/// /metrics alone, for `http.metrics_bind`.
pub fn metrics_router(state: AppState) -> Router {
    finish(metrics_routes(), state)
}

fn finish(routes: Routes, state: AppState) -> Router {
    routes
        .into_router()
        .layer(axum::middleware::from_fn(api::no_store))
        .layer(axum::middleware::from_fn(observe::record))
        .with_state(state)
}

/// Every route served, on whichever bind, recorded as registered: assets/openapi.json must
/// list exactly these (tests/it/openapi.rs).
pub fn routes(state: &AppState) -> Routes {
    service_routes(state).merge(metrics_routes())
}

fn service_routes(state: &AppState) -> Routes {
    Routes::new()
        .get("/healthz", health::healthz)
        .get("/readyz", health::readyz)
        .merge(webhooks::routes())
        .merge(api::routes(state.clone()))
        .merge(dashboard::routes())
        .merge(openapi::routes())
}

fn metrics_routes() -> Routes {
    Routes::new().get("/metrics", observe::metrics)
}

/// Binds first (so a taken port fails start-up loudly), then serves until shutdown.
pub async fn bind(addr: SocketAddr, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the HTTP server to {addr} ({key})"))
}

/// Serves `router` (`routes` names them in the log) on `listener` until shutdown.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    routes: &'static str,
    limits: Limits,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, routes, "HTTP listening");
    server::serve(listener, router, limits, shutdown).await;
    Ok(())
}
