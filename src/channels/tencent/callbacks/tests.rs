//! Admission and reading, over the bodies Tencent documents.

use axum::http::HeaderMap;
use serde_json::json;

use super::*;

const TOKEN: &str = "k3J9vQ2mX7pL4tR8wZ1nB6cY";

fn keys(allow: &[&str]) -> Keys {
    let settings: Settings = toml::from_str(&format!(
        r#"
        base_url = "https://sms.tencentcloudapi.com"
        secret_id = "id"
        secret_key = "key"
        region = "ap-guangzhou"
        sms_sdk_app_id = "1400006666"
        sign_name = "小蓝钱包"
        callback_token = "{TOKEN}"
        callback_allow = {allow:?}
        "#
    ))
    .unwrap();
    Keys::new(&settings).unwrap()
}

fn request<'a>(
    token: Option<&'a str>,
    peer: &str,
    headers: &'a HeaderMap,
    body: &'a [u8],
) -> Request<'a> {
    Request {
        path_and_query: "/webhooks/tencent/x/status",
        token,
        peer: Some(peer.parse().unwrap()),
        headers,
        body,
        now: Utc::now(),
    }
}

fn receipts() -> Vec<u8> {
    json!([
        {"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86",
         "mobile": "13800138000", "report_status": "SUCCESS", "errmsg": "DELIVRD",
         "description": "用户短信送达成功", "sid": "5000:1"},
        {"user_receive_time": "2015-10-17 08:03:05", "nationcode": "86",
         "mobile": "13800138001", "report_status": "FAIL", "errmsg": "MK:0001",
         "description": "用户短信送达失败", "sid": "5000:2"}
    ])
    .to_string()
    .into_bytes()
}

fn reply_body(sign: &str, text: &str) -> Vec<u8> {
    json!({"extend": "", "mobile": "13800138000", "nationcode": "86", "sign": sign,
           "text": text, "time": 1457336869})
    .to_string()
    .into_bytes()
}

#[test]
fn a_wrong_absent_or_unconfigured_token_is_not_found() {
    let headers = HeaderMap::new();
    let body = receipts();
    for token in [
        None,
        Some(""),
        Some("k3J9vQ2mX7pL4tR8wZ1nB6cZ"),
        Some(&TOKEN[..23]),
    ] {
        let refused = status(&keys(&[]), &request(token, "127.0.0.1", &headers, &body));
        assert!(matches!(refused, Err(Refusal::NotFound(_))), "{token:?}");
    }
    let mut unset = keys(&[]);
    unset.gate = PathToken::default();
    let refused = status(&unset, &request(Some(TOKEN), "127.0.0.1", &headers, &body));
    assert!(matches!(refused, Err(Refusal::NotFound(_))));
}

