use axum::http::HeaderMap;
use secrecy::SecretString;

use super::*;
use crate::channels::callbacks::PathToken;
use crate::domain::delivery::DeliveryStatus;

const TOKEN: &str = "Zq8mV2xT7pLk4RwN9sYb3HcJ";

fn keys(allow: &[&str]) -> Keys {
    Keys {
        public_url: "https://postcall.example.com".into(),
        twilio_auth_token: None,
        webhook_secret: None,
        aliyun_gate: PathToken::new(
            "provider.aliyun.callback_token",
            &SecretString::from(TOKEN),
            allow.iter().map(|n| n.parse().unwrap()).collect(),
        ),
        aliyun_sign_name: "小蓝钱包".into(),
        tencent: Default::default(),
    }
}

fn request<'a>(
    headers: &'a HeaderMap,
    token: Option<&'a str>,
    peer: &str,
    body: &'a str,
) -> Request<'a> {
    Request {
        path_and_query: "/webhooks/aliyun/x/status",
        token,
        peer: Some(peer.parse().unwrap()),
        headers,
        body: body.as_bytes(),
        now: "2026-12-02T08:00:00Z".parse().unwrap(),
    }
}

/// SmsReport's published sample with a real-looking number and id.
const REPORTS: &str = r#"[
  {"phone_number":"13811112222","send_time":"2017-01-01 00:00:00","report_time":"2017-01-01 00:00:05",
   "success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"2","biz_id":"123^0","out_id":"m1"},
  {"phone_number":"13811113333","send_time":"2017-01-01 00:00:00","report_time":"2017-01-01 00:00:05",
   "success":false,"err_code":"MK:0001","err_msg":"失败","sms_size":"1","biz_id":"124^0","out_id":"m2"}
]"#;

const REPLIES: &str = r#"[
  {"phone_number":"13811112222","content":"5","send_time":"2017-09-01 08:30:00","dest_code":"1234","sequence_id":"1234567890"},
  {"phone_number":"13811113333","content":"是","send_time":"2017-09-01 08:30:00","dest_code":"1234","sequence_id":77,"sign_name":"别家"},
  {"phone_number":"8613811114444","content":"1","send_time":"20170901083000","dest_code":"1234","sequence_id":"78","sign_name":"小蓝钱包"}
]"#;

