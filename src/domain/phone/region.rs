//! The region of a number alone, for the dispatcher: its time-zone gate and its choice of
//! a mainland-China text need nothing else, and the full parse (`PhoneNumber::parse`: the
//! libphonenumber parse, validity and number type, each a run of cached regexes) cost
//! 14.5 µs a number, where this is a map lookup by country code for most numbers
//! (BENCHMARKS.md "dispatch").

use phonenumber::metadata::DATABASE;

use super::{PhoneNumber, PhoneShapeError, e164_digits};

/// What `PhoneNumber::parse(raw)?.region()` says. A country code that belongs to one
/// region (86: CN, and most others) names it without reading the rest; the few that several
/// regions share (1: US, CA and the Caribbean; 7: RU, KZ; 44: GB and the Crown
/// dependencies; …) are told apart by their national number's patterns, so those numbers
/// take the full parse.
pub fn region_of(raw: &str) -> Result<Option<&'static str>, PhoneShapeError> {
    let digits = e164_digits(raw)?;
    // Country codes are one to three digits and prefix-free: the first that is one is it.
    for len in 1..=3 {
        let Ok(code) = digits[..len].parse::<u16>() else {
            break;
        };
        let Some(regions) = DATABASE.region(&code) else {
            continue;
        };
        if let [only] = regions.as_slice() {
            return Ok(Some(only));
        }
        break;
    }
    let phone = PhoneNumber::parse(raw)?;
    // The database lives for the program; the full parse copied its region id.
    Ok(phone.region().and_then(static_id))
}

/// The database's own copy of a region id.
fn static_id(region: &str) -> Option<&'static str> {
    DATABASE.by_id(region).map(|m| m.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers in every country code the database knows, at every length E.164 allows, from
    /// a fixed pseudo-random sequence: the shortcut must say what the full parse says.
    #[test]
    fn the_region_is_what_the_full_parse_says() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for code in 1..1000u16 {
            if DATABASE.region(&code).is_none() {
                continue;
            }
            let code = code.to_string();
            for total in 8..=15usize {
                let Some(national) = total.checked_sub(code.len()).filter(|&n| n > 0) else {
                    continue;
                };
                for _ in 0..8 {
                    let rest: String = (0..national)
                        .map(|_| char::from(b'0' + (next() % 10) as u8))
                        .collect();
                    let raw = format!("+{code}{rest}");
                    let full = PhoneNumber::parse(&raw).map(|p| p.region().map(str::to_owned));
                    let quick = region_of(&raw).map(|r| r.map(str::to_owned));
                    assert_eq!(quick, full, "{}", super::super::mask(&raw));
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn shapes_are_checked_as_the_full_parse_checks_them() {
        assert_eq!(region_of("+8613800138000"), Ok(Some("CN")));
        assert_eq!(region_of("+14155550123"), Ok(Some("US")));
        assert_eq!(region_of("+0861380013800"), Err(PhoneShapeError));
        assert_eq!(region_of("8613800138000"), Err(PhoneShapeError));
    }
}
