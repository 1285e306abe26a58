//! Tencent SMS on the wire: the `SendSms` (2021-01-11) request and answer, the two callbacks
//! Tencent posts to postcall, and the answer it expects to them.
//!
//! Sources: SendSms <https://cloud.tencent.com/document/api/382/55981>; 短信下发状态通知
//! (delivery receipts) <https://cloud.tencent.com/document/product/382/5807> and
//! <https://www.tencentcloud.com/document/product/382/43547>; 短信回复 (replies)
//! <https://cloud.tencent.com/document/api/382/59179>.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{delivery::DeliveryStatus, phone::mask};

/// A phone number as Tencent spells it (`+8618501234444` in SendSms, `185…` with a separate
/// `nationcode` in callbacks). `Debug` masks it so that a logged wire value leaks no number.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mobile(pub String);

impl Mobile {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mobile({})", mask(&self.0))
    }
}

/// The `SendSms` body. Postcall sends one number per call so that each message has its own
/// `SessionContext` (its message id), echoed in the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsRequest {
    /// E.164 numbers, at most 200, all mainland or all abroad.
    pub phone_number_set: Vec<Mobile>,
    pub sms_sdk_app_id: String,
    /// The approved signature without 【】; Tencent adds them.
    pub sign_name: String,
    pub template_id: String,
    /// `{1}`, `{2}`, … in order.
    pub template_param_set: Vec<String>,
    /// Under 512 bytes; echoed back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<String>,
    /// Off unless Tencent enabled it for the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_code: Option<String>,
    /// International SMS only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
}

/// Every API 3.0 answer is wrapped in `Response`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSmsResponse {
    #[serde(rename = "Response")]
    pub response: SendSmsBody,
}

/// Either `SendStatusSet` (one status per number, each with its own `Code`) or `Error` for
/// the whole call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsBody {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub send_status_set: Vec<SendStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    pub request_id: String,
}

impl SendSmsBody {
    /// The per-number statuses, or the error that refused the whole call.
    pub fn outcome(&self) -> Result<&[SendStatus], &ApiError> {
        match &self.error {
            Some(error) => Err(error),
            None => Ok(&self.send_status_set),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendStatus {
    /// Tencent's id of this SMS, the `sid` of its receipts; empty when refused.
    pub serial_no: String,
    pub phone_number: Mobile,
    /// Billed SMS parts; 0 when refused.
    pub fee: u32,
    pub session_context: String,
    /// `Ok`, or an error code (see `errors::classify`): HTTP 200 can carry a failure.
    pub code: String,
    pub message: String,
    /// `CN`, `US`, …; `DEF` when unknown, empty when refused.
    pub iso_code: String,
}

/// The `Code` of an accepted number.
pub const CODE_OK: &str = "Ok";

impl SendStatus {
    pub fn is_ok(&self) -> bool {
        self.code == CODE_OK
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// The `PullSmsSendStatusByPhoneNumber` body: one number's sends between two instants, to
/// find a send whose outcome is unknown by its `SessionContext`. Source: the API's page
/// <https://cloud.tencent.com/document/api/382/55980>, field names as in Tencent's Go SDK
/// (`sms/v20210111/models.go`, `PullSmsSendStatusByPhoneNumberRequestParams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PullStatusRequest {
    /// Unix seconds; at most 7 days back.
    pub begin_time: u64,
    /// "Fixed at 0 for now", the document says: there is no paging.
    pub offset: u64,
    /// At most 100.
    pub limit: u64,
    pub phone_number: Mobile,
    pub sms_sdk_app_id: String,
    pub end_time: u64,
}

/// The most one pull returns, and so the most postcall asks for.
pub const PULL_LIMIT: u64 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullStatusResponse {
    #[serde(rename = "Response")]
    pub response: PullStatusBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PullStatusBody {
    #[serde(default)]
    pub pull_sms_send_status_set: Vec<PulledStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    pub request_id: String,
}

/// One send as the pull lists it (`PullSmsSendStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PulledStatus {
    pub serial_no: String,
    pub phone_number: Mobile,
    /// Echoed from the send; empty unless Tencent enabled it for the app.
    #[serde(default)]
    pub session_context: String,
    /// `SUCCESS`/`FAIL`, present once the carrier reported.
    #[serde(default)]
    pub report_status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One delivery receipt. Tencent posts a JSON array of these, several per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReceipt {
    /// `YYYY-MM-DD hh:mm:ss`, Beijing time.
    pub user_receive_time: String,
    pub nationcode: String,
    /// Without the country code.
    pub mobile: Mobile,
    pub report_status: ReportStatus,
    /// The carrier's status code (`DELIVRD`, …).
    pub errmsg: String,
    pub description: String,
    /// The `SerialNo` SendSms returned.
    pub sid: String,
}

impl DeliveryReceipt {
    /// DESIGN's status: a receipt is the carrier's last word, so `FAIL` means the SMS was
    /// sent and not delivered, not that sending failed.
    pub fn status(&self) -> DeliveryStatus {
        match self.report_status {
            ReportStatus::Success => DeliveryStatus::Delivered,
            ReportStatus::Fail => DeliveryStatus::Undelivered,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    Success,
    Fail,
}

/// A reply (上行). One JSON object per request. It carries no message id: it is matched by
/// `mobile` and `sign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The channel's extension code; optional, empty unless enabled.
    #[serde(default)]
    pub extend: String,
    pub mobile: Mobile,
    pub nationcode: String,
    /// The signature the customer replied to, without 【】.
    pub sign: String,
    pub text: String,
    /// Unix seconds.
    pub time: i64,
}

/// The body Tencent expects from both callbacks: `result` 0 is success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    pub result: i32,
    pub errmsg: String,
}

impl CallbackAnswer {
    /// `{"result": 0, "errmsg": "OK"}`.
    pub fn ok() -> Self {
        Self {
            result: 0,
            errmsg: "OK".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
