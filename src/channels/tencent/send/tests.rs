//! The answer to a send, judged: the bodies are Tencent's documented shapes.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::channels::templates::{TemplateCall, TemplateParam};

const TO: &str = "+8618501234444";

fn id() -> Uuid {
    Uuid::parse_str("6f1c1a57-6d43-4b4c-9a52-0c3b8f6f6e01").unwrap()
}

fn answer(status: u16, body: serde_json::Value) -> http::Answer {
    http::Answer {
        status: StatusCode::from_u16(status).unwrap(),
        retry_after: None,
        body: body.to_string(),
    }
}

fn one_status(code: &str, session_context: &str, serial_no: &str, fee: u32) -> serde_json::Value {
    json!({"Response": {
        "SendStatusSet": [{
            "SerialNo": serial_no, "PhoneNumber": TO, "Fee": fee,
            "SessionContext": session_context, "Code": code,
            "Message": if code == "Ok" { "send success" } else { "refused" },
            "IsoCode": if code == "Ok" { "CN" } else { "" }
        }],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"
    }})
}

fn error(code: &str) -> serde_json::Value {
    json!({"Response": {
        "Error": {"Code": code, "Message": "refused"},
        "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
    }})
}

fn failed_code(outcome: &SendOutcome) -> Option<(&str, bool)> {
    match outcome {
        SendOutcome::Failed {
            code,
            recipient_opted_out,
            ..
        } => Some((code.as_deref().unwrap_or(""), *recipient_opted_out)),
        _ => None,
    }
}

#[test]
fn ok_with_our_session_context_is_accepted_with_serial_no_and_fee() {
    let ctx = id().to_string();
    let body = one_status("Ok", &ctx, "5000:1045710669157053657849499619", 2);
    assert_eq!(
        outcome(answer(200, body), id(), TO),
        SendOutcome::Accepted {
            provider_message_id: "5000:1045710669157053657849499619".into(),
            status: DeliveryStatus::Sent,
            billed_segments: Some(2),
        }
    );
}

#[test]
fn ok_with_another_session_context_is_looked_up() {
    let body = one_status("Ok", "someone-else", "5000:1", 1);
    let outcome = outcome(answer(200, body), id(), TO);
    assert!(
        matches!(outcome, SendOutcome::Unknown { .. }),
        "{outcome:?}"
    );
}

fn unknown(outcome: &SendOutcome) -> bool {
    matches!(outcome, SendOutcome::Unknown { .. })
}

#[test]
fn ok_for_another_number_or_without_serial_no_is_looked_up() {
    let ctx = id().to_string();
    let mut other = one_status("Ok", &ctx, "5000:1", 1);
    other["Response"]["SendStatusSet"][0]["PhoneNumber"] = json!("+8618501230000");
    assert!(unknown(&outcome(answer(200, other), id(), TO)));
    let no_serial = one_status("Ok", &ctx, "", 1);
    assert!(unknown(&outcome(answer(200, no_serial), id(), TO)));
}

#[test]
fn a_per_number_code_is_classified() {
    let refused = one_status(
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "",
        "",
        0,
    );
    let o = outcome(answer(200, refused), id(), TO);
    assert_eq!(
        failed_code(&o),
        Some((
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            false
        ))
    );
    let blacklisted = one_status("FailedOperation.PhoneNumberInBlacklist", "", "", 0);
    assert_eq!(
        failed_code(&outcome(answer(200, blacklisted), id(), TO)),
        Some(("FailedOperation.PhoneNumberInBlacklist", true))
    );
    let cap = one_status("LimitExceeded.PhoneNumberDailyLimit", "", "", 0);
    let SendOutcome::CapExceeded { code, message } = outcome(answer(200, cap), id(), TO) else {
        panic!("a cap code is a cap")
    };
    assert_eq!(code.as_deref(), Some("LimitExceeded.PhoneNumberDailyLimit"));
    assert!(message.contains("cap exceeded"), "{message}");
}