#[test]
fn the_allow_list_narrows_callers() {
    let headers = HeaderMap::new();
    let body = receipts();
    let keys = keys(&["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
    for (peer, admitted) in [
        ("10.1.2.3", true),
        ("2001:db8::1", true),
        ("192.0.2.7", true),
        ("192.0.2.8", false),
        ("127.0.0.1", false),
    ] {
        let read = status(&keys, &request(Some(TOKEN), peer, &headers, &body));
        assert_eq!(read.is_ok(), admitted, "{peer}");
    }
    let no_peer = Request {
        peer: None,
        ..request(Some(TOKEN), "10.1.2.3", &headers, &body)
    };
    assert!(matches!(status(&keys, &no_peer), Err(Refusal::NotFound(_))));
}

#[test]
fn receipts_become_deliveries_in_order() {
    let headers = HeaderMap::new();
    let body = receipts();
    let read = status(
        &keys(&[]),
        &request(Some(TOKEN), "127.0.0.1", &headers, &body),
    )
    .unwrap();
    assert_eq!(read.answer.body, Some(("application/json", OK_BODY)));
    let got: Vec<_> = read
        .heard
        .iter()
        .map(|h| match h {
            Heard::Delivery {
                provider_message_id,
                status,
                error_code,
                ..
            } => (
                provider_message_id.as_str(),
                status.as_str(),
                error_code.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("5000:1", "delivered", None),
            ("5000:2", "undelivered", Some("MK:0001".to_owned())),
        ]
    );
}

#[test]
fn malformed_receipts_are_refused() {
    let headers = HeaderMap::new();
    let keys = keys(&[]);
    let one = |r: serde_json::Value| json!([r]).to_string().into_bytes();
    let base = json!({"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86",
        "mobile": "13800138000", "report_status": "SUCCESS", "errmsg": "DELIVRD",
        "description": "", "sid": "5000:1"});
    let mut bad_status = base.clone();
    bad_status["report_status"] = json!("DELIVERED");
    let mut no_sid = base.clone();
    no_sid["sid"] = json!("");
    let mut nul = base.clone();
    nul["sid"] = json!("5000\u{0}1");
    let mut long = base.clone();
    long["sid"] = json!("9".repeat(MAX_ID_CHARS + 1));
    for body in [
        b"{}".to_vec(),
        b"not json".to_vec(),
        one(bad_status),
        one(no_sid),
        one(nul),
        one(long),
    ] {
        let read = status(&keys, &request(Some(TOKEN), "127.0.0.1", &headers, &body));
        assert!(
            matches!(read, Err(Refusal::Malformed(_))),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

fn read_one(keys: &Keys, body: &[u8]) -> Result<Reply, Refusal> {
    let headers = HeaderMap::new();
    let mut read = inbound(keys, &request(Some(TOKEN), "127.0.0.1", &headers, body))?;
    assert_eq!(read.answer.body, Some(("application/json", OK_BODY)));
    match read.heard.pop() {
        Some(Heard::Reply(reply)) => Ok(reply),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reply_reads_as_e164_with_its_time_and_a_stable_id() {
    let keys = keys(&[]);
    let reply = read_one(&keys, &reply_body("小蓝钱包", "5")).unwrap();
    assert_eq!(reply.from, "+8613800138000");
    assert_eq!(reply.body, "5");
    assert_eq!(reply.received_at.timestamp(), 1457336869);
    assert_eq!(reply.other_signature, None);
    assert!(reply.provider_message_id.starts_with(REPLY_ID_PREFIX));
    assert!(reply.provider_message_id.chars().count() <= MAX_ID_CHARS);
    let again = read_one(&keys, &reply_body("小蓝钱包", "5")).unwrap();
    assert_eq!(again.provider_message_id, reply.provider_message_id);
    let other_text = read_one(&keys, &reply_body("小蓝钱包", "4")).unwrap();
    assert_ne!(other_text.provider_message_id, reply.provider_message_id);
}

#[test]
fn a_reply_under_another_signature_says_so() {
    let keys = keys(&[]);
    let other = read_one(&keys, &reply_body("别家银行", "1")).unwrap();
    assert_eq!(other.other_signature.as_deref(), Some("别家银行"));
    let bracketed = read_one(&keys, &reply_body("【小蓝钱包】", "1")).unwrap();
    assert_eq!(bracketed.other_signature, None);
}

#[test]
fn malformed_replies_are_refused() {
    let keys = keys(&[]);
    let base = json!({"extend": "", "mobile": "13800138000", "nationcode": "86",
        "sign": "小蓝钱包", "text": "5", "time": 1457336869});
    let variant = |field: &str, value: serde_json::Value| {
        let mut v = base.clone();
        v[field] = value;
        v.to_string().into_bytes()
    };
    for body in [
        b"[]".to_vec(),
        variant("mobile", json!("138-0013")),
        variant("nationcode", json!("")),
        variant("text", json!("5\u{0}")),
        variant("time", json!("yesterday")),
        variant("time", json!(i64::MAX)),
        variant("mobile", json!("1".repeat(MAX_ADDRESS_CHARS))),
    ] {
        assert!(
            matches!(read_one(&keys, &body), Err(Refusal::Malformed(_))),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}
