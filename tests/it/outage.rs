//! A database that fails mid-run makes events wait, unacked: never lost, never
//! dead-lettered. The failure is injected by renaming the table the batch writes to, which
//! fails every insert exactly as a missing database would, without stopping the shared
//! PostgreSQL server other tests use.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::helpers::{PG_ADMIN_URL, TestApp, event, minutes_ago, phone};

async fn exec(app: &TestApp, sql: &str) {
    let db_url = &app.names.database_url;
    let mut conn = PgConnection::connect(db_url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

async fn publish_range(app: &TestApp, from: u32, to: u32) {
    for i in from..to {
        app.publish(&event(
            &format!("outage-{i}"),
            &phone(2000 + i),
            minutes_ago(1),
        ))
        .await;
    }
}

async fn ready_status(app: &TestApp) -> u16 {
    reqwest::get(format!("{}/readyz", app.http))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_while_the_database_fails_and_are_committed_when_it_returns() {
    let app = TestApp::spawn().await;
    exec(&app, "ALTER TABLE calls RENAME TO calls_away").await;
    publish_range(&app, 0, 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count("SELECT count(*) FROM calls_away").await, 0);
    assert_eq!(
        ready_status(&app).await,
        503,
        "readiness reports the failing database"
    );
    assert!(
        app.dead_letters().await.is_empty(),
        "a database outage dead-lettered events"
    );

    exec(&app, "ALTER TABLE calls_away RENAME TO calls").await;
    app.wait_for_count("SELECT count(*) FROM calls", 20).await;
    app.wait_for_count("SELECT count(*) FROM surveys", 20).await;
    assert_eq!(ready_status(&app).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_acked_before_commit_so_a_stopped_worker_loses_nothing() {
    let mut app = TestApp::spawn().await;
    exec(&app, "ALTER TABLE calls RENAME TO calls_away").await;
    publish_range(&app, 0, 25).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // The worker holds the batch, unacked, retrying. Stop it there.
    app.stop().await;
    exec(&app, "ALTER TABLE calls_away RENAME TO calls").await;
    let mut conn = PgConnection::connect(&app.names.database_url)
        .await
        .unwrap();
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM calls")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(committed, 0);

    // The deliveries went back to the queue: a new worker commits every one of them.
    let restarted = TestApp::spawn_named(app.names.clone(), &[]).await;
    restarted
        .wait_for_count("SELECT count(*) FROM calls", 25)
        .await;
    restarted
        .wait_for_count("SELECT count(*) FROM surveys", 25)
        .await;
    assert!(restarted.dead_letters().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_database_connections_are_replaced_without_losing_events() {
    let app = TestApp::spawn().await;
    publish_range(&app, 0, 5).await;
    app.wait_for_count("SELECT count(*) FROM calls", 5).await;

    let db_name = app
        .names
        .database_url
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let mut admin = PgConnection::connect(PG_ADMIN_URL).await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1) t",
    )
    .bind(&db_name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(killed > 0, "the worker had connections to kill");

    publish_range(&app, 5, 15).await;
    app.wait_for_count("SELECT count(*) FROM calls", 15).await;
    assert!(app.dead_letters().await.is_empty());
}
