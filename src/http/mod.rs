//! The HTTP server: health, metrics, provider callbacks, the API and the dashboard.

mod api;
mod dashboard;
pub mod error;
mod health;
mod observe;
mod openapi;
mod routes;
pub mod webhooks;

pub use routes::{Route, Routes};

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::Router;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub health: Arc<Health>,
    /// Whether this replica consumes from RabbitMQ (so readiness depends on the broker).
    pub uses_broker: bool,
    pub webhooks: Arc<webhooks::WebhookAuth>,
    pub survey: Arc<crate::domain::survey::SurveyDefinition>,
    /// `api.token`, if set: /api routes then require it as a bearer token.
    pub api_token: Option<String>,
    /// `api.max_groups`: the most groups one scores answer may hold.
    pub max_groups: u64,
    /// `aggregation.timezone`: what "today" means for the scores API's default range.
    pub scores_zone: chrono_tz::Tz,
}

pub fn router(state: AppState) -> Router {
    routes(&state)
        .into_router()
        .layer(axum::middleware::from_fn(observe::record))
        .with_state(state)
}

/// Every route served, recorded as registered: assets/openapi.json must list exactly these
/// (tests/it/openapi.rs).
pub fn routes(state: &AppState) -> Routes {
    Routes::new()
        .get("/healthz", health::healthz)
        .get("/readyz", health::readyz)
        .get("/metrics", observe::metrics)
        .merge(webhooks::routes())
        .merge(api::routes(state.clone()))
        .merge(dashboard::routes())
        .merge(openapi::routes())
}

/// Binds first (so a taken port fails start-up loudly), then serves until shutdown.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the HTTP server to {addr} (http.bind)"))
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "HTTP listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("serving HTTP")
}