#[test]
fn reports_read_as_deliveries_with_billed_parts() {
    let headers = HeaderMap::new();
    let callback = status(
        &keys(&[]),
        &request(&headers, Some(TOKEN), "1.2.3.4", REPORTS),
    )
    .unwrap();
    assert_eq!(callback.answer.status, StatusCode::OK);
    assert_eq!(callback.answer.body, Some(("application/json", RECEIVED)));
    let answer: super::super::wire::CallbackAnswer = serde_json::from_str(RECEIVED).unwrap();
    assert_eq!(answer, super::super::wire::CallbackAnswer::received());
    match &callback.heard[..] {
        [
            Heard::Delivery {
                provider_message_id: first,
                status: DeliveryStatus::Delivered,
                error_code: None,
                billed_segments: Some(2),
            },
            Heard::Delivery {
                provider_message_id: second,
                status: DeliveryStatus::Undelivered,
                error_code: Some(code),
                billed_segments: Some(1),
            },
        ] => {
            assert_eq!((first.as_str(), second.as_str()), ("123^0", "124^0"));
            assert_eq!(code, "MK:0001");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn replies_read_in_e164_beijing_time_and_other_signatures() {
    let headers = HeaderMap::new();
    let callback = inbound(
        &keys(&[]),
        &request(&headers, Some(TOKEN), "1.2.3.4", REPLIES),
    )
    .unwrap();
    let replies: Vec<&Reply> = callback
        .heard
        .iter()
        .map(|h| match h {
            Heard::Reply(r) => r,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(replies[0].from, "+8613811112222");
    assert_eq!(replies[0].provider_message_id, "1234567890");
    // 08:30 in Beijing is 00:30 UTC.
    assert_eq!(
        replies[0].received_at.to_rfc3339(),
        "2017-09-01T00:30:00+00:00"
    );
    assert_eq!(replies[0].other_signature, None);
    assert_eq!(replies[1].provider_message_id, "77");
    assert_eq!(replies[1].other_signature.as_deref(), Some("别家"));
    assert_eq!(replies[2].from, "+8613811114444");
    assert_eq!(replies[2].received_at, replies[0].received_at);
    assert_eq!(replies[2].other_signature, None);
}

#[test]
fn a_wrong_or_missing_token_or_caller_is_not_found() {
    let headers = HeaderMap::new();
    for token in [
        None,
        Some(""),
        Some("Zq8mV2xT7pLk4RwN9sYb3HcK"),
        Some("Zq8mV2xT7pLk4RwN9sYb3Hc"),
    ] {
        let refusal =
            status(&keys(&[]), &request(&headers, token, "1.2.3.4", REPORTS)).unwrap_err();
        assert!(
            matches!(refusal, Refusal::NotFound(_)),
            "{token:?}: {refusal:?}"
        );
    }
    let mut unset = keys(&[]);
    unset.aliyun_gate = PathToken::default();
    let refusal = status(&unset, &request(&headers, Some(""), "1.2.3.4", REPORTS)).unwrap_err();
    assert!(matches!(refusal, Refusal::NotFound(_)), "{refusal:?}");

    let allow = keys(&["106.11.0.0/16", "2408:4000::/20"]);
    for (peer, admitted) in [
        ("106.11.34.5", true),
        ("2408:4001::1", true),
        ("106.12.0.1", false),
    ] {
        let result = status(&allow, &request(&headers, Some(TOKEN), peer, REPORTS));
        assert_eq!(result.is_ok(), admitted, "{peer}");
        if let Err(refusal) = result {
            assert!(matches!(refusal, Refusal::NotFound(_)), "{refusal:?}");
        }
    }
}

#[test]
fn malformed_batches_are_refused() {
    let headers = HeaderMap::new();
    let k = keys(&[]);
    let bad_reports = [
        "",
        "{}",
        r#"{"biz_id":"1"}"#,
        r#"[{"biz_id":"1"}]"#,
        &REPORTS.replace("\"success\":true", "\"success\":\"yes\""),
        &REPORTS.replace("123^0", "12\\u00003"),
        &REPORTS.replace("123^0", &"9".repeat(MAX_ID_CHARS + 1)),
        &REPORTS.replace("\"biz_id\":\"123^0\"", "\"biz_id\":\"\""),
    ];
    for body in bad_reports {
        let refusal = status(&k, &request(&headers, Some(TOKEN), "1.2.3.4", body)).unwrap_err();
        assert!(
            matches!(refusal, Refusal::Malformed(_)),
            "{body}: {refusal:?}"
        );
    }
    let bad_replies = [
        REPLIES.replace("\"13811112222\"", "\"1381111****\""),
        REPLIES.replace("\"content\":\"5\"", "\"content\":\"5\\u0000\""),
        REPLIES.replace("\"sequence_id\":77,", "\"sequence_id\":\"\","),
        REPLIES.replace("\"sequence_id\":77,", ""),
    ];
    for body in &bad_replies {
        let refusal = inbound(&k, &request(&headers, Some(TOKEN), "1.2.3.4", body)).unwrap_err();
        assert!(
            matches!(refusal, Refusal::Malformed(_)),
            "{body}: {refusal:?}"
        );
    }
    // An empty batch is well formed and says nothing.
    let empty = status(&k, &request(&headers, Some(TOKEN), "1.2.3.4", "[]")).unwrap();
    assert!(empty.heard.is_empty());
}

#[test]
fn a_stored_batch_reads_as_the_route_read_it() {
    let k = keys(&[]);
    let at: DateTime<Utc> = "2026-12-02T08:00:00Z".parse().unwrap();
    let stored: serde_json::Value = serde_json::from_str(REPLIES).unwrap();
    let heard = read_stored(&k, INBOUND, &stored, at).unwrap();
    assert_eq!(heard.len(), 3);
    let stored: serde_json::Value = serde_json::from_str(REPORTS).unwrap();
    assert_eq!(read_stored(&k, STATUS, &stored, at).unwrap().len(), 2);
    assert!(matches!(
        read_stored(&k, "other", &stored, at),
        Err(Refusal::Malformed(_))
    ));
    assert_eq!(inbox_kind(STATUS_PATH), Some(STATUS));
    assert_eq!(inbox_kind(INBOUND_PATH), Some(INBOUND));
    assert_eq!(inbox_kind("/webhooks/sms"), None);
}

#[test]
fn an_unreadable_reply_time_falls_back_to_the_time_of_receipt() {
    let k = keys(&[]);
    let at: DateTime<Utc> = "2026-12-02T08:00:00Z".parse().unwrap();
    let body = REPLIES.replace("2017-09-01 08:30:00", "yesterday");
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    match &read_stored(&k, INBOUND, &stored, at).unwrap()[0] {
        Heard::Reply(reply) => assert_eq!(reply.received_at, at),
        other => panic!("{other:?}"),
    }
}
