//! Tencent's published worked example, step by step, then the `SendSms` shape.
//!
//! The example (签名方法 v3 / Signature v3, <https://cloud.tencent.com/document/api/362/4208>,
//! <https://intl.cloud.tencent.com/document/api/1021/34193>): CVM `DescribeInstances` in
//! ap-guangzhou, version 2017-03-12, timestamp 1551113065, SecretKey
//! `Gu5t9xGARNpq86cd98joQYCN3EXAMPLE`, the JSON body below; every expected value is the one
//! printed in the document.

use chrono::{DateTime, Utc};

use super::*;

const EXAMPLE_SECRET_ID: &str = "AKID**********************0123456789EXAMPLE";
const EXAMPLE_SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const EXAMPLE_BODY: &str =
    r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

fn example() -> Request<'static> {
    Request {
        host: "cvm.tencentcloudapi.com",
        service: "cvm",
        action: "DescribeInstances",
        version: "2017-03-12",
        region: Some("ap-guangzhou"),
        content_type: CONTENT_TYPE,
        time: DateTime::<Utc>::from_timestamp(1_551_113_065, 0).unwrap(),
        payload: EXAMPLE_BODY.as_bytes(),
    }
}

#[test]
fn the_payload_hash_is_the_documents() {
    assert_eq!(
        sha256_hex(EXAMPLE_BODY.as_bytes()),
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
}

#[test]
fn the_canonical_request_is_the_documents() {
    assert_eq!(
        example().canonical_request(),
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
         content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
}

#[test]
fn the_string_to_sign_is_the_documents() {
    assert_eq!(
        example().string_to_sign(),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
}

#[test]
fn the_signature_and_authorization_are_the_documents() {
    assert_eq!(
        example().signature(EXAMPLE_SECRET_KEY),
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        example().authorization(EXAMPLE_SECRET_ID, EXAMPLE_SECRET_KEY),
        "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/\
         tc3_request, SignedHeaders=content-type;host, \
         Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

#[test]
fn the_scope_date_is_utc_not_beijing() {
    // The document's own warning: 1551113065 is 2019-02-26 00:44 in UTC+8, 2019-02-25 in UTC.
    assert_eq!(example().credential_scope(), "2019-02-25/cvm/tc3_request");
}

#[test]
fn the_headers_are_the_documents_final_call() {
    let headers = example().headers(EXAMPLE_SECRET_ID, EXAMPLE_SECRET_KEY);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Content-Type"), Some("application/json; charset=utf-8"));
    assert_eq!(get("Host"), Some("cvm.tencentcloudapi.com"));
    assert_eq!(get("X-TC-Action"), Some("DescribeInstances"));
    assert_eq!(get("X-TC-Timestamp"), Some("1551113065"));
    assert_eq!(get("X-TC-Version"), Some("2017-03-12"));
    assert_eq!(get("X-TC-Region"), Some("ap-guangzhou"));
    assert!(
        get("Authorization").unwrap().ends_with(
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        )
    );
}

#[test]
fn send_sms_is_scoped_to_the_sms_service_and_version() {
    let time = DateTime::<Utc>::from_timestamp(1_551_113_065, 0).unwrap();
    let request = Request::send_sms(DEFAULT_HOST, "ap-guangzhou", time, b"{}");
    assert_eq!(request.credential_scope(), "2019-02-25/sms/tc3_request");
    let headers = request.headers("id", "key");
    assert!(headers.contains(&("X-TC-Action", "SendSms".to_owned())));
    assert!(headers.contains(&("X-TC-Version", "2021-01-11".to_owned())));
    assert!(headers.contains(&("Host", "sms.tencentcloudapi.com".to_owned())));
}

#[test]
fn any_change_to_the_body_or_the_key_changes_the_signature() {
    let signed = example().signature(EXAMPLE_SECRET_KEY);
    let other_body = Request {
        payload: br#"{"Limit": 2}"#,
        ..example()
    };
    assert_ne!(other_body.signature(EXAMPLE_SECRET_KEY), signed);
    assert_ne!(example().signature("another-key"), signed);
}
