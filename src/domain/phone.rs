//! `PhoneNumber`: an E.164 number, checked once at the boundary, never printed whole.

use std::fmt;

use phonenumber::metadata::DATABASE;

/// A customer's phone number in E.164 form (`+8613800138000`).
///
/// `Display` and `Debug` mask the middle digits so that a number can be logged
/// without leaking it; `as_e164` is for the database and the SMS provider only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    region: Option<String>,
    reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an E.164 phone number (expected `+` and 8 to 15 digits)")]
pub struct PhoneShapeError;

impl PhoneNumber {
    /// Accepts exactly `+` followed by 8–15 digits, the first not 0. Anything else is a
    /// malformed event, not a number to be judged.
    pub fn parse(raw: &str) -> Result<Self, PhoneShapeError> {
        let digits = raw.strip_prefix('+').ok_or(PhoneShapeError)?;
        let shaped = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !shaped {
            return Err(PhoneShapeError);
        }
        let (region, reachable) = match phonenumber::parse(None, raw) {
            Ok(number) => {
                let region = number.metadata(&DATABASE).map(|m| m.id().to_owned());
                (region, can_receive_sms(&number))
            }
            Err(_) => (None, false),
        };
        Ok(Self {
            e164: raw.to_owned(),
            region,
            reachable,
        })
    }

    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// ISO 3166 region of the number (`CN`, `US`), when the numbering plan knows it.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// A valid number of a kind that can receive an SMS: a landline or a premium line
    /// cannot, and an SMS to it only costs money.
    pub fn can_receive_sms(&self) -> bool {
        self.reachable
    }

    /// The number with all but the country-code prefix and the last two digits hidden.
    pub fn masked(&self) -> String {
        mask(&self.e164)
    }
}

fn can_receive_sms(number: &phonenumber::PhoneNumber) -> bool {
    use phonenumber::Type;
    number.is_valid()
        && matches!(
            number.number_type(&DATABASE),
            Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Voip
        )
}

/// Masks any phone-like string: keeps `+` and the first 5 digits (country code and
/// operator prefix, useful for routing questions) and the last 2.
pub fn mask(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let keep_head = if raw.starts_with('+') { 6 } else { 5 };
    if chars.len() <= keep_head + 2 {
        return "*".repeat(chars.len());
    }
    let tail = chars.len() - 2;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep_head || i >= tail { *c } else { '*' })
        .collect()
}

/// Masks every phone-like run of digits (7 or more, with an optional leading `+`) in free
/// text — error messages that echo an event's or a provider's values — before it is logged.
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if chars[i] == '+' {
            i += 1;
        }
        let digits_from = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if i - digits_from >= 7 {
            out.push_str(&mask(&run));
        } else if i == start {
            out.push(chars[i]);
            i += 1;
        } else {
            out.push_str(&run);
        }
    }
    out
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_mobile_is_parsed_with_its_region() {
        let p = PhoneNumber::parse("+8613800138000").unwrap();
        assert_eq!(p.as_e164(), "+8613800138000");
        assert_eq!(p.region(), Some("CN"));
        assert!(p.can_receive_sms());
    }

    #[test]
    fn a_us_number_is_fixed_line_or_mobile_and_reachable() {
        let p = PhoneNumber::parse("+14155550123").unwrap();
        assert_eq!(p.region(), Some("US"));
        assert!(p.can_receive_sms());
    }

    #[test]
    fn a_beijing_landline_cannot_receive_sms() {
        let p = PhoneNumber::parse("+861065529988").unwrap();
        assert_eq!(p.region(), Some("CN"));
        assert!(!p.can_receive_sms());
    }

    #[test]
    fn an_unassigned_number_is_shaped_but_unreachable() {
        let p = PhoneNumber::parse("+0861380013800").unwrap_err();
        assert_eq!(p, PhoneShapeError, "leading zero after + is not E.164");
        assert!(
            !PhoneNumber::parse("+8600000000000")
                .unwrap()
                .can_receive_sms()
        );
        let p = PhoneNumber::parse("+99912345678").unwrap();
        assert!(!p.can_receive_sms());
    }

    #[test]
    fn malformed_shapes_are_rejected() {
        for raw in [
            "",
            "8613800138000",
            "+86 138 0013 8000",
            "+86-13800138000",
            "+1234567",
            "+1234567890123456",
            "+86138001380O0",
            "＋8613800138000",
        ] {
            assert_eq!(PhoneNumber::parse(raw), Err(PhoneShapeError), "{raw:?}");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_whole_number() {
        let p = PhoneNumber::parse("+8613800138000").unwrap();
        assert_eq!(p.to_string(), "+86138******00");
        assert_eq!(format!("{p:?}"), "PhoneNumber(+86138******00)");
        assert!(!format!("{p} {p:?}").contains("13800138000"));
    }

    #[test]
    fn redact_masks_every_phone_like_run_and_leaves_the_rest() {
        let text = "invalid type: integer `8613800138000`, expected a string; To +14155550123 (code 21610)";
        let redacted = redact(text);
        assert!(
            !redacted.contains("8613800138000") && !redacted.contains("4155550123"),
            "{redacted}"
        );
        assert!(
            redacted.contains("code 21610") && redacted.contains("invalid type"),
            "{redacted}"
        );
        assert_eq!(
            redact("中文 + 1234567 ok"),
            "中文 + 12345** ok".replace("12345**", &mask("1234567"))
        );
    }

    #[test]
    fn mask_handles_short_and_unprefixed_input() {
        assert_eq!(mask("+123"), "****");
        assert_eq!(mask("13800138000"), "13800****00");
    }
}
