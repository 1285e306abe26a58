//! `postcall replay-dead-letters` moves dead-lettered events back after a fix.

use std::process::Command;

use lapin::types::{AMQPValue, FieldTable};
use postcall::amqp;

use crate::helpers::{Names, TestApp, event, json_properties, minutes_ago, phone};

fn replay(names: &Names, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_postcall"))
        .arg("replay-dead-letters")
        .args(args)
        .env("POSTCALL__AMQP__EXCHANGE", &names.exchange)
        .env("POSTCALL__AMQP__QUEUE", &names.queue)
        .env("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &names.dlx)
        .env("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &names.dlq)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Puts a call's event in the dead-letter queue as the worker would have, with `reason`.
async fn dead_letter(app: &TestApp, call_id: &str, phone_n: u32, reason: &str) {
    let body = serde_json::to_vec(&event(call_id, &phone(phone_n), minutes_ago(1))).unwrap();
    let mut headers = FieldTable::default();
    headers.insert(
        "x-postcall-error".into(),
        AMQPValue::LongString(reason.into()),
    );
    let route = amqp::Route::new(&app.names.dlx, "call.completed");
    amqp::publish_confirmed(
        &app.publisher.channel,
        route,
        &body,
        json_properties().with_headers(headers),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_lists_and_a_replay_moves_events_back_to_be_ingested() {
    let app = TestApp::spawn().await;
    // An event dead-lettered by an earlier, since-fixed version of the worker.
    dead_letter(
        &app,
        "replayed-call",
        42,
        "`queue`: unknown queue (fixed since)",
    )
    .await;

    let (listed, summary) = tokio::task::spawn_blocking({
        let names = app.names.clone();
        move || replay(&names, &["--dry-run"])
    })
    .await
    .unwrap();
    assert!(
        listed.contains("replayed-call") && listed.contains("fixed since"),
        "{listed}"
    );
    assert!(summary.contains("0 replayed, 1 listed"), "{summary}");
    assert_eq!(
        app.decision("replayed-call").await,
        None,
        "a dry run moves nothing"
    );

    let (_, summary) = tokio::task::spawn_blocking({
        let names = app.names.clone();
        move || replay(&names, &[])
    })
    .await
    .unwrap();
    assert!(summary.contains("1 replayed"), "{summary}");
    app.wait_for_count(
        "SELECT count(*) FROM calls WHERE call_id = 'replayed-call'",
        1,
    )
    .await;
    assert!(
        app.dead_letters().await.is_empty(),
        "the dead-letter queue is empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_ids_and_reasons_masked_and_escaped() {
    let app = TestApp::spawn().await;
    // A call platform that puts the caller's number, spaced, and a colour code in its id.
    let call_id = "cb-+86 139 1234 5678-\u{1b}[31mred";
    dead_letter(
        &app,
        call_id,
        43,
        "`disposition`: unknown `completed\nERROR forged`",
    )
    .await;

    let (listed, _) = tokio::task::spawn_blocking({
        let names = app.names.clone();
        move || replay(&names, &["--dry-run"])
    })
    .await
    .unwrap();
    assert_eq!(listed.lines().count(), 1, "one line per event: {listed:?}");
    assert!(
        !listed.contains('\u{1b}') && !listed.contains("1234 5678"),
        "{listed:?}"
    );
    assert_eq!(
        listed,
        "cb-+86 139 **** **78-\\u{1b}[31mred\t`disposition`: unknown `completed\\nERROR forged`\n"
    );
}
