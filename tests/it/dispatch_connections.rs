//! The dispatch loops keep connections of their own, outside the pool. A database restart
//! kills them while they sit idle; the next claim and the next record find that out and go
//! on at once on a new connection: no failed claim, no failed record, no backoff step.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};

use crate::{
    helpers::{Cleanup, Names, event, minutes_ago, phone},
    process::{signal, spawn_worker, wait_for_exit, wait_for_sent, wait_until_ready},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_while_idle_are_replaced_without_a_failed_claim_or_record() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let child = spawn_worker(&names, &[]);
    let (pool, publisher) = wait_until_ready(&names).await;

    publisher
        .publish_json(&event("before-kill", &phone(1), minutes_ago(1)))
        .await;
    assert!(
        wait_for_sent(&pool, 1).await,
        "not sent within 30 s:\n{}",
        child.printed()
    );

    // Every connection the worker holds, the loops' own among them, as a restart would.
    let mut admin = PgConnection::connect(&names.database_url).await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query NOT LIKE '%pg_terminate_backend%') k",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(killed >= 2, "only {killed} connections to kill");
    pool.close().await;
    let pool = PgPool::connect(&names.database_url).await.unwrap();

    publisher
        .publish_json(&event("after-kill", &phone(2), minutes_ago(1)))
        .await;
    assert!(
        wait_for_sent(&pool, 2).await,
        "not sent after the kill within 30 s:\n{}",
        child.printed()
    );

    signal(&child, "INT");
    let (status, logs) = wait_for_exit(child, Duration::from_secs(30)).await;
    assert!(status.success(), "postcall did not stop cleanly:\n{logs}");
    for failed in [
        "claiming messages failed",
        "could not record accepted sends",
    ] {
        assert!(!logs.contains(failed), "`{failed}` after the kill:\n{logs}");
    }
}
