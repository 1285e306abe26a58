use chrono::TimeZone;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

fn id() -> Uuid {
    Uuid::parse_str("6a1c3b0e-8d2f-4e57-9b1a-0c4d5e6f7a8b").unwrap()
}

fn answer(status: u16, body: Value) -> http::Answer {
    http::Answer {
        status: StatusCode::from_u16(status).unwrap(),
        retry_after: None,
        body: body.to_string(),
    }
}

/// The answer example of Alibaba Cloud's QuerySendDetails page, `OutId` as given.
fn published(out_id: &str) -> Value {
    json!({"Code": "OK", "Message": "OK", "RequestId": "819BE656-D2E0-4858-8B21-B2E477085AAF",
           "TotalCount": "1",
           "SmsSendDetailDTOs": {"SmsSendDetailDTO": [
               {"ErrCode": "DELIVERED", "TemplateCode": "SMS_12231****", "OutId": out_id,
                "ReceiveDate": "2019-01-08 16:44:13", "SendDate": "2019-01-08 16:44:10",
                "PhoneNum": "1390000****", "Content": "【Aliyun】This is a test message.",
                "SendStatus": 3}]}})
}

#[test]
fn the_send_with_this_out_id_is_found_with_its_status() {
    assert_eq!(
        judge(&answer(200, published(&id().to_string())), id()),
        Page::Decided(Lookup::Found {
            provider_message_id: format!("OutId:{}", id()),
            status: DeliveryStatus::Delivered,
        })
    );
    let mut waiting = published(&id().to_string());
    waiting["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]["SendStatus"] = json!(1);
    assert!(matches!(
        judge(&answer(200, waiting), id()),
        Page::Decided(Lookup::Found {
            status: DeliveryStatus::Queued,
            ..
        })
    ));
}

#[test]
fn another_out_id_reads_on_only_past_a_full_page() {
    assert_eq!(judge(&answer(200, published("123")), id()), Page::Last);
    let none = json!({"Code": "OK", "Message": "OK", "RequestId": "R", "TotalCount": "0",
                      "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}});
    assert_eq!(judge(&answer(200, none), id()), Page::Last);
    let full: Vec<Value> = (0..QUERY_PAGE_SIZE)
        .map(|i| json!({"OutId": format!("other-{i}"), "SendStatus": 3}))
        .collect();
    let full = json!({"Code": "OK", "Message": "OK", "RequestId": "R", "TotalCount": "80",
                      "SmsSendDetailDTOs": {"SmsSendDetailDTO": full}});
    assert_eq!(judge(&answer(200, full), id()), Page::Full);
}

#[test]
fn an_error_code_or_status_is_cannot_ask() {
    for (status, body) in [
        (
            200,
            json!({"Code": "isp.SYSTEM_ERROR", "Message": "m", "RequestId": "R"}),
        ),
        (
            403,
            json!({"Code": "Forbidden.RAM", "Message": "no permission", "RequestId": "R"}),
        ),
        (503, json!("busy")),
    ] {
        assert!(
            matches!(
                judge(&answer(status, body), id()),
                Page::Decided(Lookup::CannotAsk { .. })
            ),
            "{status}"
        );
    }
}

#[test]
fn send_dates_are_beijing_days_from_the_attempt_to_now() {
    // 15:30 UTC is 23:30 in Beijing; 16:30 UTC the next day there.
    let since = Utc.with_ymd_and_hms(2026, 12, 2, 15, 30, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 16, 30, 0).unwrap();
    assert_eq!(send_dates(since, now), ["20261202", "20261203"]);
    assert_eq!(send_dates(now, now), ["20261203"]);
}
