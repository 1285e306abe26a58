use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

fn id() -> Uuid {
    Uuid::parse_str("0b6f7f5e-2c51-4a8e-9f0e-6f1d2c3b4a59").unwrap()
}

fn answer(status: u16, body: Value) -> http::Answer {
    http::Answer {
        status: StatusCode::from_u16(status).unwrap(),
        retry_after: None,
        body: body.to_string(),
    }
}

/// The example answer of Tencent's API Explorer / tccli (`PullSmsSendStatusByPhoneNumber`,
/// 2021-01-11), its `SessionContext` set as an app with it enabled echoes it.
fn published(context: &str) -> Value {
    json!({"Response": {
        "PullSmsSendStatusSet": [
            {"Description": "DELIVRD", "CountryCode": "86", "SubscriberNumber": "15291996666",
             "ReportStatus": "SUCCESS", "PhoneNumber": "+8615291996666",
             "SerialNo": "14:19325917feb3914eb78b50d6182d7e452e", "UserReceiveTime": 1620734188,
             "SessionContext": context},
            {"Description": "DELIVRD", "CountryCode": "86", "SubscriberNumber": "15291996666",
             "ReportStatus": "SUCCESS", "PhoneNumber": "+8615291996666",
             "SerialNo": "14:19325917feb3914eb78b50d6182d7e456f", "UserReceiveTime": 1620734188,
             "SessionContext": "another-message"}
        ],
        "RequestId": "8979fc1e-9564-4fc9-bf7d-2958ce679b72"
    }})
}

#[test]
fn the_send_with_this_session_context_is_found_with_its_serial_no() {
    assert_eq!(
        judge(&answer(200, published(&id().to_string())), id()),
        Lookup::Found {
            provider_message_id: "14:19325917feb3914eb78b50d6182d7e452e".into(),
            status: DeliveryStatus::Sent,
        }
    );
}

#[test]
fn others_sends_or_none_are_not_found() {
    assert_eq!(
        judge(&answer(200, published("yet-another")), id()),
        Lookup::NotFound
    );
    let empty = json!({"Response": {"PullSmsSendStatusSet": [], "RequestId": "r"}});
    assert_eq!(judge(&answer(200, empty), id()), Lookup::NotFound);
}

#[test]
fn what_cannot_tell_is_never_not_found() {
    let cannot = |lookup: Lookup| match lookup {
        Lookup::CannotAsk { message } => message,
        other => panic!("{other:?}"),
    };
    // The published example as an app without SessionContext enabled answers it.
    let message = cannot(judge(&answer(200, published("")), id()));
    assert!(message.contains("SessionContext"), "{message}");
    let denied = json!({"Response": {"Error": {"Code": "UnauthorizedOperation.RequestPermissionDeny",
        "Message": "no permission"}, "RequestId": "r"}});
    let message = cannot(judge(&answer(200, denied), id()));
    assert!(message.contains("RequestPermissionDeny"), "{message}");
    assert!(cannot(judge(&answer(502, json!({})), id())).contains("502"));
    let garbage = http::Answer {
        status: StatusCode::OK,
        retry_after: None,
        body: "<html>".into(),
    };
    assert!(cannot(judge(&garbage, id())).contains("unreadable"));
    let full: Vec<Value> = (0..PULL_LIMIT)
        .map(|i| {
            json!({"SerialNo": format!("s{i}"), "PhoneNumber": "+8615291996666",
                        "SessionContext": format!("other-{i}")})
        })
        .collect();
    let full = json!({"Response": {"PullSmsSendStatusSet": full, "RequestId": "r"}});
    assert!(cannot(judge(&answer(200, full), id())).contains("the most one pull returns"));
}
