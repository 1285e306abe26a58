//! Each sample is the one printed in Aliyun's document named above it.

use serde_json::json;

use super::*;
use crate::domain::phone::mask;

/// SendSms, 返回示例 (also in Aliyun's SDK sample READMEs).
const SEND_OK: &str = r#"{
  "Code": "OK",
  "Message": "OK",
  "BizId": "9006197469364984****",
  "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"
}"#;

/// A refusal: the same shape, an error `Code` from 国内消息API错误码 and no `BizId`.
const SEND_CAPPED: &str = r#"{
  "Code": "isv.BUSINESS_LIMIT_CONTROL",
  "Message": "触发天级流控Permits:10",
  "RequestId": "C0A0BE93-B44F-4350-BCC8-B677F78C3802"
}"#;

/// SmsReport, 参数示例.
const REPORTS: &str = r#"[
  {
    "phone_number" : "1381111****",
    "send_time" : "2017-01-01 00:00:00",
    "report_time" : "2017-01-01 00:00:00",
    "success" : true,
    "err_code" : "DELIVERED",
    "err_msg" : "用户接收成功",
    "sms_size" : "1",
    "biz_id" : "12345********",
    "out_id" : "67890**"
  }
]"#;

/// SmsUp, current 参数示例: `sequence_id` a string, no `sign_name`.
const REPLIES: &str = r#"[
  {
    "phone_number" : "1381111****",
    "content" : "内容",
    "send_time" : "2017-09-01 00:00:00",
    "dest_code" : "1234",
    "sequence_id" : "1234567890"
  }
]"#;

/// SmsUp, older 请求样例: `sequence_id` a number, with `sign_name`.
const REPLIES_OLDER: &str = r#"[ { "phone_number" : "1381111****", "send_time" : "2017-09-01 00:00:00", "content" : "内容", "sign_name" : "签名", "dest_code" : "1234", "sequence_id" : 1234567890 } ]"#;

#[test]
fn the_query_uses_the_documented_names() {
    let mut values = BTreeMap::new();
    values.insert("score".to_owned(), "5".to_owned());
    let request = SendSmsRequest {
        phone_numbers: Mobile("13800138000".to_owned()),
        sign_name: "阿里云".to_owned(),
        template_code: "SMS_154950909".to_owned(),
        template_param: Some(template_param(&values)),
        out_id: Some("0b9d4c1e".to_owned()),
        sms_up_extend_code: None,
    };
    assert_eq!(
        request.query(),
        vec![
            ("PhoneNumbers", "13800138000"),
            ("SignName", "阿里云"),
            ("TemplateCode", "SMS_154950909"),
            ("TemplateParam", r#"{"score":"5"}"#),
            ("OutId", "0b9d4c1e"),
        ]
    );
}

#[test]
fn the_success_example_carries_the_biz_id() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_OK).unwrap();
    assert!(answer.is_ok());
    assert_eq!(answer.biz_id.as_deref(), Some("9006197469364984****"));
    assert_eq!(answer.request_id, "F655A8D5-B967-440B-8683-DAD6FF8DE990");
}

#[test]
fn a_refusal_has_a_code_and_no_biz_id() {
    let answer: SendSmsResponse = serde_json::from_str(SEND_CAPPED).unwrap();
    assert!(!answer.is_ok());
    assert_eq!(answer.code, "isv.BUSINESS_LIMIT_CONTROL");
    assert_eq!(answer.biz_id, None);
}

#[test]
fn reports_are_an_array() {
    let reports: Vec<SmsReport> = serde_json::from_str(REPORTS).unwrap();
    assert_eq!(
        reports,
        vec![SmsReport {
            phone_number: Mobile("1381111****".to_owned()),
            send_time: "2017-01-01 00:00:00".to_owned(),
            report_time: "2017-01-01 00:00:00".to_owned(),
            success: true,
            err_code: "DELIVERED".to_owned(),
            err_msg: "用户接收成功".to_owned(),
            sms_size: "1".to_owned(),
            biz_id: "12345********".to_owned(),
            out_id: "67890**".to_owned(),
        }]
    );
}

#[test]
fn replies_are_read_in_both_documented_shapes() {
    let current: Vec<SmsUp> = serde_json::from_str(REPLIES).unwrap();
    assert_eq!(current[0].sequence_id, "1234567890");
    assert_eq!(current[0].sign_name, None);
    assert_eq!(current[0].content, "内容");
    assert_eq!(current[0].dest_code, "1234");

    let older: Vec<SmsUp> = serde_json::from_str(REPLIES_OLDER).unwrap();
    assert_eq!(older[0].sequence_id, "1234567890");
    assert_eq!(older[0].sign_name.as_deref(), Some("签名"));
}

#[test]
fn a_single_object_is_not_a_push() {
    let object = REPORTS.trim().trim_start_matches('[').trim_end_matches(']');
    assert!(serde_json::from_str::<Vec<SmsReport>>(object).is_err());
}

#[test]
fn the_answer_is_the_documented_one() {
    assert_eq!(
        serde_json::to_value(CallbackAnswer::received()).unwrap(),
        json!({"code": 0, "msg": "接收成功"})
    );
}

#[test]
fn debug_output_masks_the_numbers() {
    let report = SmsReport {
        phone_number: Mobile("13800138000".to_owned()),
        ..serde_json::from_str::<Vec<SmsReport>>(REPORTS)
            .unwrap()
            .remove(0)
    };
    let printed = format!("{report:?}");
    assert!(!printed.contains("13800138000"), "{printed}");
    assert!(printed.contains(&mask("13800138000")), "{printed}");
}

#[test]
fn reports_normalise_and_carry_the_billed_parts() {
    let mut report = serde_json::from_str::<Vec<SmsReport>>(REPORTS)
        .unwrap()
        .remove(0);
    assert_eq!(report.status(), DeliveryStatus::Delivered);
    assert_eq!(report.billed_parts(), Some(1));
    report.success = false;
    report.sms_size = "n/a".to_owned();
    assert_eq!(report.status(), DeliveryStatus::Undelivered);
    assert_eq!(report.billed_parts(), None);
}
