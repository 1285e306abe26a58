//! `postcall run`: start the enabled roles on one runtime and stop them together.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    backoff,
    config::Settings,
    health::Health,
    http::{self, AppState},
    ingest::Ingest,
    store::db,
};

/// Connects to PostgreSQL, retrying with backoff while it is unreachable: a worker started
/// before its database waits for it rather than crash-looping.
pub async fn connect_database(
    settings: &Settings,
    shutdown: &CancellationToken,
) -> anyhow::Result<PgPool> {
    let mut delays = backoff::forever(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        match db::connect(&settings.database).await {
            Ok(pool) => return Ok(pool),
            Err(e) => {
                let delay = delays.next().unwrap_or(Duration::from_secs(30));
                tracing::warn!(error = format!("{e:#}"), retry_in = ?delay, "PostgreSQL unavailable");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => anyhow::bail!("stopped while waiting for PostgreSQL"),
                }
            }
        }
    }
}

pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let policy = Arc::new(settings.policy()?);
    let pool = connect_database(&settings, &shutdown).await?;
    db::migrate(&pool).await?;
    let health = Arc::new(Health::default());

    let mut roles = tokio::task::JoinSet::new();
    if settings.http.enabled {
        let listener = http::bind(settings.http_bind()?).await?;
        let state = AppState {
            pool: pool.clone(),
            health: health.clone(),
            uses_broker: settings.ingest.enabled,
        };
        roles.spawn(http::serve(listener, state, shutdown.clone()));
    }
    if settings.ingest.enabled {
        let ingest = Ingest {
            settings: settings.clone(),
            policy,
            pool: pool.clone(),
            health: health.clone(),
            shutdown: shutdown.clone(),
        };
        roles.spawn(async move {
            ingest.run().await;
            Ok(())
        });
    }
    tracing::info!(
        ingest = settings.ingest.enabled,
        http = settings.http.enabled,
        "postcall running"
    );
    if roles.is_empty() {
        tracing::warn!("every role is disabled in config; nothing to do");
    }
    while let Some(done) = roles.join_next().await {
        // A role that ends on its own is a failure: stop the others and report it.
        if let Err(e) = done.context("a role panicked").and_then(|r| r) {
            shutdown.cancel();
            return Err(e);
        }
        if !shutdown.is_cancelled() {
            shutdown.cancel();
            anyhow::bail!("a role stopped unexpectedly");
        }
    }
    pool.close().await;
    Ok(())
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("signal received; shutting down");
        token.cancel();
    });
}
