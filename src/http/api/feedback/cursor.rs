//! The feedback list's page cursor: opaque to clients (base64url), and read back strictly,
//! so a cursor this API did not give is a 400 naming `cursor`, never a query on garbage.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;

use crate::store::feedback::After;

/// Bumped if the key ever changes, so an old cursor is refused rather than misread.
const VERSION: &str = "v1";

pub fn encode(after: After) -> String {
    let key = format!(
        "{VERSION}.{}.{}",
        after.ended_at.timestamp_micros(),
        after.survey_id
    );
    URL_SAFE_NO_PAD.encode(key)
}

pub fn decode(cursor: &str) -> Result<After, String> {
    let refused = || format!("cursor: not a cursor this API gave, got {cursor:?}");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
    let key = String::from_utf8(bytes).map_err(|_| refused())?;
    let mut parts = key.split('.');
    let (Some(VERSION), Some(micros), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    let ended_at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(refused)?;
    let survey_id = id.parse::<i64>().map_err(|_| refused())?;
    Ok(After {
        ended_at,
        survey_id,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        let after = After {
            ended_at: Utc.timestamp_micros(1_764_547_200_123_456).unwrap(),
            survey_id: 42,
        };
        let cursor = encode(after);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decode(&cursor), Ok(after));
    }

    #[test]
    fn anything_else_is_refused_naming_the_parameter() {
        for bad in [
            "",
            "v1",
            "!!!",
            &URL_SAFE_NO_PAD.encode("v1.12"),
            &URL_SAFE_NO_PAD.encode("v1.12.3.4"),
            &URL_SAFE_NO_PAD.encode("v0.12.3"),
            &URL_SAFE_NO_PAD.encode("v1.x.3"),
            &URL_SAFE_NO_PAD.encode("v1.12.y"),
            &URL_SAFE_NO_PAD.encode(format!("v1.{}.3", i64::MAX)),
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
        ] {
            let err = decode(bad).unwrap_err();
            assert!(err.starts_with("cursor:"), "{err}");
        }
    }
}
