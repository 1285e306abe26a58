//! Alibaba Cloud's published example ("fixed parameter values", V3 signature document,
//! <https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>):
//! ECS `RunInstances` on ecs.cn-shanghai.aliyuncs.com, every expected value as printed there.

use chrono::{DateTime, Utc};

use super::*;

const QUERY: &[(&str, &str)] = &[
    ("RegionId", "cn-shanghai"),
    (
        "ImageId",
        "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
    ),
];

fn date() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2023-10-26T10:22:32Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn example() -> Request<'static> {
    Request {
        method: "POST",
        host: "ecs.cn-shanghai.aliyuncs.com",
        action: "RunInstances",
        version: "2014-05-26",
        date: date(),
        nonce: "3156853299f313e23d1673dc12e1703d",
        query: QUERY,
        body: b"",
        content_type: None,
    }
}

#[test]
fn the_canonical_query_is_the_documents() {
    assert_eq!(
        example().canonical_query(),
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    );
}

#[test]
fn the_canonical_request_is_the_documents() {
    assert_eq!(
        example().canonical_request(),
        "POST\n\
         /\n\
         ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n\
         host:ecs.cn-shanghai.aliyuncs.com\n\
         x-acs-action:RunInstances\n\
         x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-acs-date:2023-10-26T10:22:32Z\n\
         x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
         x-acs-version:2014-05-26\n\
         \n\
         host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn the_string_to_sign_is_the_documents() {
    assert_eq!(
        example().string_to_sign(),
        "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    );
}

#[test]
fn the_signature_and_authorization_are_the_documents() {
    assert_eq!(
        example().signature("YourAccessKeySecret"),
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
    assert_eq!(
        example().authorization("YourAccessKeyId", "YourAccessKeySecret"),
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,\
         SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;\
         x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
}

#[test]
fn the_headers_carry_the_body_hash_and_the_authorization() {
    let headers = example().headers("YourAccessKeyId", "YourAccessKeySecret");
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("x-acs-content-sha256"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(get("x-acs-date"), Some("2023-10-26T10:22:32Z"));
    assert!(
        get("authorization").unwrap().ends_with(
            "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        )
    );
}

#[test]
fn percent_encoding_follows_the_documents_special_cases() {
    assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    assert_eq!(percent_encode("a b*c"), "a%20b%2Ac");
    assert_eq!(percent_encode("\"+/=&"), "%22%2B%2F%3D%26");
    assert_eq!(percent_encode("阿里云"), "%E9%98%BF%E9%87%8C%E4%BA%91");
}

#[test]
fn a_send_sms_query_encodes_the_signature_name_and_the_json_param() {
    let query = [
        ("PhoneNumbers", "13800138000"),
        ("SignName", "阿里云"),
        ("TemplateCode", "SMS_154950909"),
        ("TemplateParam", r#"{"code":"1234"}"#),
    ];
    let request = Request::send_sms(DEFAULT_HOST, date(), "nonce", &query);
    assert_eq!(
        request.canonical_query(),
        "PhoneNumbers=13800138000&SignName=%E9%98%BF%E9%87%8C%E4%BA%91\
         &TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D"
    );
    assert!(
        request
            .canonical_request()
            .starts_with("POST\n/\nPhoneNumbers=")
    );
    assert!(
        request
            .canonical_request()
            .contains("x-acs-action:SendSms\n")
    );
    assert!(
        request
            .canonical_request()
            .contains("x-acs-version:2017-05-25\n")
    );
}

#[test]
fn a_content_type_is_signed_in_its_sorted_place() {
    let request = Request {
        body: b"a=1",
        content_type: Some("application/x-www-form-urlencoded"),
        ..example()
    };
    assert_eq!(
        request.signed_headers(),
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;\
         x-acs-signature-nonce;x-acs-version"
    );
}

#[test]
fn any_change_to_the_query_nonce_or_secret_changes_the_signature() {
    let signed = example().signature("YourAccessKeySecret");
    let other_query = Request {
        query: &[("RegionId", "cn-beijing")],
        ..example()
    };
    let other_nonce = Request {
        nonce: "another",
        ..example()
    };
    assert_ne!(other_query.signature("YourAccessKeySecret"), signed);
    assert_ne!(other_nonce.signature("YourAccessKeySecret"), signed);
    assert_ne!(example().signature("another"), signed);
}
