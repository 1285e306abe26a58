//! Events survive a broker outage: they wait in the outbox and go out when it is back.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::{options::ExchangeDeclareOptions, types::FieldTable};
use postcall::events::Publisher;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Names, TestApp, listen_for_events};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_in_the_outbox_while_the_broker_is_unreachable() {
    // A worker that only serves HTTP owns the database; the publishers here are our own.
    let names = Names::new();
    let app = TestApp::spawn_named(
        names.clone(),
        &[
            ("POSTCALL__DISPATCH__ENABLED", "false"),
            ("POSTCALL__INGEST__ENABLED", "false"),
        ],
    )
    .await;
    sqlx::query(
        "INSERT INTO outbox (id, routing_key, payload) VALUES (gen_random_uuid(), 'survey.completed', '{\"call_id\": \"c-1\"}')",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let mut down = names
        .settings(&[("POSTCALL__AMQP__URL", "amqp://guest:guest@127.0.0.1:1/%2f")])
        .amqp;
    down.connect_timeout_seconds = 1;
    let stop = CancellationToken::new();
    let publisher = Publisher {
        pool: app.pool.clone(),
        amqp: down,
        shutdown: stop.clone(),
    };
    let running = tokio::spawn(publisher.run());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.cancel();
    running.await.unwrap();
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await,
        1
    );

    // The broker is back: the event is published once and marked.
    let channel = &app.publisher.channel;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            names.events.as_str().into(),
            lapin::ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut events = listen_for_events(&app).await;
    let stop = CancellationToken::new();
    let publisher = Publisher {
        pool: app.pool.clone(),
        amqp: names.settings(&[]).amqp,
        shutdown: stop.clone(),
    };
    let running = tokio::spawn(publisher.run());
    let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(delivery.routing_key.as_str(), "survey.completed");
    assert!(
        delivery.properties.message_id().is_some(),
        "consumers can dedupe on message_id"
    );
    app.wait_for_count(
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
        1,
    )
    .await;
    stop.cancel();
    running.await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.next())
            .await
            .is_err(),
        "published twice"
    );
}
