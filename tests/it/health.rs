use crate::helpers::{Cleanup, Names, TestApp};
use postcall::app;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_report_ok_when_both_services_are_up() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", app.http))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = client
        .get(format!("{}/readyz", app.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["broker"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_makes_the_worker_wait_not_exit() {
    crate::helpers::init_tracing();
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    // Nothing listens on port 1: every connection attempt fails at once.
    let settings = names.settings(&[
        ("POSTCALL__AMQP__URL", "amqp://guest:guest@127.0.0.1:1/%2f"),
        ("POSTCALL__AMQP__CONNECT_TIMEOUT_SECONDS", "1"),
    ]);
    let shutdown = CancellationToken::new();
    let running = app::start(settings, shutdown.clone()).await.unwrap();
    let url = format!("http://{}", running.http_addr.unwrap());
    let handle = tokio::spawn(running.wait());

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        !handle.is_finished(),
        "the worker exited instead of retrying"
    );
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["broker"], "unavailable");
    assert_eq!(body["database"], "ok");

    shutdown.cancel();
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), handle).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "clean stop while retrying: {stopped:?}"
    );
}
