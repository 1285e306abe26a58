//! The lists' page cursor: `v1.<time in µs>.<survey id>` (the feedback list's call
//! `ended_at`, the case list's `detractor_at`), opaque to clients
//! (they give back what they were given), and read back exactly as written, so anything
//! else is a 400 naming `cursor`. Up to 18 digits each: every such number fits an `i64`,
//! and every such microsecond count is a time chrono holds, so a cursor that has the form
//! is one the list can start after (assets/openapi.json gives the same form as a pattern).

use chrono::{DateTime, Utc};

/// Where a page starts: just after the item at this time with this survey id, in the
/// list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub survey_id: i64,
}

/// Changed if the key ever changes, so an old cursor is refused rather than misread.
const VERSION: &str = "v1";
const MAX_DIGITS: usize = 18;
/// 4714-11-24 00:00:00 UTC BC, PostgreSQL's earliest `timestamptz`, in µs since 1970.
const PG_FIRST_MICROS: i64 = -210_866_803_200_000_000;

pub fn encode(after: Position) -> String {
    format!(
        "{VERSION}.{}.{}",
        after.at.timestamp_micros(),
        after.survey_id
    )
}

pub fn decode(cursor: &str) -> Result<Position, String> {
    let refused = || format!("cursor: not a cursor this API gave, got {cursor:?}");
    let mut parts = cursor.split('.');
    let (Some(VERSION), Some(micros), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    let (negative, magnitude) = match micros.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, micros),
    };
    let micros = digits(magnitude).ok_or_else(refused)?;
    let micros = if negative { -micros } else { micros };
    // Before PostgreSQL's first time no row can be: starting there is starting before all,
    // and PostgreSQL would refuse the time itself (a 500). The form's largest count, in
    // year 33658, is within its range.
    let at = DateTime::from_timestamp_micros(micros.max(PG_FIRST_MICROS)).ok_or_else(refused)?;
    let survey_id = digits(id).ok_or_else(refused)?;
    Ok(Position { at, survey_id })
}

/// 1 to 18 ASCII digits, nothing else (no sign, no space).
fn digits(s: &str) -> Option<i64> {
    let shaped = (1..=MAX_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    shaped.then(|| s.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        for after in [
            Position {
                at: Utc.timestamp_micros(1_764_547_200_123_456).unwrap(),
                survey_id: 42,
            },
            Position {
                at: Utc.timestamp_micros(-1).unwrap(),
                survey_id: 1,
            },
        ] {
            assert_eq!(decode(&encode(after)), Ok(after));
        }
        assert_eq!(
            encode(Position {
                at: Utc.timestamp_micros(5).unwrap(),
                survey_id: 7
            }),
            "v1.5.7"
        );
    }

    #[test]
    fn every_cursor_of_the_documented_form_is_taken() {
        let widest = "9".repeat(18);
        for cursor in [
            format!("v1.{widest}.{widest}"),
            format!("v1.-{widest}.0"),
            "v1.0.0".into(),
        ] {
            decode(&cursor).unwrap();
        }
    }

    #[test]
    fn a_time_before_postgresql_s_first_starts_at_its_first() {
        let far = decode(&format!("v1.-{}.5", "9".repeat(18))).unwrap();
        assert_eq!(far.at.timestamp_micros(), PG_FIRST_MICROS);
        assert_eq!(far.survey_id, 5);
    }

    #[test]
    fn anything_else_is_refused_naming_the_parameter() {
        for bad in [
            "",
            "v1",
            "v1.12",
            "v1.12.3.4",
            "v0.12.3",
            "v1.x.3",
            "v1.12.y",
            "v1.+12.3",
            "v1.12.+3",
            "v1.12.-3",
            "v1. 12.3",
            "v1..3",
            "v1.12.",
            "v1.1234567890123456789.3",
            "v1.12.1234567890123456789",
            "v1.١٢.3",
        ] {
            let err = decode(bad).unwrap_err();
            assert!(err.starts_with("cursor:"), "{err}");
        }
    }
}
