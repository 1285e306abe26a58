//! Poison events land in the dead-letter queue unchanged, with the reason, and nowhere else.

use lapin::types::{AMQPValue, FieldTable};
use serde_json::Value;

use crate::helpers::{
    TestApp, event, header, json_properties, minutes_ago, phone, wait_for_dead_letters,
};

fn mutated(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut e = event("poison", &phone(50), minutes_ago(1));
    f(&mut e);
    serde_json::to_vec(&e).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_poison_is_dead_lettered_unchanged_with_its_reason() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("invalid event JSON", b"{\"call_id\": \"oops\"".to_vec()),
        ("invalid event JSON", vec![0xff, 0xfe, 0x00]),
        (
            "missing field `customer_phone`",
            mutated(|e| {
                e.as_object_mut().unwrap().remove("customer_phone");
            }),
        ),
        (
            "missing field `ended_at`",
            mutated(|e| {
                e.as_object_mut().unwrap().remove("ended_at");
            }),
        ),
        ("invalid type", mutated(|e| e["call_id"] = 12345.into())),
        (
            "`customer_phone`",
            mutated(|e| e["customer_phone"] = "138-0013-8000".into()),
        ),
        (
            "`started_at`",
            mutated(|e| e["started_at"] = "yesterday".into()),
        ),
        (
            "`disposition`",
            mutated(|e| e["disposition"] = "hung_up".into()),
        ),
        (
            "`call_id`",
            mutated(|e| e["call_id"] = "x".repeat(129).into()),
        ),
        (
            "`customer_timezone`",
            mutated(|e| e["customer_timezone"] = "Mars/Base".into()),
        ),
        ("NUL", mutated(|e| e["agent_id"] = "a\u{0}b".into())),
        (
            "`ended_at`",
            mutated(|e| e["ended_at"] = "2020-01-01T00:00:00Z".into()),
        ),
        // A publisher whose clock is a year ahead: the call "ends" next year.
        (
            "`ended_at`: is 525",
            mutated(|e| {
                let year = chrono::TimeDelta::days(365);
                e["started_at"] = (minutes_ago(6) + year).to_rfc3339().into();
                e["answered_at"] = (minutes_ago(5) + year).to_rfc3339().into();
                e["ended_at"] = (minutes_ago(1) + year).to_rfc3339().into();
            }),
        ),
    ];
    let mut headers = FieldTable::default();
    headers.insert("x-trace".into(), AMQPValue::LongString("trace-42".into()));
    for (_, body) in &cases {
        app.publisher
            .publish_raw(body, json_properties().with_headers(headers.clone()))
            .await;
    }
    // A good event after the poison proves the consumer went on.
    app.publish(&event("good", &phone(51), minutes_ago(1)))
        .await;

    let dead = wait_for_dead_letters(&app, cases.len()).await;
    assert_eq!(dead.len(), cases.len());
    // Batches in flight together may dead-letter out of publish order; each body is unique,
    // so each case finds its own dead letter by it.
    for (expected, body) in &cases {
        let mut found = dead.iter().filter(|m| &m.delivery.data == body);
        let message = found
            .next()
            .unwrap_or_else(|| panic!("{expected:?}: its body is dead-lettered unchanged"));
        assert!(found.next().is_none(), "{expected:?} dead-lettered once");
        let reason = header(message, "x-postcall-error").expect("reason header");
        assert!(
            reason.contains(expected),
            "expected {expected:?} in {reason:?}"
        );
        assert_eq!(
            header(message, "x-trace").as_deref(),
            Some("trace-42"),
            "headers kept"
        );
        assert_eq!(
            message
                .delivery
                .properties
                .content_type()
                .as_ref()
                .map(|c| c.as_str()),
            Some("application/json")
        );
    }
    app.wait_for_count("SELECT count(*) FROM calls", 1).await;
    assert_eq!(app.decision("good").await.as_deref(), Some("scheduled"));

    // Nothing is left behind in the main queue to be retried in a loop.
    let left = crate::helpers::drain(&app.publisher.channel, &app.names.queue).await;
    assert!(
        left.is_empty(),
        "{} messages left in the main queue",
        left.len()
    );
}
