use reqwest::StatusCode;

use super::*;

fn answer(status: u16, body: &str) -> SendOutcome {
    outcome(http::Answer {
        status: StatusCode::from_u16(status).unwrap(),
        retry_after: None,
        body: body.to_owned(),
    })
}

#[test]
fn ok_with_a_biz_id_is_accepted() {
    let body =
        r#"{"Code":"OK","Message":"OK","BizId":"9006197469364984^0","RequestId":"F655A8D5"}"#;
    assert_eq!(
        answer(200, body),
        SendOutcome::Accepted {
            provider_message_id: "9006197469364984^0".into(),
            status: DeliveryStatus::Queued,
            billed_segments: None,
        }
    );
}

#[test]
fn each_class_maps_to_its_outcome() {
    let refused = |code: &str| {
        answer(
            200,
            &format!(r#"{{"Code":"{code}","Message":"m","RequestId":"R"}}"#),
        )
    };
    for code in [
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SOMETHING_NEW",
    ] {
        match refused(code) {
            SendOutcome::Failed {
                code: Some(c),
                message,
                recipient_opted_out: false,
            } => {
                assert_eq!(c, code);
                assert!(message.contains(code), "{message}");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    match refused("isv.BUSINESS_LIMIT_CONTROL") {
        SendOutcome::CapExceeded { code, message } => {
            assert_eq!(code.as_deref(), Some("isv.BUSINESS_LIMIT_CONTROL"));
            assert!(message.contains("CapExceeded"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(refused("Throttling.User"), SendOutcome::Retry { code: Some(c), .. } if c == "Throttling.User")
    );
    match refused("isp.SYSTEM_ERROR") {
        SendOutcome::Unknown { code, message, .. } => {
            assert_eq!(code.as_deref(), Some("isp.SYSTEM_ERROR"));
            assert!(message.contains("OutcomeUnknown"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn server_errors_and_unreadable_answers_are_looked_up_and_429_retries() {
    // Aliyun may have taken the message before a 5xx: never sent again blind.
    assert!(matches!(
        answer(503, "busy"),
        SendOutcome::Unknown { code: None, .. }
    ));
    let gateway = r#"{"Code":"ServiceUnavailable","Message":"m","RequestId":"R"}"#;
    assert!(matches!(
        answer(503, gateway),
        SendOutcome::Unknown { code: Some(_), .. }
    ));
    assert!(matches!(
        answer(429, "slow down"),
        SendOutcome::Retry { .. }
    ));
    // A refusal the gateway answers with 400 is still read by its Code.
    let signature = r#"{"RequestId":"R","Message":"Specified signature does not match","Recommend":"r","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch"}"#;
    assert!(
        matches!(answer(400, signature), SendOutcome::Failed { code: Some(c), .. } if c == "SignatureDoesNotMatch")
    );
    assert!(matches!(
        answer(200, "<html>"),
        SendOutcome::Unknown { code: None, .. }
    ));
    let no_biz_id = r#"{"Code":"OK","Message":"OK","RequestId":"R"}"#;
    assert!(matches!(
        answer(200, no_biz_id),
        SendOutcome::Unknown { .. }
    ));
}

#[test]
fn mainland_numbers_go_as_eleven_digits() {
    assert_eq!(phone_number("+8613812345678"), "13812345678");
    assert_eq!(phone_number("+85291234567"), "+85291234567");
}
