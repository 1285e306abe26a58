//! `PhoneNumber`: an E.164 number, checked once at the boundary, never printed whole.

use std::fmt;

mod plan;
mod region;

pub use region::region_of;

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
        let plan::Plan { region, reachable } = plan::plan_of(raw)?;
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

/// The digits after the `+` of an E.164 number: 8–15, the first not 0.
fn e164_digits(raw: &str) -> Result<&str, PhoneShapeError> {
    let digits = raw.strip_prefix('+').ok_or(PhoneShapeError)?;
    let shaped = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if shaped {
        Ok(digits)
    } else {
        Err(PhoneShapeError)
    }
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

/// Masks every phone-like run in free text — error messages that echo an event's or a
/// provider's values, ids printed by the CLI — before it is logged or printed.
///
/// A run is an optional `+`, then digit groups joined by a single space, hyphen or dot, or
/// by parentheses around a group (`+86 138 0013 8000`, `138-0013-8000`, `(138) 0013 8000`,
/// `+1 (415) 555.0123`); a run of 7 digits or more in all is masked as `mask` masks a
/// number: the first 5 digits and the last 2 stay, the separators stay where they were.
/// Three shapes hold 7 digits or more and are deliberately left alone, because logs are
/// full of them and none is written like a phone number: an ISO date (`2026-12-02`, also
/// at the head of a timestamp), a dotted IPv4 address, and a decimal number (two groups
/// joined by a dot, `12345.678`). An unbroken run is always a number (`20261202` is
/// masked), and a time (`10:05:30`) or an amount (`12.50`) holds too few digits.
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let Some(run) = Run::scan(&chars, i) else {
            out.push(chars[i]);
            i += 1;
            continue;
        };
        i = match run.not_a_phone() {
            Some(end) => {
                out.extend(&chars[run.start..end]);
                end
            }
            None => {
                run.write_masked(&mut out);
                run.end
            }
        };
    }
    out
}

/// Whether `gap` may join two digit groups of a written number: one space, hyphen or dot,
/// or a parenthesis, alone or beside one of those (`) `, ` (`, `)-`).
fn gap_fits(gap: &[char]) -> bool {
    let plain = gap.iter().filter(|c| matches!(c, ' ' | '-' | '.')).count();
    let open = gap.iter().filter(|&&c| c == '(').count();
    let close = gap.iter().filter(|&&c| c == ')').count();
    plain + open + close == gap.len() && plain <= 1 && open + close <= 1
}

/// A phone-like run of `redact`'s text: its digit groups and what joins them.
struct Run<'a> {
    chars: &'a [char],
    start: usize,
    end: usize,
    plus: bool,
    groups: Vec<std::ops::Range<usize>>,
    /// `gaps[k]` joins `groups[k]` and `groups[k + 1]`.
    gaps: Vec<String>,
    digits: usize,
}

impl<'a> Run<'a> {
    fn scan(chars: &'a [char], start: usize) -> Option<Self> {
        let digit_at = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
        let mut i = start;
        let plus = chars[i] == '+';
        if plus {
            i += 1;
        }
        if chars.get(i) == Some(&'(') && digit_at(i + 1) {
            i += 1;
        }
        if !digit_at(i) {
            return None;
        }
        let mut groups = Vec::new();
        let mut gaps = Vec::new();
        loop {
            let from = i;
            while digit_at(i) {
                i += 1;
            }
            groups.push(from..i);
            let gap =
                (1..=2).find(|&n| digit_at(i + n) && chars.get(i..i + n).is_some_and(gap_fits));
            let Some(n) = gap else { break };
            gaps.push(chars[i..i + n].iter().collect());
            i += n;
        }
        Some(Self {
            chars,
            start,
            end: i,
            plus,
            digits: groups.iter().map(ExactSizeIterator::len).sum(),
            groups,
            gaps,
        })
    }

