use chrono::{DateTime, TimeDelta, Utc};

use crate::helpers::{TestApp, event, minutes_ago, phone};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_becomes_one_scheduled_survey_at_ended_plus_delay() {
    let app = TestApp::spawn().await;
    let ended = minutes_ago(1);
    app.publish(&event("call-1", &phone(1), ended)).await;

    app.wait_for_count("SELECT count(*) FROM surveys", 1).await;
    let (call_id, state, send_at, language, zone): (String, String, DateTime<Utc>, String, String) =
        sqlx::query_as("SELECT call_id, state, send_at, language, timezone FROM surveys")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(call_id, "call-1");
    assert_eq!(state, "scheduled");
    assert_eq!(send_at, ended + TimeDelta::seconds(300));
    assert_eq!(language, "zh-CN");
    assert_eq!(zone, "Asia/Shanghai");
    assert_eq!(app.decision("call-1").await.as_deref(), Some("scheduled"));

    let (wait, talk, body_call): (Option<f64>, f64, String) = sqlx::query_as(
        "SELECT wait_seconds, talk_seconds, event->>'call_id' FROM calls WHERE call_id = 'call-1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (wait, talk, body_call.as_str()),
        (Some(40.0), 300.0, "call-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_or_republished_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let first = event("call-dup", &phone(2), minutes_ago(2));
    app.publish(&first).await;
    app.wait_for_count("SELECT count(*) FROM surveys", 1).await;
    let before: (String, DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT c.agent_id, c.decided_at, s.send_at FROM calls c JOIN surveys s USING (call_id)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();

    // The same body again, and a "corrected" republish with other values for the same call.
    app.publish(&first).await;
    let mut changed = first.clone();
    changed["agent_id"] = "agent-99".into();
    changed["ended_at"] = minutes_ago(0).to_rfc3339().into();
    app.publish(&changed).await;
    // A marker event behind them proves both were consumed before we look.
    app.publish(&event("call-marker", &phone(3), minutes_ago(1)))
        .await;
    app.wait_for_count(
        "SELECT count(*) FROM calls WHERE call_id = 'call-marker'",
        1,
    )
    .await;

    assert_eq!(
        app.count("SELECT count(*) FROM calls WHERE call_id = 'call-dup'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM surveys").await, 2);
    let after: (String, DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT c.agent_id, c.decided_at, s.send_at FROM calls c JOIN surveys s USING (call_id) WHERE call_id = 'call-dup'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(before, after);
    assert!(
        app.dead_letters().await.is_empty(),
        "duplicates are not poison"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_events_is_recorded_exactly_once_each() {
    let app = TestApp::spawn_with(&[
        ("POSTCALL__INGEST__BATCH_SIZE", "50"),
        ("POSTCALL__INGEST__PREFETCH", "200"),
    ])
    .await;
    let ended = minutes_ago(3);
    for i in 0..300u32 {
        // Every tenth event repeats an earlier call: 270 distinct calls.
        let n = if i % 10 == 9 { i - 1 } else { i };
        app.publish(&event(&format!("burst-{n}"), &phone(1000 + n), ended))
            .await;
    }
    app.wait_for_count("SELECT count(*) FROM calls", 270).await;
    app.wait_for_count("SELECT count(*) FROM surveys", 270)
        .await;
    assert!(app.dead_letters().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_comes_back_after_its_queue_is_deleted() {
    let app = TestApp::spawn().await;
    app.publish(&event("before", &phone(4), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM calls", 1).await;

    // Deleting the queue cancels the consumer: the session must notice, back off,
    // redeclare the topology and consume again rather than stall silently.
    app.publisher
        .channel
        .queue_delete(app.names.queue.as_str().into(), Default::default())
        .await
        .unwrap();
    let mut delivered = false;
    for _ in 0..100 {
        // Until the queue is redeclared and bound, publishes are unroutable and dropped.
        app.publish(&event("after", &phone(5), minutes_ago(1)))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.decision("after").await.is_some() {
            delivered = true;
            break;
        }
    }
    assert!(
        delivered,
        "ingest did not resume after its queue was recreated"
    );
}
