//! The topology postcall declares, and what happens when the broker drops the worker.

use std::{process::Command, time::Duration};

use crate::helpers::{TestApp, event, minutes_ago, phone};

fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl is installed with RabbitMQ");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queues_are_quorum_queues_dead_lettering_through_the_dlx() {
    let app = TestApp::spawn().await;
    let listing = tokio::task::spawn_blocking(|| {
        rabbitmqctl(&[
            "list_queues",
            "-q",
            "name",
            "type",
            "arguments",
            "--formatter",
            "json",
        ])
    })
    .await
    .unwrap();
    let queues: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    let find = |name: &str| {
        queues
            .iter()
            .find(|q| q["name"] == name)
            .unwrap_or_else(|| panic!("queue {name} not declared"))
            .clone()
    };
    let main = find(&app.names.queue);
    assert_eq!(main["type"], "quorum");
    let args = main["arguments"].to_string();
    assert!(
        args.contains(&format!(
            "[\"x-dead-letter-exchange\",\"longstr\",\"{}\"]",
            app.names.dlx
        )),
        "{args}"
    );
    assert_eq!(find(&app.names.dlq)["type"], "quorum");

    // The bindings route call.completed to the queue and anything on the DLX to the DLQ.
    let bindings = tokio::task::spawn_blocking(|| {
        rabbitmqctl(&[
            "list_bindings",
            "-q",
            "source_name",
            "destination_name",
            "routing_key",
        ])
    })
    .await
    .unwrap();
    assert!(
        bindings.contains(&format!(
            "{}\t{}\tcall.completed",
            app.names.exchange, app.names.queue
        )),
        "{bindings}"
    );
    assert!(
        bindings.contains(&format!("{}\t{}\t#", app.names.dlx, app.names.dlq)),
        "{bindings}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reconnects_after_the_broker_closes_its_connection() {
    let app = TestApp::spawn().await;
    app.publish(&event("before-close", &phone(300), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM calls", 1).await;

    let name = format!("postcall-ingest {}", app.names.queue);
    let closed = tokio::task::spawn_blocking(move || {
        let listing = rabbitmqctl(&["list_connections", "-q", "pid", "client_properties"]);
        let pids: Vec<String> = listing
            .lines()
            .filter(|l| l.contains(&name))
            .filter_map(|l| l.split('\t').next().map(str::to_owned))
            .collect();
        for pid in &pids {
            rabbitmqctl(&[
                "close_connection",
                pid,
                "postcall test: broker drops the worker",
            ]);
        }
        pids.len()
    })
    .await
    .unwrap();
    assert_eq!(closed, 1, "found the worker's connection by its name");

    app.publish(&event("after-close", &phone(301), minutes_ago(1)))
        .await;
    let mut recorded = false;
    for _ in 0..200 {
        if app.decision("after-close").await.is_some() {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recorded,
        "the worker did not reconnect and consume within 10 s"
    );
}