    /// Where the text to leave as it is ends, when the run is not a phone number.
    fn not_a_phone(&self) -> Option<usize> {
        if self.digits < 7 {
            return Some(self.end);
        }
        if self.plus {
            return None;
        }
        let len = |k: usize| self.groups.get(k).map_or(0, ExactSizeIterator::len);
        let joined_by =
            |n: usize, gap: &str| self.gaps.len() >= n && self.gaps[..n].iter().all(|g| g == gap);
        let in_range =
            |k: usize, range: std::ops::RangeInclusive<u32>| range.contains(&self.value(k));
        let date = (len(0), len(1), len(2)) == (4, 2, 2)
            && (joined_by(2, "-") || joined_by(2, "."))
            && in_range(1, 1..=12)
            && in_range(2, 1..=31);
        if date {
            return Some(self.groups[2].end);
        }
        let ipv4 = joined_by(3, ".")
            && self.gaps.get(3).is_none_or(|g| g != ".")
            && (0..4).all(|k| len(k) <= 3 && in_range(k, 0..=255));
        if ipv4 {
            return Some(self.groups[3].end);
        }
        let decimal = self.groups.len() == 2 && self.gaps[0] == ".";
        decimal.then_some(self.end)
    }

    /// The number group `k` spells (groups tested here have at most 4 digits).
    fn value(&self, k: usize) -> u32 {
        self.chars[self.groups[k].clone()]
            .iter()
            .fold(0, |v, c| v * 10 + c.to_digit(10).unwrap_or(0))
    }

    fn write_masked(&self, out: &mut String) {
        let keep = |n: usize| self.digits > 7 && (n < 5 || n >= self.digits - 2);
        let mut n = 0;
        for &c in &self.chars[self.start..self.end] {
            if c.is_ascii_digit() {
                out.push(if keep(n) { c } else { '*' });
                n += 1;
            } else {
                out.push(c);
            }
        }
    }
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
    fn redact_masks_numbers_written_with_spaces_hyphens_dots_and_parentheses() {
        for (written, masked) in [
            ("+86 138 0013 8000", "+86 138 **** **00"),
            ("138 0013 8000", "138 00** **00"),
            ("138-0013-8000", "138-00**-**00"),
            ("138.0013.8000", "138.00**.**00"),
            ("(138) 0013 8000", "(138) 00** **00"),
            ("+1 (415) 555-0123", "+1 (415) 5**-**23"),
            ("+86-13800138000", "+86-138******00"),
            ("0755 1234 567", "0755 1*** *67"),
            ("555-0123", "***-****"),
        ] {
            let text = format!("from {written}, reply ignored");
            assert_eq!(
                redact(&text),
                format!("from {masked}, reply ignored"),
                "{written}"
            );
        }
        assert_eq!(
            redact("call_id=\"13800138000\u{1b}[31m\""),
            "call_id=\"13800****00\u{1b}[31m\""
        );
    }

    #[test]
    fn redact_leaves_dates_times_amounts_and_short_numbers_alone() {
        for text in [
            "2026-12-02",
            "ended_at 2026-12-02T10:05:30Z",
            "2026-12-02 10:05:30",
            "2026.12.02",
            "10:05:30",
            "12.50",
            "took 12345.678 ms",
            "from 192.168.100.200:5432",
            "code 21610 after 3 tries",
            "1 2 3",
            "138  0013",
            "+ 12345",
        ] {
            assert_eq!(redact(text), text);
        }
        // Each rule is narrow: a date, an address or a decimal beside a number is still
        // told apart from it, and what only looks like a date is masked.
        assert_eq!(redact("2026-12-02 13800138000"), "2026-12-02 13800****00");
        assert_eq!(redact("2026-13-02"), "2026-1*-02");
        assert_eq!(redact("20261202"), "20261*02");
        assert_eq!(redact("+2026-12-02"), "+2026-1*-02");
        assert_eq!(redact("1.2.3.4.5.6.7"), "*.*.*.*.*.*.*");
    }

    #[test]
    fn mask_handles_short_and_unprefixed_input() {
        assert_eq!(mask("+123"), "****");
        assert_eq!(mask("13800138000"), "13800****00");
    }
}
