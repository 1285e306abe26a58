//! `GET /api/v1/surveys/{call_id}`: the decision, the state, every message and answer.

use serde_json::Value;

use crate::helpers::{Names, TestApp, event, minutes_ago, phone};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_is_shown_with_its_decision_messages_and_answers_behind_the_token() {
    let app = TestApp::spawn_named(
        Names::new(),
        &[
            ("POSTCALL__API__TOKEN", "s3cret-8oFvSqC3wMwweWUpTx4CXr6Y"),
            ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0"),
        ],
    )
    .await;
    let mut skipped = event("api-skipped", &phone(1), minutes_ago(1));
    skipped["disposition"] = "abandoned".into();
    app.publish(&skipped).await;
    app.publish(&event("api-sent", &phone(2), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    let client = reqwest::Client::new();
    let get = |call: &str, token: Option<&str>| {
        let mut r = client.get(format!("{}/api/v1/surveys/{call}", app.http));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let refused = get("api-sent", None).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_eq!(get("api-sent", Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(
        get("no-such-call", Some("s3cret-8oFvSqC3wMwweWUpTx4CXr6Y"))
            .await
            .unwrap()
            .status(),
        404
    );

    let sent: Value = get("api-sent", Some("s3cret-8oFvSqC3wMwweWUpTx4CXr6Y"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["call_id"], "api-sent");
    assert_eq!(sent["decision"], "scheduled");
    assert_eq!(sent["reason"], "scheduled");
    assert_eq!(sent["state"], "open");
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["direction"], "outbound");
    assert_eq!(messages[0]["status"], "sent");
    assert_eq!(messages[0]["segments"], 1);
    assert!(
        messages[0]["body"]
            .as_str()
            .unwrap()
            .contains("您的问题解决了吗")
    );
    assert_eq!(sent["answers"], serde_json::json!([]));

    let skipped: Value = get("api-skipped", Some("s3cret-8oFvSqC3wMwweWUpTx4CXr6Y"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(skipped["decision"], "skipped");
    assert_eq!(skipped["reason"], "disposition");
    assert_eq!(skipped["state"], Value::Null);
}
