//! Customers' phone numbers never appear whole in the worker's logs: a real `postcall run`
//! handles a survey and two poison events that echo numbers, and its output is searched.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{Cleanup, Names, event, json_properties, minutes_ago},
    process::{queue_counts, signal, spawn_worker, wait_for_exit, wait_for_sent, wait_until_ready},
};

const SENT_TO: &str = "+8613911112222";
const ECHOED: &str = "8613933334444";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_holds_a_whole_phone_number() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let child = spawn_worker(&names, &[]);
    let (pool, publisher) = wait_until_ready(&names).await;
    publisher
        .publish_json(&event("logged-call", SENT_TO, minutes_ago(1)))
        .await;
    let mut echoing = event("poison-1", "+8613900000000", minutes_ago(1));
    echoing["customer_phone"] = json!(ECHOED.parse::<u64>().unwrap());
    publisher
        .publish_raw(&serde_json::to_vec(&echoing).unwrap(), json_properties())
        .await;

    // The survey's SMS went out through the console provider, which logs it. Generous: a
    // whole test suite shares the machine with this process.
    let sent = wait_for_sent(&pool, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    signal(&child, "INT");
    let (status, logs) = wait_for_exit(child, Duration::from_secs(30)).await;
    assert!(
        sent,
        "the survey was not sent within 30 s; the worker said:\n{logs}"
    );
    assert!(
        status.success(),
        "postcall did not stop cleanly on SIGINT:\n{logs}"
    );
    assert!(
        logs.contains("SMS (console provider)") && logs.contains("poison event dead-lettered"),
        "{logs}"
    );
    for whole in [&SENT_TO[1..], ECHOED] {
        assert!(
            !logs.contains(whole),
            "a whole phone number {whole} in the logs:\n{logs}"
        );
    }
    assert!(
        logs.contains("+86139******22"),
        "the masked number is there: {logs}"
    );
    assert!(
        logs.contains("86139******44"),
        "the poison reason echoed the number, masked: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_call_id_of_each_unit_of_work() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let child = spawn_worker(&names, &[("POSTCALL__LOG__FORMAT", "json")]);
    let (pool, publisher) = wait_until_ready(&names).await;
    publisher
        .publish_json(&event("json-call", SENT_TO, minutes_ago(1)))
        .await;
    let mut poison = event("json-poison", SENT_TO, minutes_ago(1));
    poison["ended_at"] = json!("yesterday");
    publisher.publish_json(&poison).await;
    assert!(wait_for_sent(&pool, 1).await, "{}", child.printed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&child, "INT");
    let (status, logs) = wait_for_exit(child, Duration::from_secs(30)).await;
    assert!(status.success(), "{logs}");

    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["fields"].is_object())
    );
    let sms = lines
        .iter()
        .find(|l| l["fields"]["message"] == "SMS (console provider)")
        .unwrap_or_else(|| panic!("no SMS line in:\n{logs}"));
    assert_eq!(sms["span"]["name"], "send", "{sms}");
    assert_eq!(sms["span"]["call_id"], "json-call", "{sms}");
    let dead = lines
        .iter()
        .find(|l| l["fields"]["message"] == "poison event dead-lettered")
        .unwrap_or_else(|| panic!("no dead-letter line in:\n{logs}"));
    assert_eq!(dead["fields"]["call_id"], "json-poison", "{dead}");
    assert_eq!(dead["span"]["name"], "batch", "{dead}");
    assert!(
        !logs.contains(&SENT_TO[1..]),
        "a whole phone number:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_cannot_forge_a_log_line_or_colour_the_terminal() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let child = spawn_worker(&names, &[]);
    let (_, publisher) = wait_until_ready(&names).await;
    let mut forging = event("forging-\u{1b}[31m-call", SENT_TO, minutes_ago(1));
    forging["disposition"] = json!("completed\u{1b}[31m\nERROR forged by the call platform");
    publisher.publish_json(&forging).await;
    let mut dead_lettered = false;
    for _ in 0..600 {
        if let Some((1.., _)) = queue_counts(&publisher, &names.dlq).await {
            dead_lettered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    signal(&child, "INT");
    let (status, logs) = wait_for_exit(child, Duration::from_secs(30)).await;
    assert!(dead_lettered && status.success(), "{logs}");
    let poison = logs
        .lines()
        .find(|l| l.contains("poison event dead-lettered"))
        .unwrap_or_else(|| panic!("no dead-letter line in:\n{logs}"));
    assert!(
        poison.contains(r"completed\u{1b}[31m\nERROR forged by the call platform"),
        "the value is on its own line, escaped: {poison}"
    );
    assert!(
        !logs.lines().any(|l| l.starts_with("ERROR forged")),
        "a forged line:\n{logs}"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "an escape sequence reached the output: {logs:?}"
    );
}
