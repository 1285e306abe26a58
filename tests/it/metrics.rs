//! `GET /metrics` exposes what the on-call engineer watches.

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::{
    helpers::{Cleanup, Names, TestApp, event, insert_surveys, minutes_ago, phone},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_cover_ingest_dispatch_http_and_aggregation() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("m-{n}"))).await;
    let app = TestApp::spawn_env(Names::new(), &webhook_env(&provider.uri())).await;
    app.publish(&event("metrics-call", &phone(7), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM calls", 1).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Etc/UTC").await;
    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM messages WHERE status = 'queued'", 1)
        .await;
    reqwest::get(format!("{}/healthz", app.http)).await.unwrap();
    postcall::aggregate::Aggregator::new(
        app.pool.clone(),
        &app.names.settings(&[]).runtime().unwrap(),
    )
    .run_now()
    .await
    .unwrap();

    let response = reqwest::get(format!("{}/metrics", app.http)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for series in [
        "postcall_events_consumed_total",
        "postcall_ingest_decisions_total{reason=\"scheduled\"}",
        "postcall_sms_segments_total{provider=\"webhook\"}",
        "postcall_dispatch_lag_seconds",
        "postcall_http_request_duration_seconds_bucket",
        "postcall_aggregation_duration_seconds_bucket",
        "postcall_aggregation_last_success_timestamp_seconds",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    let sms = text.lines().find(|l| {
        l.starts_with("postcall_sms_total{")
            && l.contains("outcome=\"accepted\"")
            && l.contains("provider=\"webhook\"")
    });
    assert!(sms.is_some(), "{text}");
    let healthz = text.lines().find(|l| {
        l.starts_with("postcall_http_requests_total{")
            && l.contains("route=\"/healthz\"")
            && l.contains("status=\"200\"")
    });
    assert!(
        healthz.is_some(),
        "requests are counted by route template: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_a_bind_of_their_own_and_then_leave_the_main_one() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let settings = names.settings(&[
        ("POSTCALL__HTTP__METRICS_BIND", "127.0.0.1:0"),
        ("POSTCALL__INGEST__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
    ]);
    let shutdown = CancellationToken::new();
    let running = postcall::app::start(settings, shutdown.clone())
        .await
        .unwrap();
    let main = running.http_addr.unwrap();
    let metrics = running
        .metrics_addr
        .expect("metrics on a bind of their own");
    assert_ne!(main, metrics);
    let stopped = tokio::spawn(running.wait());

    let scraped = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("postcall_dispatch_lag_seconds"), "{text}");
    let on_main = reqwest::get(format!("http://{main}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_main.status(), 404);
    assert_eq!(
        reqwest::get(format!("http://{main}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let others = reqwest::get(format!("http://{metrics}/healthz"))
        .await
        .unwrap();
    assert_eq!(others.status(), 404, "only /metrics on the metrics bind");

    shutdown.cancel();
    stopped.await.unwrap().unwrap();
}
