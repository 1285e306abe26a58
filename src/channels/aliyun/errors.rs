//! Aliyun SMS `Code`s (anything but `OK`) as classes the dispatcher acts on.
//!
//! Source: 国内消息API错误码 <https://help.aliyun.com/zh/sms/developer-reference/api-error-codes>
//! (also <https://help.aliyun.com/document_detail/101346.html>); the signature and gateway
//! codes from the V3 signature document and Alibaba Cloud's common error codes. Aliyun
//! documents no API code for an opted-out recipient: an opt-out shows in the receipt, so
//! `OptedOut` is never returned here.

/// The classes are the channels' shared vocabulary.
pub use crate::channels::tencent::errors::ErrorClass;

/// The `Code` of an accepted send.
pub const CODE_OK: &str = "OK";

const TABLE: &[(&str, ErrorClass)] = &[
    // Caps: 业务限流 (per number, signature and template: 1/min, 5/h, 10/day for codes,
    // 50/day for notices by default) and the account's own daily or monthly limit.
    ("isv.BUSINESS_LIMIT_CONTROL", ErrorClass::CapExceeded),
    ("isv.DAY_LIMIT_CONTROL", ErrorClass::CapExceeded),
    ("isv.MONTH_LIMIT_CONTROL", ErrorClass::CapExceeded),
    // The recipient.
    ("isv.MOBILE_NUMBER_ILLEGAL", ErrorClass::InvalidNumber),
    // 系统错误 on Aliyun's side: the SMS may be out.
    ("isp.SYSTEM_ERROR", ErrorClass::OutcomeUnknown),
    // API call throttling and a reused nonce: a later call with a fresh nonce succeeds.
    ("Throttling", ErrorClass::Retryable),
    ("Throttling.User", ErrorClass::Retryable),
    ("Throttling.Api", ErrorClass::Retryable),
    ("SignatureNonceUsed", ErrorClass::Retryable),
    // Account, signature, template, content, request: a person has to act.
    ("isv.SMS_SIGNATURE_SCENE_ILLEGAL", ErrorClass::Permanent),
    ("isv.EXTEND_CODE_ERROR", ErrorClass::Permanent),
    ("isv.SIGN_STATE_ILLEGAL", ErrorClass::Permanent),
    ("isv.DOMESTIC_NUMBER_NOT_SUPPORTED", ErrorClass::Permanent),
    ("isv.DENY_IP_RANGE", ErrorClass::Permanent),
    ("isv.SMS_CONTENT_ILLEGAL", ErrorClass::Permanent),
    ("isv.SMS_SIGN_ILLEGAL", ErrorClass::Permanent),
    ("isp.RAM_PERMISSION_DENY", ErrorClass::Permanent),
    ("isv.OUT_OF_SERVICE", ErrorClass::Permanent),
    ("isv.PRODUCT_UN_SUBSCRIPT", ErrorClass::Permanent),
    ("isv.PRODUCT_UNSUBSCRIBE", ErrorClass::Permanent),
    ("isv.ACCOUNT_NOT_EXISTS", ErrorClass::Permanent),
    ("isv.ACCOUNT_ABNORMAL", ErrorClass::Permanent),
    ("isv.SMS_TEMPLATE_ILLEGAL", ErrorClass::Permanent),
    ("isv.SMS_SIGNATURE_ILLEGAL", ErrorClass::Permanent),
    ("isv.INVALID_PARAMETERS", ErrorClass::Permanent),
    ("isv.MOBILE_COUNT_OVER_LIMIT", ErrorClass::Permanent),
    ("isv.TEMPLATE_MISSING_PARAMETERS", ErrorClass::Permanent),
    ("isv.INVALID_JSON_PARAM", ErrorClass::Permanent),
    ("isv.BLACK_KEY_CONTROL_LIMIT", ErrorClass::Permanent),
    ("isv.PARAM_LENGTH_LIMIT", ErrorClass::Permanent),
    ("isv.PARAM_NOT_SUPPORT_URL", ErrorClass::Permanent),
    ("isv.AMOUNT_NOT_ENOUGH", ErrorClass::Permanent),
    ("isv.TEMPLATE_PARAMS_ILLEGAL", ErrorClass::Permanent),
    ("SignatureDoesNotMatch", ErrorClass::Permanent),
    ("InvalidTimeStamp.Expired", ErrorClass::Permanent),
    ("InvalidAccessKeyId.NotFound", ErrorClass::Permanent),
    ("InvalidVersion", ErrorClass::Permanent),
    ("InvalidAction.NotFound", ErrorClass::Permanent),
];

/// The class of a `Code` other than `OK`.
///
/// A code not in the table: `Throttling*` is throttling and `isp.*` (Aliyun's platform side)
/// may have sent; anything else is `Permanent`, for the reason given at Tencent's
/// `classify`: a refusal nobody understands is not resent blindly to an API without
/// idempotency.
pub fn classify(code: &str) -> ErrorClass {
    if let Some((_, class)) = TABLE.iter().find(|(known, _)| *known == code) {
        return *class;
    }
    if code.starts_with("Throttling") {
        ErrorClass::Retryable
    } else if code.starts_with("isp.") {
        ErrorClass::OutcomeUnknown
    } else {
        ErrorClass::Permanent
    }
}

#[cfg(test)]
mod tests;
