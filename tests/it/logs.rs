//! Customers' phone numbers never appear whole in the worker's logs: a real `postcall run`
//! handles a survey and two poison events that echo numbers, and its output is searched.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::helpers::{Cleanup, Names, Publisher, event, json_properties, minutes_ago};

const SENT_TO: &str = "+8613911112222";
const ECHOED: &str = "8613933334444";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_holds_a_whole_phone_number() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let child = Command::new(env!("CARGO_BIN_EXE_postcall"))
        .arg("run")
        .env("POSTCALL__DATABASE__URL", &names.database_url)
        .env("POSTCALL__AMQP__EXCHANGE", &names.exchange)
        .env("POSTCALL__AMQP__QUEUE", &names.queue)
        .env("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &names.dlx)
        .env("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &names.dlq)
        .env("POSTCALL__AMQP__EVENTS_EXCHANGE", &names.events)
        .env("POSTCALL__HTTP__BIND", "127.0.0.1:0")
        .env("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false")
        .env("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting postcall");

    let pool = wait_for_database(&names.database_url).await;
    let publisher = Publisher::connect(&names.exchange).await;
    wait_for_queue(&publisher, &names.queue).await;
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
    let mut sent = false;
    for _ in 0..600 {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if n == 1 {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        sent,
        "the survey was not sent within 30 s; the worker said:\n{logs}"
    );
    assert!(
        output.status.success(),
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

async fn wait_for_database(url: &str) -> sqlx::PgPool {
    for _ in 0..200 {
        if let Ok(pool) = sqlx::PgPool::connect(url).await
            && sqlx::query("SELECT 1 FROM messages LIMIT 1")
                .execute(&pool)
                .await
                .is_ok()
        {
            return pool;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("postcall did not create and migrate its database within 10 s");
}

/// Waits for the worker's consumer: the queue's binding is declared before it consumes, so
/// from then on a publish cannot be dropped as unroutable.
async fn wait_for_queue(publisher: &Publisher, queue: &str) {
    for _ in 0..600 {
        let channel = publisher.connection.create_channel().await.unwrap();
        let passive = lapin::options::QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        if let Ok(q) = channel
            .queue_declare(queue.into(), passive, Default::default())
            .await
            && q.consumer_count() > 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("postcall did not consume from its queue within 30 s");
}
