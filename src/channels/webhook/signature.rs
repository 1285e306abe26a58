//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `"{id}.{timestamp}.{body}"`, keyed by a `whsec_<base64>` secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1";

/// The decoded signing key. Equality is for refusing known keys in config; signatures are
/// compared in constant time by `verify`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

/// Why a configured secret was refused. Never carries the secret or a piece of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("webhook secret must start with \"whsec_\"")]
    MissingPrefix,
    #[error("webhook secret is not valid base64 after \"whsec_\"")]
    InvalidBase64,
    #[error("webhook secret is empty")]
    Empty,
}

impl Secret {
    /// Parses `whsec_<base64>`. The prefix is required (the reference libraries make it
    /// optional) so that a secret pasted from the wrong place fails at start-up.
    pub fn parse(s: &str) -> Result<Secret, SecretError> {
        let encoded = s.strip_prefix(PREFIX).ok_or(SecretError::MissingPrefix)?;
        // The decode error is dropped on purpose: it names the offending byte of the key.
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::InvalidBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(key))
    }

    /// The key's length in bytes, decoded.
    pub fn key_len(&self) -> usize {
        self.0.len()
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    /// Secrets end up in config dumps and error logs; the key must not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(id, timestamp, body).finalize().into_bytes();
    format!("{VERSION},{}", STANDARD.encode(tag))
}

/// The three header values as received.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp is not an integer number of seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is older than the tolerance allows")]
    TooOld,
    #[error("webhook-timestamp is further in the future than the tolerance allows")]
    TooNew,
    #[error("webhook-signature holds no v1 signature")]
    NoSignature,
    #[error("no v1 signature in webhook-signature matches the message")]
    Mismatch,
}

/// Accepts the message if its timestamp is within `tolerance_secs` of `now` either way and
/// any `v1` entry of the signature header matches. The timestamp is checked first: a replay
/// of an old, validly signed message must fail even though its signature is good.
pub fn verify(
    secret: &Secret,
    headers: &Headers<'_>,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let timestamp = parse_timestamp(headers.timestamp)?;
    check_window(timestamp, now, tolerance_secs)?;
    let mac = secret.mac(headers.id, timestamp, body);
    let mut candidates = v1_signatures(headers.signature).peekable();
    if candidates.peek().is_none() {
        return Err(VerifyError::NoSignature);
    }
    // verify_slice compares in constant time, so a mismatch reveals nothing about the tag.
    let matched = candidates.any(|sig| {
        STANDARD
            .decode(sig)
            .is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// Digits only: `i64::from_str` would also take a sign, which no sender writes.
fn parse_timestamp(s: &str) -> Result<i64, VerifyError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::BadTimestamp);
    }
    s.parse().map_err(|_| VerifyError::BadTimestamp)
}

fn check_window(timestamp: i64, now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    // Saturating: both values come from outside and must not be able to overflow a check.
    if now.saturating_sub(timestamp) > tolerance_secs {
        Err(VerifyError::TooOld)
    } else if timestamp.saturating_sub(now) > tolerance_secs {
        Err(VerifyError::TooNew)
    } else {
        Ok(())
    }
}

