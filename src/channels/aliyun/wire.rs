//! Aliyun SMS on the wire: `SendSms` (2017-05-25) parameters and answer, the SmsReport and
//! SmsUp HTTP batch pushes, and the answer Aliyun expects to them.
//!
//! Sources: SendSms <https://help.aliyun.com/en/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms>;
//! SmsReport <https://help.aliyun.com/zh/sms/developer-reference/smsreport-2>; SmsUp
//! <https://help.aliyun.com/zh/sms/developer-reference/smsup-http> and the older
//! <https://help.aliyun.com/knowledge_detail/60127.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::delivery::DeliveryStatus;

/// Phone numbers mask themselves in `Debug`; the type is shared by the channels.
pub use crate::channels::tencent::wire::Mobile;

/// `SendSms`'s parameters, all sent in the query string (see `signature`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSmsRequest {
    /// Mainland numbers as 11 digits, or `+`/`00` and the country code; several joined by
    /// commas, at most 1000. Postcall sends one per call.
    pub phone_numbers: Mobile,
    /// The approved signature without 【】.
    pub sign_name: String,
    pub template_code: String,
    /// The template's `${name}` values as a JSON object string.
    pub template_param: Option<String>,
    /// Postcall's message id, echoed as `out_id` in the SmsReport.
    pub out_id: Option<String>,
    pub sms_up_extend_code: Option<String>,
}

impl SendSmsRequest {
    /// The parameters, named as Aliyun documents them, for `signature::Request::query`.
    pub fn query(&self) -> Vec<(&'static str, &str)> {
        let mut query = vec![
            ("PhoneNumbers", self.phone_numbers.as_str()),
            ("SignName", self.sign_name.as_str()),
            ("TemplateCode", self.template_code.as_str()),
        ];
        let optional = [
            ("TemplateParam", &self.template_param),
            ("OutId", &self.out_id),
            ("SmsUpExtendCode", &self.sms_up_extend_code),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                query.push((name, value.as_str()));
            }
        }
        query
    }
}

/// `TemplateParam`: `{"name":"value",…}`, names sorted so that the same message always
/// signs the same.
pub fn template_param(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).expect("a map of strings serialises")
}

/// The answer, for success and refusal alike: `Code` is `OK` or an error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsResponse {
    pub code: String,
    pub message: String,
    /// Aliyun's id of the send, the `biz_id` of its receipts; absent when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_id: Option<String>,
    pub request_id: String,
}

impl SendSmsResponse {
    pub fn is_ok(&self) -> bool {
        self.code == super::errors::CODE_OK
    }
}

/// The `QuerySendDetails` answer: one number's sends on one day, a page at a time. Source:
/// <https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-querysenddetails>,
/// field names as in Alibaba Cloud's SDKs (`dysmsapi-20170525`,
/// `QuerySendDetailsResponseBody`). It carries no `BizId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QuerySendDetailsResponse {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub request_id: String,
    /// A number, as a string.
    #[serde(default)]
    pub total_count: Option<String>,
    #[serde(default, rename = "SmsSendDetailDTOs")]
    pub details: Option<SendDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendDetails {
    #[serde(default, rename = "SmsSendDetailDTO")]
    pub list: Vec<SendDetail>,
}

/// One send (`SmsSendDetailDTO`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendDetail {
    #[serde(default)]
    pub phone_num: Option<String>,
    /// 1 waiting for the receipt, 2 failed, 3 delivered.
    #[serde(default)]
    pub send_status: Option<i64>,
    #[serde(default)]
    pub err_code: Option<String>,
    #[serde(default)]
    pub out_id: Option<String>,
    #[serde(default)]
    pub send_date: Option<String>,
}

/// The most `PageSize` takes.
pub const QUERY_PAGE_SIZE: usize = 50;

/// One SmsReport entry; Aliyun pushes a JSON array, several per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsReport {
    pub phone_number: Mobile,
    /// `YYYY-MM-DD hh:mm:ss`.
    pub send_time: String,
    pub report_time: String,
    pub success: bool,
    /// `DELIVERED` or the carrier's failure code.
    pub err_code: String,
    pub err_msg: String,
    /// Billed SMS parts, as a string.
    pub sms_size: String,
    /// The `BizId` SendSms returned.
    pub biz_id: String,
    /// The `OutId` sent; empty when none was.
    #[serde(default)]
    pub out_id: String,
}

impl SmsReport {
    /// DESIGN's status: a report is the carrier's last word, so `success: false` means the
    /// SMS was sent and not delivered.
    pub fn status(&self) -> DeliveryStatus {
        if self.success {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Undelivered
        }
    }

    /// The SMS parts Aliyun billed (`sms_size`), which win over postcall's own count;
    /// `None` when the field is not a number.
    pub fn billed_parts(&self) -> Option<u32> {
        self.sms_size.trim().parse().ok()
    }
}

/// One SmsUp entry (a reply); Aliyun pushes a JSON array. It carries no message id: it is
/// matched by phone and `sign_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsUp {
    pub phone_number: Mobile,
    pub send_time: String,
    pub content: String,
    /// Listed in the older document, missing from the current one's sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_name: Option<String>,
    pub dest_code: String,
    /// A Number in the older document, a String in the current one: both are read.
    #[serde(deserialize_with = "number_or_string")]
    pub sequence_id: String,
}

/// The body Aliyun expects: HTTP 200 and a numeric `code`; anything else is pushed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    pub code: i32,
    pub msg: String,
}

impl CallbackAnswer {
    /// `{"code": 0, "msg": "接收成功"}`.
    pub fn received() -> Self {
        Self {
            code: 0,
            msg: "接收成功".to_owned(),
        }
    }
}

fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Number(n) => n.to_string(),
        Either::Text(s) => s,
    })
}

#[cfg(test)]
mod tests;
