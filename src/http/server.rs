//! The accept loop. `axum::serve` bounds nothing a client controls: a connection could trickle
//! its headers, sit idle, or be one of thousands, each holding a socket and a task for good.
//! Here every connection is HTTP/1.1 through hyper with a header-read timeout, closed when
//! idle, and at most `max_connections` are served at once.

use std::{sync::Arc, time::Duration};

use axum::Router;
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use super::idle::{Activity, Watched};
use crate::config::Http;

/// What one client may hold (`http.*` in config).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_settings(http: &Http) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_seconds),
            idle_timeout: Duration::from_secs(http.idle_timeout_seconds),
            max_connections: usize::try_from(http.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Serves `router` on `listener` until `shutdown`, then lets the requests in flight finish
/// (idle connections close at once) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        // A slot before accepting: over the cap, a connection waits in the listen backlog,
        // unread, until one closes (and the kernel refuses connections once that is full).
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: accepting again at once would spin.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let activity = Activity::new();
        let io = TokioIo::new(Watched::new(stream, activity.clone()));
        let service = TowerToHyperService::new(router.clone());
        let tracker = activity.clone();
        let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            // Who connected, for the routes that narrow their callers by address.
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let handling = tracker.handling();
            let answer = hyper::service::Service::call(&service, request);
            async move {
                let response = answer.await;
                drop(handling);
                response
            }
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            tokio::select! {
                served = connection => {
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "HTTP connection ended");
                    }
                }
                () = activity.idle_for(idle_timeout) => {
                    tracing::debug!(%peer, "idle HTTP connection closed");
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
