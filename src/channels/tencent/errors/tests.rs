use super::*;

#[test]
fn each_class_has_its_documented_codes() {
    let cases = [
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
        ("LimitExceeded.PhoneNumberCountLimit", ErrorClass::Permanent),
        (
            "FailedOperation.PhoneNumberInBlacklist",
            ErrorClass::OptedOut,
        ),
        (
            "InvalidParameterValue.IncorrectPhoneNumber",
            ErrorClass::InvalidNumber,
        ),
        ("InternalError.Timeout", ErrorClass::OutcomeUnknown),
        ("InternalError.SendAndRecvFail", ErrorClass::OutcomeUnknown),
        ("RequestLimitExceeded", ErrorClass::Retryable),
        (
            "FailedOperation.TemplateIncorrectOrUnapproved",
            ErrorClass::Permanent,
        ),
        (
            "FailedOperation.SignatureIncorrectOrUnapproved",
            ErrorClass::Permanent,
        ),
        (
            "FailedOperation.InsufficientBalanceInSmsPackage",
            ErrorClass::Permanent,
        ),
        (
            "InvalidParameterValue.TemplateParameterLengthLimit",
            ErrorClass::Permanent,
        ),
        ("AuthFailure.SignatureFailure", ErrorClass::Permanent),
        (
            "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
            ErrorClass::Permanent,
        ),
        // From the SendSms page's failure example, not in the SDK's list.
        (
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            ErrorClass::Permanent,
        ),
    ];
    for (code, class) in cases {
        assert_eq!(classify(code), class, "{code}");
    }
}

#[test]
fn unknown_codes_fall_back_by_family_then_to_permanent() {
    let cases = [
        ("LimitExceeded.SomeNewCap", ErrorClass::CapExceeded),
        ("RequestLimitExceeded.SomethingNew", ErrorClass::Retryable),
        ("InternalError.SomethingNew", ErrorClass::OutcomeUnknown),
        ("FailedOperation.SomethingNew", ErrorClass::Permanent),
        ("EntirelyNew", ErrorClass::Permanent),
        ("", ErrorClass::Permanent),
    ];
    for (code, class) in cases {
        assert_eq!(classify(code), class, "{code:?}");
    }
}

#[test]
fn the_table_lists_each_code_once() {
    let mut codes: Vec<&str> = TABLE.iter().map(|(code, _)| *code).collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), before);
}
