//! The baseline: an axum route that parses the same form body and inserts one row, over a
//! pool built the way postcall builds its own (same size and options), in a fresh database.

use std::net::SocketAddr;

use anyhow::Context;
use axum::{
    Router, body::Bytes, extract::State, http::header, response::IntoResponse, routing::post,
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::replies::PATH;

const TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

pub async fn create_table(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE replies (
             id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             message_sid text        NOT NULL,
             from_phone  text        NOT NULL,
             body        text        NOT NULL,
             received_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(pool)
    .await
    .context("creating the baseline's table")?;
    Ok(())
}

/// Serves the baseline route on 127.0.0.1:0 until `shutdown`.
pub async fn serve(pool: PgPool, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let app = Router::new().route(PATH, post(insert)).with_state(pool);
    serve_on_any_port(app, "webhook baseline", shutdown).await
}

/// Serves `app` on 127.0.0.1:0 until `shutdown`, in a task of its own; a failure of the
/// server is printed under `name`. Returns the address it listens on.
pub async fn serve_on_any_port(
    app: Router,
    name: &'static str,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            eprintln!("{name}: the server failed: {e}");
        }
    });
    Ok(addr)
}

async fn insert(State(pool): State<PgPool>, body: Bytes) -> axum::response::Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let inserted =
        sqlx::query("INSERT INTO replies (message_sid, from_phone, body) VALUES ($1, $2, $3)")
            .bind(field("MessageSid"))
            .bind(field("From"))
            .bind(field("Body"))
            .execute(&pool)
            .await;
    match inserted {
        Ok(_) => ([(header::CONTENT_TYPE, "text/xml")], TWIML).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub async fn rows(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM replies")
        .fetch_one(pool)
        .await?)
}
