//! Two dispatchers on one database send each message exactly once.

use std::collections::HashSet;

use chrono::Utc;

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_send_each_of_a_thousand_surveys_exactly_once() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("accepted-{n}"))).await;
    let names = Names::new();
    let mut env = webhook_env(&provider.uri());
    env.push((
        "POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND".into(),
        "100000".into(),
    ));
    env.push((
        "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND".into(),
        "100000".into(),
    ));
    let first = TestApp::spawn_env(names.clone(), &env).await;
    let second = TestApp::spawn_env(names, &env).await;
    insert_surveys(&first.pool, 1000, Utc::now(), "Etc/UTC").await;

    // A thousand sends through two dispatchers take seconds on a quiet machine and several
    // times that beside a build; the assertions below are about counts, not pace.
    first
        .wait_for_count_within(
            "SELECT count(*) FROM surveys WHERE state = 'open'",
            1000,
            std::time::Duration::from_secs(60),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let requests = provider.requests();
    assert_eq!(requests.len(), 1000, "each survey exactly once");
    let ids: HashSet<String> = requests
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["to"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1000, "no phone texted twice");
    assert_eq!(second.count("SELECT count(*) FROM messages").await, 1000);
}
