//! Each sample is the one printed in Tencent's document named above it.

use serde_json::{Value, json};

use super::*;

/// SendSms, 示例 1 (<https://cloud.tencent.com/document/api/382/55981>).
const SEND_OK: &str = r#"{
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "5000:1045710669157053657849499619",
                "PhoneNumber": "+8618501234444",
                "Fee": 1,
                "SessionContext": "outsid_1729495320_1011",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN"
            },
            {
                "SerialNo": "5000:1045710669157053657849499718",
                "PhoneNumber": "+8618501234445",
                "Fee": 1,
                "SessionContext": "outsid_1729495320_1011",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN"
            }
        ],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"
    }
}"#;

/// SendSms, 示例 2, 发送短信失败示例: HTTP 200, each number refused.
const SEND_REFUSED: &str = r#"{
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "",
                "PhoneNumber": "+8618501234444",
                "Fee": 0,
                "SessionContext": "",
                "Code": "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                "Message": "request content does not match the template content",
                "IsoCode": ""
            }
        ],
        "RequestId": "4e394811-9ebd-4d66-98ee-730b21c4a681"
    }
}"#;

/// 错误码 (<https://cloud.tencent.com/document/api/382/52075>): the whole call refused.
const SEND_ERROR: &str = r#"{
    "Response": {
        "Error": {
            "Code": "AuthFailure.SignatureFailure",
            "Message": "The provided credentials could not be validated. Please check your signature is correct."
        },
        "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
    }
}"#;

/// 短信下发状态通知 (<https://cloud.tencent.com/document/product/382/5807>).
const RECEIPTS: &str = r#"[
    {
        "user_receive_time": "2015-10-17 08:03:04",
        "nationcode": "86",
        "mobile": "13xxxxxxxxx",
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "description": "用户短信送达成功",
        "sid": "xxxxxxx"
    }
]"#;

/// 短信回复 (<https://cloud.tencent.com/document/api/382/59179>).
const REPLY: &str = r#"{
    "extend": "扩展码",
    "mobile": "13xxxxxxxxx",
    "nationcode": "86",
    "sign": "短信签名",
    "text": "用户回复的内容",
    "time": 1457336869
}"#;

#[test]
fn the_request_serialises_to_the_documented_field_names() {
    let request = SendSmsRequest {
        phone_number_set: vec![Mobile("+8618501234444".to_owned())],
        sms_sdk_app_id: "1400006666".to_owned(),
        sign_name: "腾讯云".to_owned(),
        template_id: "1110".to_owned(),
        template_param_set: vec!["4370".to_owned()],
        session_context: Some("outsid_1729495320_1011".to_owned()),
        extend_code: None,
        sender_id: None,
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "PhoneNumberSet": ["+8618501234444"],
            "SmsSdkAppId": "1400006666",
            "SignName": "腾讯云",
            "TemplateId": "1110",
            "TemplateParamSet": ["4370"],
            "SessionContext": "outsid_1729495320_1011"
        })
    );
}

#[test]
fn the_success_example_gives_one_status_per_number() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_OK).unwrap();
    let statuses = answer.response.outcome().unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(SendStatus::is_ok));
    assert_eq!(statuses[0].serial_no, "5000:1045710669157053657849499619");
    assert_eq!(statuses[0].phone_number.as_str(), "+8618501234444");
    assert_eq!(statuses[0].fee, 1);
    assert_eq!(statuses[0].session_context, "outsid_1729495320_1011");
    assert_eq!(statuses[0].iso_code, "CN");
    assert_eq!(
        answer.response.request_id,
        "a0aabda6-cf91-4f3e-a81f-9198114a2279"
    );
}

#[test]
fn the_failure_example_is_http_200_with_a_failed_code() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_REFUSED).unwrap();
    let statuses = answer.response.outcome().unwrap();
    assert!(!statuses[0].is_ok());
    assert_eq!(
        statuses[0].code,
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    );
    assert_eq!(statuses[0].fee, 0);
    assert_eq!(statuses[0].serial_no, "");
}

#[test]
fn the_error_example_refuses_the_whole_call() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_ERROR).unwrap();
    let error = answer.response.outcome().unwrap_err();
    assert_eq!(error.code, "AuthFailure.SignatureFailure");
    assert_eq!(
        answer.response.request_id,
        "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
    );
}

#[test]
fn receipts_are_an_array() {
    let receipts: Vec<DeliveryReceipt> = serde_json::from_str(RECEIPTS).unwrap();
    assert_eq!(
        receipts,
        vec![DeliveryReceipt {
            user_receive_time: "2015-10-17 08:03:04".to_owned(),
            nationcode: "86".to_owned(),
            mobile: Mobile("13xxxxxxxxx".to_owned()),
            report_status: ReportStatus::Success,
            errmsg: "DELIVRD".to_owned(),
            description: "用户短信送达成功".to_owned(),
            sid: "xxxxxxx".to_owned(),
        }]
    );
}

#[test]
fn a_receipt_status_other_than_success_or_fail_is_refused() {
    let body = RECEIPTS.replace("SUCCESS", "DELIVERED");
    assert!(serde_json::from_str::<Vec<DeliveryReceipt>>(&body).is_err());
    let failed = RECEIPTS.replace("SUCCESS", "FAIL");
    let receipts: Vec<DeliveryReceipt> = serde_json::from_str(&failed).unwrap();
    assert_eq!(receipts[0].report_status, ReportStatus::Fail);
}

#[test]
fn a_reply_is_one_object() {
    let reply: Reply = serde_json::from_str(REPLY).unwrap();
    assert_eq!(
        reply,
        Reply {
            extend: "扩展码".to_owned(),
            mobile: Mobile("13xxxxxxxxx".to_owned()),
            nationcode: "86".to_owned(),
            sign: "短信签名".to_owned(),
            text: "用户回复的内容".to_owned(),
            time: 1_457_336_869,
        }
    );
}

#[test]
fn a_reply_without_the_optional_extend_is_read() {
    let mut reply: Value = serde_json::from_str(REPLY).unwrap();
    reply.as_object_mut().unwrap().remove("extend");
    let reply: Reply = serde_json::from_value(reply).unwrap();
    assert_eq!(reply.extend, "");
}

#[test]
fn the_answer_is_the_documented_one() {
    assert_eq!(
        serde_json::to_value(CallbackAnswer::ok()).unwrap(),
        json!({"result": 0, "errmsg": "OK"})
    );
}

#[test]
fn debug_output_masks_the_numbers() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_OK).unwrap();
    let printed = format!("{answer:?}");
    assert!(!printed.contains("+8618501234444"), "{printed}");
    assert!(printed.contains(&mask("+8618501234444")), "{printed}");
}

#[test]
fn receipts_normalise_to_delivered_or_undelivered() {
    let mut receipts: Vec<DeliveryReceipt> = serde_json::from_str(RECEIPTS).unwrap();
    assert_eq!(receipts[0].status(), DeliveryStatus::Delivered);
    receipts[0].report_status = ReportStatus::Fail;
    assert_eq!(receipts[0].status(), DeliveryStatus::Undelivered);
}
