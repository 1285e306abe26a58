//! SIGTERM while events flow and SMS go out: the worker stops taking work, commits or hands
//! back what it holds, and exits 0; counted afterwards, nothing is lost or doubled. A role
//! that cannot stop in time is abandoned at the deadline, and its work is still not lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::net::TcpListener;

use crate::{
    helpers::{Cleanup, Names, Publisher, event, minutes_ago, phone},
    process::{queue_counts, signal, spawn_worker, wait_for_exit, wait_until_ready},
    provider_double::WEBHOOK_SECRET,
};

/// Events go out in paced chunks until the worker has exited, so some are still waiting when
/// it stops however fast it ingests, and a loaded machine is not handed more than its restart
/// can send; the cap bounds the run if the worker never stops.
const CHUNK: u32 = 250;
const PACE: Duration = Duration::from_millis(50);
const MOST_EVENTS: u32 = 10_000;

/// The default 20 SMS/s would make the restart's 6,000 sends take minutes.
const UNLIMITED: [(&str, &str); 2] = [
    (
        "POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND",
        "100000",
    ),
    (
        "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
        "100000",
    ),
];

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Counts, not pace, are what these tests check: up to five minutes for a loaded machine.
async fn wait_until(pool: &sqlx::PgPool, sql: &str, want: impl Fn(i64) -> bool, what: &str) {
    for _ in 0..6000 {
        if want(count(pool, sql).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let states: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT 'survey', state, count(*) FROM surveys GROUP BY state
         UNION ALL SELECT 'message', status, count(*) FROM messages GROUP BY status",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    panic!(
        "{what}: still {} after 5 minutes; {states:?}",
        count(pool, sql).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_batch_loses_nothing_and_a_restart_finishes_the_work() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let first = spawn_worker(&names, &UNLIMITED);
    let (pool, publisher) = wait_until_ready(&names).await;

    let exchange = names.exchange.clone();
    let exited = Arc::new(AtomicBool::new(false));
    let publishing = tokio::spawn({
        let exited = exited.clone();
        async move {
            let publisher = Publisher::connect(&exchange).await;
            let mut published = 0;
            while !exited.load(Ordering::Acquire) && published < MOST_EVENTS {
                let events: Vec<_> = (published..published + CHUNK)
                    .map(|i| event(&format!("term-{i}"), &phone(i), minutes_ago(2)))
                    .collect();
                publisher.publish_many(&events).await;
                published += CHUNK;
                tokio::time::sleep(PACE).await;
            }
            published
        }
    });
    // Mid-flow: some calls committed, more arriving, SMS going out.
    wait_until(
        &pool,
        "SELECT count(*) FROM calls",
        |n| n >= 1_500,
        "calls recorded",
    )
    .await;
    signal(&first, "TERM");
    let (status, logs) = wait_for_exit(first, Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "postcall did not exit 0 on SIGTERM:\n{logs}"
    );
    exited.store(true, Ordering::Release);
    let events = i64::from(publishing.await.unwrap());

    // Counted: every event is either recorded or back in the queue, none twice, no lease held.
    let recorded = count(&pool, "SELECT count(*) FROM calls").await;
    let (waiting, consumers) = queue_counts(&publisher, &names.queue).await.unwrap();
    assert_eq!(consumers, 0);
    assert!(recorded < events, "stopped before the end of the flow");
    assert_eq!(
        recorded + i64::from(waiting),
        events,
        "lost or doubled: {recorded} recorded + {waiting} in the queue"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT (SELECT count(*) FROM messages WHERE status = 'sending')
                  + (SELECT count(*) FROM surveys WHERE leased_by IS NOT NULL)"
        )
        .await,
        0,
        "a lease was left held"
    );

    // A new worker picks up exactly the rest: one survey and one first SMS per call.
    let second = spawn_worker(&names, &UNLIMITED);
    wait_until(
        &pool,
        "SELECT count(*) FROM messages WHERE status = 'sent'",
        |n| n == events,
        "first SMS sent",
    )
    .await;
    assert_eq!(count(&pool, "SELECT count(*) FROM calls").await, events);
    assert_eq!(count(&pool, "SELECT count(*) FROM surveys").await, events);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM (SELECT survey_id FROM messages
               GROUP BY survey_id HAVING count(*) > 1) twice"
        )
        .await,
        0,
        "a survey got two SMS"
    );
    assert_eq!(queue_counts(&publisher, &names.dlq).await.unwrap().0, 0);
    signal(&second, "TERM");
    let (status, logs) = wait_for_exit(second, Duration::from_secs(30)).await;
    assert!(status.success(), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_stuck_past_the_deadline_is_abandoned_and_its_lease_kept() {
    // A provider that accepts the connection and never answers: the send hangs.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let worker = spawn_worker(
        &names,
        &[
            ("POSTCALL__PROVIDER__KIND", "webhook"),
            ("POSTCALL__PROVIDER__WEBHOOK__URL", &url),
            ("POSTCALL__PROVIDER__WEBHOOK__SECRET", WEBHOOK_SECRET),
            ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "60"),
            ("POSTCALL__DISPATCH__LEASE_SECONDS", "120"),
            ("POSTCALL__SHUTDOWN__DEADLINE_SECONDS", "2"),
        ],
    );
    let (pool, publisher) = wait_until_ready(&names).await;
    publisher
        .publish_json(&event("stuck-1", &phone(1), minutes_ago(2)))
        .await;
    // A first question in flight is claimed on its survey; it has no row until it is sent.
    wait_until(
        &pool,
        "SELECT count(*) FROM surveys WHERE state = 'sending' AND leased_by IS NOT NULL",
        |n| n == 1,
        "the send in flight",
    )
    .await;

    let asked = tokio::time::Instant::now();
    signal(&worker, "TERM");
    let (status, logs) = wait_for_exit(worker, Duration::from_secs(20)).await;
    let took = asked.elapsed();
    assert_eq!(status.code(), Some(1), "{logs}");
    assert!(took < Duration::from_secs(10), "took {took:?}:\n{logs}");
    assert!(
        logs.contains("dispatch") && logs.contains("shutdown.deadline_seconds"),
        "{logs}"
    );
    // The survey keeps its lease: another dispatcher resends it when the lease expires.
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM surveys
              WHERE state = 'sending' AND leased_by IS NOT NULL AND lease_until > now()"
        )
        .await,
        1
    );
    held.abort();
}