#[test]
fn a_whole_call_error_is_classified() {
    assert_eq!(
        failed_code(&outcome(
            answer(200, error("AuthFailure.SignatureFailure")),
            id(),
            TO
        )),
        Some(("AuthFailure.SignatureFailure", false))
    );
    match outcome(answer(200, error("RequestLimitExceeded")), id(), TO) {
        SendOutcome::Retry { code, .. } => {
            assert_eq!(code.as_deref(), Some("RequestLimitExceeded"))
        }
        other => panic!("{other:?}"),
    }
    match outcome(answer(200, error("InternalError.Timeout")), id(), TO) {
        SendOutcome::Unknown { code, .. } => {
            assert_eq!(code.as_deref(), Some("InternalError.Timeout"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unreadable_answers_several_statuses_and_5xx_are_looked_up_and_429_retries() {
    let unreadable = http::Answer {
        status: StatusCode::OK,
        retry_after: None,
        body: "<html>".into(),
    };
    assert!(unknown(&outcome(unreadable, id(), TO)));
    let mut two = one_status("Ok", &id().to_string(), "5000:1", 1);
    let first = two["Response"]["SendStatusSet"][0].clone();
    two["Response"]["SendStatusSet"] = json!([first.clone(), first]);
    assert!(unknown(&outcome(answer(200, two), id(), TO)));
    assert!(unknown(&outcome(answer(503, json!({})), id(), TO)));
    assert!(matches!(
        outcome(answer(429, json!({})), id(), TO),
        SendOutcome::Retry { .. }
    ));
    assert!(failed_code(&outcome(answer(400, json!({})), id(), TO)).is_some());
}

fn settings() -> Settings {
    toml::from_str(
        r#"
        base_url = "http://127.0.0.1:8443/ignored/path"
        secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
        secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
        region = "ap-guangzhou"
        sms_sdk_app_id = "1400006666"
        sign_name = "腾讯云"
        callback_token = "k3J9vQ2mX7pL4tR8wZ1nB6cY"
        max_param_chars = 12
        "#,
    )
    .unwrap()
}

#[test]
fn the_signed_host_is_what_reqwest_sends_port_included() {
    let tencent = Tencent::new(&settings(), Duration::from_secs(1)).unwrap();
    assert_eq!(tencent.host, "127.0.0.1:8443");
    assert_eq!(tencent.url.as_str(), "http://127.0.0.1:8443/");
    let mut default_port = settings();
    default_port.base_url = "https://sms.tencentcloudapi.com:443".into();
    let tencent = Tencent::new(&default_port, Duration::from_secs(1)).unwrap();
    assert_eq!(tencent.host, "sms.tencentcloudapi.com");
}

#[test]
fn a_message_without_a_template_or_with_a_bad_value_is_never_sent() {
    let tencent = Tencent::new(&settings(), Duration::from_secs(1)).unwrap();
    let free_text = Outbound {
        id: id(),
        to: TO,
        body: "【腾讯云】hello",
        template: None,
    };
    let refused = tencent.body(&free_text).unwrap_err();
    assert!(
        matches!(&refused, SendOutcome::Failed { message, .. } if message.contains("provider.tencent.templates")),
        "{refused:?}"
    );
    let params = [TemplateParam {
        name: "name".into(),
        value: "【别的签名】".into(),
    }];
    let bracketed = Outbound {
        template: Some(TemplateCall {
            id: "1110",
            params: &params,
        }),
        ..free_text.clone()
    };
    assert!(tencent.body(&bracketed).is_err());
    let params = [TemplateParam {
        name: "name".into(),
        value: "张三".into(),
    }];
    let fine = Outbound {
        template: Some(TemplateCall {
            id: "1110",
            params: &params,
        }),
        ..free_text
    };
    let body = tencent.body(&fine).unwrap();
    assert_eq!(body.template_id, "1110");
    assert_eq!(body.template_param_set, vec!["张三".to_owned()]);
    assert_eq!(
        body.session_context.as_deref(),
        Some(id().to_string().as_str())
    );
    assert_eq!(body.phone_number_set[0].as_str(), TO);
    assert_eq!(body.sign_name, "腾讯云");
}
