//! The ceiling HTTP allows here: pre-built request bodies POSTed by a default reqwest client
//! to the same provider, as many in flight as the dispatcher may have, answers read and
//! parsed; no database, no signing.

use std::time::Duration;

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use uuid::Uuid;

use super::provider::Server;
use crate::proc_stats::{Rate, Window};

#[derive(Deserialize)]
struct Accepted {
    provider_message_id: String,
}

/// Sends `n` requests, `concurrency` at a time; timed from the provider's first request to
/// the client's last answer.
pub async fn run(n: usize, concurrency: usize, body: &str) -> anyhow::Result<Rate> {
    let server = Server::start(n).await?;
    let bodies: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": Uuid::new_v4().to_string(),
                "to": super::phone(i),
                "body": body,
                "status_callback": super::STATUS_CALLBACK,
            })
            .to_string()
        })
        .collect();
    let client = reqwest::Client::new();
    let url = server.url.clone();
    let load = tokio::spawn(async move {
        futures_util::stream::iter(bodies)
            .map(|body| {
                let request = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body);
                async move {
                    let response = request.send().await?.error_for_status()?;
                    let accepted = response.json::<Accepted>().await?;
                    anyhow::ensure!(!accepted.provider_message_id.is_empty(), "no provider id");
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(concurrency)
            .try_collect::<()>()
            .await
    });
    server.first(Duration::from_secs(30)).await?;
    let window = Window::start();
    load.await.context("the baseline's client panicked")??;
    let rate = window.finish(n);
    server.sink.check()?;
    Ok(rate)
}
