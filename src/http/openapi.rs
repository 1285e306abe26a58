//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every route. It is a static file,
//! so people and tools can read and diff it; tests/it/openapi.rs keeps it equal to the routes
//! registered and to the handlers' real answers. It describes and holds no data, so it needs
//! no token.

use axum::{http::header, response::IntoResponse};

use super::Routes;

pub const DOCUMENT: &str = include_str!("../../assets/openapi.json");

pub fn routes() -> Routes {
    Routes::new().get("/api/openapi.json", document)
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
