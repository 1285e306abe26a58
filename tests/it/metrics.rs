//! `GET /metrics` exposes what the on-call engineer watches.

use chrono::Utc;

use crate::{
    helpers::{Names, TestApp, event, insert_surveys, minutes_ago, phone},
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
    postcall::aggregate::Aggregator::new(app.pool.clone(), &app.names.settings(&[]))
        .unwrap()
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
