//! `GET /healthz`: the process answers. `GET /readyz`: its dependencies answer too.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::AppState;
use crate::store::db;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = database_ok(&state).await;
    let broker = !state.uses_broker || state.health.broker_up();
    let ready = database && broker;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": word(database),
        "broker": if state.uses_broker { word(broker) } else { "not used" },
    });
    (status, Json(body))
}

async fn database_ok(state: &AppState) -> bool {
    if state.health.database_failing() {
        return false;
    }
    let probe = db::ping(&state.pool);
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(_))
    )
}
