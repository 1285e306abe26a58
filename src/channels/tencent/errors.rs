//! Tencent SMS error codes as classes the dispatcher acts on.
//!
//! A code arrives two ways: per number as `SendStatusSet[].Code` (anything but `Ok`), or for
//! the whole call as `Response.Error.Code`. Sources: SMS 错误码
//! <https://cloud.tencent.com/document/api/382/52075> (common and SendSms codes) and
//! <https://cloud.tencent.com/document/api/382/59177> (send error codes), checked against the
//! constants of Tencent's Go SDK, `tencentcloud/sms/v20210111/errors.go`.

pub use crate::channels::errors::ErrorClass;

/// Each documented code that postcall's `SendSms` can meet. Codes of the template and
/// signature management APIs are left out: postcall never calls them.
const TABLE: &[(&str, ErrorClass)] = &[
    // Caps: per number, per content, per app and day.
    (
        "LimitExceeded.PhoneNumberDailyLimit",
        ErrorClass::CapExceeded,
    ),
    (
        "LimitExceeded.PhoneNumberOneHourLimit",
        ErrorClass::CapExceeded,
    ),
    (
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        ErrorClass::CapExceeded,
    ),
    (
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        ErrorClass::CapExceeded,
    ),
    (
        "LimitExceeded.DeliveryFrequencyLimit",
        ErrorClass::CapExceeded,
    ),
    ("LimitExceeded.AppDailyLimit", ErrorClass::CapExceeded),
    ("LimitExceeded.DailyLimit", ErrorClass::CapExceeded),
    // More than 200 numbers in one call: postcall's own mistake, not a cap.
    ("LimitExceeded.PhoneNumberCountLimit", ErrorClass::Permanent),
    // The recipient.
    (
        "FailedOperation.PhoneNumberInBlacklist",
        ErrorClass::OptedOut,
    ),
    (
        "InvalidParameterValue.IncorrectPhoneNumber",
        ErrorClass::InvalidNumber,
    ),
    (
        "UnsupportedOperation.UnsuportedRegion",
        ErrorClass::InvalidNumber,
    ),
    // Tencent's side timed out: the SMS may be out.
    ("InternalError.Timeout", ErrorClass::OutcomeUnknown),
    ("InternalError.SendAndRecvFail", ErrorClass::OutcomeUnknown),
    ("InternalError", ErrorClass::OutcomeUnknown),
    // API call rate, not the recipient's cap.
    ("RequestLimitExceeded", ErrorClass::Retryable),
    (
        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
        ErrorClass::Retryable,
    ),
    (
        "RequestLimitExceeded.IPLimitExceeded",
        ErrorClass::Retryable,
    ),
    // Account, template, signature, content, request: a person has to act.
    (
        "FailedOperation.ContainSensitiveWord",
        ErrorClass::Permanent,
    ),
    ("FailedOperation.FailResolvePacket", ErrorClass::Permanent),
    (
        "FailedOperation.InsufficientBalanceInSmsPackage",
        ErrorClass::Permanent,
    ),
    ("FailedOperation.JsonParseFail", ErrorClass::Permanent),
    (
        "FailedOperation.MarketingSendTimeConstraint",
        ErrorClass::Permanent,
    ),
    ("FailedOperation.OtherError", ErrorClass::Permanent),
    (
        "FailedOperation.ParametersOtherError",
        ErrorClass::Permanent,
    ),
    (
        "FailedOperation.SignatureIncorrectOrUnapproved",
        ErrorClass::Permanent,
    ),
    (
        "FailedOperation.TemplateIncorrectOrUnapproved",
        ErrorClass::Permanent,
    ),
    (
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        ErrorClass::Permanent,
    ),
    ("InternalError.JsonParseFail", ErrorClass::Permanent),
    ("InternalError.OtherError", ErrorClass::Permanent),
    ("InternalError.RequestTimeException", ErrorClass::Permanent),
    (
        "InternalError.RestApiInterfaceNotExist",
        ErrorClass::Permanent,
    ),
    ("InternalError.SigFieldMissing", ErrorClass::Permanent),
    ("InternalError.SigVerificationFail", ErrorClass::Permanent),
    ("InternalError.UnknownError", ErrorClass::Permanent),
    ("InvalidParameter", ErrorClass::Permanent),
    ("InvalidParameter.AppidAndBizId", ErrorClass::Permanent),
    ("InvalidParameter.DirtyWordFound", ErrorClass::Permanent),
    ("InvalidParameter.InvalidParameters", ErrorClass::Permanent),
    (
        "InvalidParameterValue.ContentLengthLimit",
        ErrorClass::Permanent,
    ),
    (
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        ErrorClass::Permanent,
    ),
    (
        "InvalidParameterValue.SdkAppIdNotExist",
        ErrorClass::Permanent,
    ),
    (
        "InvalidParameterValue.TemplateParameterFormatError",
        ErrorClass::Permanent,
    ),
    (
        "InvalidParameterValue.TemplateParameterLengthLimit",
        ErrorClass::Permanent,
    ),
    ("MissingParameter", ErrorClass::Permanent),
    (
        "MissingParameter.EmptyPhoneNumberSet",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.RequestIpNotInWhitelist",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.RequestPermissionDeny",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.SdkAppIdIsDisabled",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.SerivceSuspendDueToArrears",
        ErrorClass::Permanent,
    ),
    (
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
        ErrorClass::Permanent,
    ),
    (
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
        ErrorClass::Permanent,
    ),
    // Common API 3.0 codes a SendSms call can meet.
    ("AuthFailure.InvalidAuthorization", ErrorClass::Permanent),
    ("AuthFailure.InvalidSecretId", ErrorClass::Permanent),
    ("AuthFailure.SecretIdNotFound", ErrorClass::Permanent),
    ("AuthFailure.SignatureExpire", ErrorClass::Permanent),
    ("AuthFailure.SignatureFailure", ErrorClass::Permanent),
    ("AuthFailure.TokenFailure", ErrorClass::Permanent),
    ("AuthFailure.UnauthorizedOperation", ErrorClass::Permanent),
    ("FailedOperation", ErrorClass::Permanent),
    ("InvalidAction", ErrorClass::Permanent),
    ("InvalidParameterValue", ErrorClass::Permanent),
    ("LimitExceeded", ErrorClass::CapExceeded),
    ("NoSuchVersion", ErrorClass::Permanent),
    ("UnsupportedOperation", ErrorClass::Permanent),
    ("UnsupportedRegion", ErrorClass::Permanent),
];

/// The class of a `Code` other than `Ok`.
///
/// A code not in the table is classed by its family: `LimitExceeded.*` is a cap,
/// `RequestLimitExceeded.*` is throttling, `InternalError.*` may have sent. Anything else is
/// `Permanent`: Tencent answered and refused, and since `SendSms` is not idempotent, a blind
/// retry of a refusal nobody understands risks a second SMS or a loop against a cap, while a
/// failed message is visible and counted.
pub fn classify(code: &str) -> ErrorClass {
    if let Some((_, class)) = TABLE.iter().find(|(known, _)| *known == code) {
        return *class;
    }
    let family = code.split('.').next().unwrap_or(code);
    match family {
        "LimitExceeded" => ErrorClass::CapExceeded,
        "RequestLimitExceeded" => ErrorClass::Retryable,
        "InternalError" => ErrorClass::OutcomeUnknown,
        _ => ErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests;