/// The base64 part of each `v1,` entry; entries of other versions are for other verifiers
/// (the header may carry several during a key or scheme rotation).
fn v1_signatures(header: &str) -> impl Iterator<Item = &str> {
    header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .map(|(_, sig)| sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published test vector of the Standard Webhooks reference libraries:
    // standard-webhooks/standard-webhooks, libraries/php/tests/WebhookTest.php,
    // `testSignFunctionWorks` (the same values appear in svix's libraries and docs).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    const TOLERANCE: i64 = 300;

    fn spec_secret() -> Secret {
        Secret::parse(SPEC_SECRET).unwrap()
    }

    fn spec_headers(signature: &str) -> Headers<'_> {
        Headers {
            id: SPEC_ID,
            timestamp: "1614265330",
            signature,
        }
    }

    fn check(headers: &Headers<'_>, body: &[u8], now: i64) -> Result<(), VerifyError> {
        verify(&spec_secret(), headers, body, now, TOLERANCE)
    }

    #[test]
    fn sign_reproduces_the_spec_test_vector() {
        assert_eq!(sign(&spec_secret(), SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
    }

    #[test]
    fn sign_reproduces_the_reference_rust_library_vector() {
        // standard-webhooks/standard-webhooks, libraries/rust/src/lib.rs, `test_sign`.
        let secret = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn verify_accepts_the_spec_test_vector() {
        assert_eq!(check(&spec_headers(SPEC_SIG), SPEC_BODY, SPEC_TS), Ok(()));
    }

    #[test]
    fn tampered_body_is_rejected() {
        let body = br#"{"test": 2432232315}"#;
        assert_eq!(
            check(&spec_headers(SPEC_SIG), body, SPEC_TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn tampered_id_is_rejected() {
        let headers = Headers {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJeK",
            ..spec_headers(SPEC_SIG)
        };
        assert_eq!(
            check(&headers, SPEC_BODY, SPEC_TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn tampered_timestamp_is_rejected() {
        let headers = Headers {
            timestamp: "1614265331",
            ..spec_headers(SPEC_SIG)
        };
        assert_eq!(
            check(&headers, SPEC_BODY, SPEC_TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn wrong_secret_is_rejected() {
        let other = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let result = verify(
            &other,
            &spec_headers(SPEC_SIG),
            SPEC_BODY,
            SPEC_TS,
            TOLERANCE,
        );
        assert_eq!(result, Err(VerifyError::Mismatch));
    }

    #[test]
    fn timestamp_at_the_tolerance_edges_is_accepted() {
        let headers = spec_headers(SPEC_SIG);
        assert_eq!(check(&headers, SPEC_BODY, SPEC_TS + TOLERANCE), Ok(()));
        assert_eq!(check(&headers, SPEC_BODY, SPEC_TS - TOLERANCE), Ok(()));
    }

    #[test]
    fn stale_timestamp_is_rejected_one_second_past_tolerance() {
        let now = SPEC_TS + TOLERANCE + 1;
        assert_eq!(
            check(&spec_headers(SPEC_SIG), SPEC_BODY, now),
            Err(VerifyError::TooOld)
        );
    }

    #[test]
    fn future_timestamp_is_rejected_one_second_past_tolerance() {
        let now = SPEC_TS - TOLERANCE - 1;
        assert_eq!(
            check(&spec_headers(SPEC_SIG), SPEC_BODY, now),
            Err(VerifyError::TooNew)
        );
    }

    #[test]
    fn stale_timestamp_is_rejected_even_with_a_bad_signature() {
        let headers = spec_headers("v1,AAAA");
        assert_eq!(
            check(&headers, SPEC_BODY, SPEC_TS + 3600),
            Err(VerifyError::TooOld)
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let headers = Headers {
            timestamp: "9223372036854775807",
            ..spec_headers(SPEC_SIG)
        };
        assert_eq!(
            check(&headers, SPEC_BODY, i64::MIN),
            Err(VerifyError::TooNew)
        );
        let headers = Headers {
            timestamp: "0",
            ..spec_headers(SPEC_SIG)
        };
        assert_eq!(
            check(&headers, SPEC_BODY, i64::MAX),
            Err(VerifyError::TooOld)
        );
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        for ts in [
            "",
            "abc",
            "1614265330.0",
            "+1614265330",
            "-1614265330",
            " 1614265330",
            "99999999999999999999",
        ] {
            let headers = Headers {
                timestamp: ts,
                ..spec_headers(SPEC_SIG)
            };
            assert_eq!(
                check(&headers, SPEC_BODY, SPEC_TS),
                Err(VerifyError::BadTimestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn one_valid_signature_among_several_is_enough() {
        let header = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,xyz v2,{} {SPEC_SIG} v1,not*base64",
            &SPEC_SIG[3..]
        );
        assert_eq!(check(&spec_headers(&header), SPEC_BODY, SPEC_TS), Ok(()));
    }

    #[test]
    fn several_signatures_none_valid_is_a_mismatch() {
        let header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,bm9wZQ==";
        assert_eq!(
            check(&spec_headers(header), SPEC_BODY, SPEC_TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn other_versions_are_ignored() {
        // The right tag, but labelled with a version this verifier does not implement.
        let header = format!("v2,{}", &SPEC_SIG[3..]);
        assert_eq!(
            check(&spec_headers(&header), SPEC_BODY, SPEC_TS),
            Err(VerifyError::NoSignature)
        );
    }

    #[test]
    fn header_without_any_signature_is_rejected() {
        for header in [
            "",
            "   ",
            "v1",
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            assert_eq!(
                check(&spec_headers(header), SPEC_BODY, SPEC_TS),
                Err(VerifyError::NoSignature),
                "{header:?}"
            );
        }
    }

    #[test]
    fn truncated_signature_is_a_mismatch() {
        let header = &SPEC_SIG[..SPEC_SIG.len() - 4];
        assert_eq!(
            check(&spec_headers(header), SPEC_BODY, SPEC_TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn round_trip_sign_then_verify() {
        let secret = Secret::parse("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=").unwrap();
        let body = "{\"type\":\"message.status\",\"data\":{\"status\":\"delivered\"}}".as_bytes();
        let signature = sign(&secret, "evt_1", 1_800_000_000, body);
        let headers = Headers {
            id: "evt_1",
            timestamp: "1800000000",
            signature: &signature,
        };
        assert_eq!(
            verify(&secret, &headers, body, 1_800_000_100, TOLERANCE),
            Ok(())
        );
    }

    #[test]
    fn round_trip_with_non_utf8_body() {
        let secret = spec_secret();
        let body = [0xff, 0x00, 0xfe];
        let signature = sign(&secret, "x", 5, &body);
        let headers = Headers {
            id: "x",
            timestamp: "5",
            signature: &signature,
        };
        assert_eq!(verify(&secret, &headers, &body, 5, 0), Ok(()));
    }

    #[test]
    fn secret_requires_the_prefix() {
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            Secret::parse("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
    }

    #[test]
    fn secret_requires_valid_standard_base64() {
        for s in [
            "whsec_not base64",
            "whsec_abc",
            "whsec_a-b_c-d_",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",
        ] {
            assert_eq!(
                Secret::parse(s).unwrap_err(),
                SecretError::InvalidBase64,
                "{s:?}"
            );
        }
    }

    #[test]
    fn secret_must_not_be_empty() {
        assert_eq!(Secret::parse("whsec_").unwrap_err(), SecretError::Empty);
        assert_eq!(Secret::parse("").unwrap_err(), SecretError::MissingPrefix);
    }

    #[test]
    fn secret_debug_does_not_print_the_key() {
        let secret = spec_secret();
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret:#?}"), "Secret(<redacted>)");
    }

    #[test]
    fn errors_read_clearly() {
        assert_eq!(
            VerifyError::TooOld.to_string(),
            "webhook-timestamp is older than the tolerance allows"
        );
        assert_eq!(
            SecretError::MissingPrefix.to_string(),
            "webhook secret must start with \"whsec_\""
        );
    }
}
