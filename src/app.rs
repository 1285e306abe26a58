//! `postcall run`: start the enabled roles on one runtime and stop them together.

mod roles;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use self::roles::Roles;
use crate::{
    aggregate::{self, Aggregator},
    backoff,
    channels::{Configured, callbacks::Keys},
    config::{ExposeSecret, Settings},
    dispatch::Dispatcher,
    events::Publisher,
    health::Health,
    housekeeping::Housekeeping,
    http::{self, AppState},
    ingest::Ingest,
    store::{db, wake::Waker},
};

/// Connects to PostgreSQL, retrying with backoff while it is unreachable: a worker started
/// before its database waits for it rather than crash-looping.
pub async fn connect_database(
    settings: &Settings,
    shutdown: &CancellationToken,
) -> anyhow::Result<PgPool> {
    let mut delays = backoff::RECONNECT.delays();
    loop {
        match db::connect(&settings.database).await {
            Ok(pool) => return Ok(pool),
            Err(e) => {
                let delay = delays.next_delay();
                tracing::warn!(error = format!("{e:#}"), retry_in = ?delay, "PostgreSQL unavailable");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => anyhow::bail!("stopped while waiting for PostgreSQL"),
                }
            }
        }
    }
}

/// The roles of a started worker.
pub struct Running {
    /// Where the HTTP server listens, if it is enabled (tests bind port 0).
    pub http_addr: Option<SocketAddr>,
    /// Where /metrics is served, if `http.metrics_bind` gives it an address of its own.
    pub metrics_addr: Option<SocketAddr>,
    pub pool: PgPool,
    roles: Roles,
    shutdown: CancellationToken,
    deadline: Duration,
}

impl Running {
    /// Waits until shutdown is requested and every role has stopped (or the shutdown
    /// deadline passed); a role that stops on its own before that is a failure that stops
    /// the others.
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.roles.run(&self.shutdown, self.deadline).await;
        // Connections held by abandoned roles are dropped with them; don't wait on them.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.pool.close()).await;
        result
    }
}

pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    start(settings, shutdown).await?.wait().await
}

/// Connects, migrates, binds, and spawns the enabled roles.
pub async fn start(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Running> {
    crate::metrics::handle();
    let settings = Arc::new(settings);
    let runtime = settings.runtime()?;
    let pool = connect_database(&settings, &shutdown).await?;
    db::migrate(&pool).await?;
    let health = Arc::new(Health::default());

    let mut roles = Roles::default();
    let mut http_addr = None;
    let mut metrics_addr = None;
    if settings.http.enabled {
        let listener = http::bind(settings.http_bind()?, "http.bind").await?;
        http_addr = Some(listener.local_addr()?);
        let api_token =
            Some(settings.api.token.expose_secret().to_owned()).filter(|t| !t.trim().is_empty());
        if api_token.is_none() {
            tracing::warn!(
                "the API is unauthenticated (api.token is empty): /api/v1 answers only \
                 requests from this machine addressed to localhost, 127.0.0.1 or [::1]"
            );
        }
        let state = AppState {
            pool: pool.clone(),
            wake: Waker::spawn(pool.clone()),
            health: health.clone(),
            uses_broker: settings.ingest.enabled,
            webhooks: Arc::new(Keys::new(&settings.provider, &settings.http.public_url)?),
            survey: runtime.survey.clone(),
            channel: runtime.provider.clone(),
            api_token,
            max_groups: settings.api.max_groups,
            min_answers_to_rank: settings.scores.min_answers_to_rank,
            scores_zone: runtime.scores_zone,
        };
        roles.spawn(
            "callback inbox",
            http::sweep_inbox(state.clone(), shutdown.clone()),
        );
        let limits = http::Limits::from_settings(&settings.http);
        let router = match settings.metrics_bind()? {
            Some(addr) => {
                let listener = http::bind(addr, "http.metrics_bind").await?;
                metrics_addr = Some(listener.local_addr()?);
                let router = http::metrics_router(state.clone());
                let serving = http::serve(listener, router, "metrics", limits, shutdown.clone());
                roles.spawn("metrics", serving);
                http::router_without_metrics(state)
            }
            None => http::router(state),
        };
        let serving = http::serve(listener, router, "main", limits, shutdown.clone());
        roles.spawn("http", serving);
    }
    if settings.ingest.enabled {
        let ingest = Ingest {
            settings: settings.clone(),
            policy: runtime.policy.clone(),
            retention: runtime.retention,
            pool: pool.clone(),
            health: health.clone(),
            shutdown: shutdown.clone(),
        };
        roles.spawn("ingest", async move {
            ingest.run().await;
            Ok(())
        });
    }
    if settings.dispatch.enabled {
        let timeout = Duration::from_secs(settings.dispatch.request_timeout_seconds);
        let provider = Arc::new(Configured::new(
            &settings.provider,
            &settings.http.public_url,
            timeout,
        )?);
        let dispatcher = Dispatcher::new(
            &settings,
            &runtime,
            pool.clone(),
            provider,
            shutdown.clone(),
        )?;
        roles.spawn("dispatch", async move {
            dispatcher.run().await;
            Ok(())
        });
        let housekeeping = Housekeeping::new(&settings, pool.clone(), shutdown.clone());
        roles.spawn("housekeeping", async move {
            housekeeping.run().await;
            Ok(())
        });
        let publisher = Publisher {
            pool: pool.clone(),
            amqp: settings.amqp.clone(),
            shutdown: shutdown.clone(),
        };
        roles.spawn("events", async move {
            publisher.run().await;
            Ok(())
        });
    }
    if settings.aggregation.enabled {
        let aggregator = Aggregator::new(pool.clone(), &runtime);
        let (runtime, shutdown) = (runtime.clone(), shutdown.clone());
        roles.spawn("aggregation", async move {
            aggregate::run_on_schedule(aggregator, &runtime, shutdown).await
        });
    }
    tracing::info!(
        ingest = settings.ingest.enabled,
        dispatch = settings.dispatch.enabled,
        http = settings.http.enabled,
        aggregation = settings.aggregation.enabled,
        provider = %settings.provider.kind,
        "postcall running"
    );
    if roles.is_empty() {
        tracing::warn!("every role is disabled in config; nothing to do");
    }
    Ok(Running {
        http_addr,
        metrics_addr,
        pool,
        roles,
        shutdown,
        deadline: Duration::from_secs(settings.shutdown.deadline_seconds),
    })
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
