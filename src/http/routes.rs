//! Route registration that keeps a list of what it registered. axum cannot enumerate a
//! `Router`'s routes, and the OpenAPI document (`assets/openapi.json`) must describe exactly
//! the routes served: registering through `Routes` makes the list a by-product of the router
//! itself, so tests/it/openapi.rs can compare the two both ways.

use std::fmt;

use axum::{
    Router,
    handler::Handler,
    http::Method,
    routing::{get, post},
};

use super::AppState;

/// One registered operation: a method on a path template (`/api/v1/surveys/{call_id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A `Router` and the list of routes registered on it. Only `get` and `post` add routes, so
/// the list cannot leave one out.
#[must_use]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    pub fn get<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, get(handler));
        self.record(Method::GET, path)
    }

    pub fn post<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.record(Method::POST, path)
    }

    /// As `Router::merge`.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Applies layers to the routes registered so far, as `Router::layer` does (`tower`'s
    /// `Layer` trait is not nameable here without another dependency, hence the closure).
    /// Only for layers: a route added inside `wrap` would be served but not listed.
    pub fn wrap(mut self, layers: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = layers(self.router);
        self
    }

    /// The routes in registration order.
    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    fn record(mut self, method: Method, path: &'static str) -> Self {
        self.table.push(Route { method, path });
        self
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}
