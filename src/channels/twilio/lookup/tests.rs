use chrono::TimeZone;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

const TO: &str = "+15558675310";
const BODY: &str = "Was your problem solved? Reply 1 = yes, 2 = no.";

fn outbound() -> Outbound<'static> {
    Outbound {
        id: Uuid::nil(),
        to: TO,
        body: BODY,
        template: None,
    }
}

fn sender() -> Sender<'static> {
    Sender {
        from: "+14155552345",
        messaging_service_sid: "",
    }
}

/// A message as Twilio's Message resource page shows one (its example, our values).
fn listed(sid: &str, body: &str, created: &str) -> Value {
    json!({"account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "api_version": "2010-04-01",
           "body": body, "date_created": created, "date_sent": null,
           "date_updated": created, "direction": "outbound-api", "error_code": null,
           "error_message": null, "from": "+14155552345", "messaging_service_sid": null,
           "num_media": "0", "num_segments": "1", "price": null, "price_unit": null,
           "sid": sid, "status": "queued", "to": TO,
           "uri": format!("/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/{sid}.json")})
}

fn page(messages: Vec<Value>, next: Option<&str>) -> MessagePage {
    serde_json::from_value(
        json!({"messages": messages, "next_page_uri": next, "page": 0,
                                  "page_size": 50, "uri": "/x"}),
    )
    .unwrap()
}

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
}

#[test]
fn the_message_with_this_body_from_us_since_the_attempt_is_found() {
    let p = page(
        vec![
            listed("SM2", "something else", "Wed, 02 Dec 2026 10:05:00 +0000"),
            listed("SM1", BODY, "Wed, 02 Dec 2026 10:01:00 +0000"),
        ],
        None,
    );
    assert_eq!(
        judge(&p, &outbound(), &sender(), since()),
        Page::Decided(Lookup::Found {
            provider_message_id: "SM1".into(),
            status: DeliveryStatus::Queued,
        })
    );
}

#[test]
fn older_messages_other_senders_and_empty_lists_are_not_it() {
    let older = page(
        vec![listed("SM0", BODY, "Wed, 02 Dec 2026 09:00:00 +0000")],
        Some("/2010-04-01/Accounts/AC/Messages.json?Page=1"),
    );
    assert_eq!(
        judge(&older, &outbound(), &sender(), since()),
        Page::Decided(Lookup::NotFound),
        "the same text an hour before is another survey's"
    );
    let mut other = listed("SM3", BODY, "Wed, 02 Dec 2026 10:02:00 +0000");
    other["from"] = json!("+14155550000");
    let newer = page(vec![other], Some("/next"));
    assert_eq!(judge(&newer, &outbound(), &sender(), since()), Page::ReadOn);
    assert_eq!(
        judge(&page(vec![], None), &outbound(), &sender(), since()),
        Page::Decided(Lookup::NotFound)
    );
    let mut no_date = listed("SM4", BODY, "");
    no_date["date_created"] = json!(null);
    assert!(matches!(
        judge(&page(vec![no_date], None), &outbound(), &sender(), since()),
        Page::Decided(Lookup::CannotAsk { .. })
    ));
}

#[test]
fn a_messaging_service_sender_matches_by_its_sid() {
    let mut via_service = listed("SM5", BODY, "Wed, 02 Dec 2026 10:01:00 +0000");
    via_service["messaging_service_sid"] = json!("MG123");
    let service = Sender {
        from: "",
        messaging_service_sid: "MG123",
    };
    assert!(matches!(
        judge(
            &page(vec![via_service], None),
            &outbound(),
            &service,
            since()
        ),
        Page::Decided(Lookup::Found { .. })
    ));
}
