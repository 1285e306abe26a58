use super::*;

#[test]
fn each_class_has_its_documented_codes() {
    let cases = [
        ("isv.BUSINESS_LIMIT_CONTROL", ErrorClass::CapExceeded),
        ("isv.DAY_LIMIT_CONTROL", ErrorClass::CapExceeded),
        ("isv.MONTH_LIMIT_CONTROL", ErrorClass::CapExceeded),
        ("isv.MOBILE_NUMBER_ILLEGAL", ErrorClass::InvalidNumber),
        ("isp.SYSTEM_ERROR", ErrorClass::OutcomeUnknown),
        ("Throttling.User", ErrorClass::Retryable),
        ("SignatureNonceUsed", ErrorClass::Retryable),
        ("isv.SMS_TEMPLATE_ILLEGAL", ErrorClass::Permanent),
        ("isv.SMS_SIGNATURE_ILLEGAL", ErrorClass::Permanent),
        ("isv.TEMPLATE_MISSING_PARAMETERS", ErrorClass::Permanent),
        ("isv.PARAM_LENGTH_LIMIT", ErrorClass::Permanent),
        ("isv.AMOUNT_NOT_ENOUGH", ErrorClass::Permanent),
        ("isv.OUT_OF_SERVICE", ErrorClass::Permanent),
        ("SignatureDoesNotMatch", ErrorClass::Permanent),
    ];
    for (code, class) in cases {
        assert_eq!(classify(code), class, "{code}");
    }
}

#[test]
fn unknown_codes_fall_back_by_family_then_to_permanent() {
    let cases = [
        ("Throttling.SomethingNew", ErrorClass::Retryable),
        ("isp.SOMETHING_NEW", ErrorClass::OutcomeUnknown),
        ("isv.SOMETHING_NEW", ErrorClass::Permanent),
        ("", ErrorClass::Permanent),
    ];
    for (code, class) in cases {
        assert_eq!(classify(code), class, "{code:?}");
    }
}

#[test]
fn ok_is_not_an_error_code_in_the_table() {
    assert!(TABLE.iter().all(|(code, _)| *code != CODE_OK));
}

#[test]
fn the_table_lists_each_code_once() {
    let mut codes: Vec<&str> = TABLE.iter().map(|(code, _)| *code).collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), before);
}
