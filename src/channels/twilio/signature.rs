//! `X-Twilio-Signature` on Twilio's form-encoded callbacks, computed and checked the way
//! Twilio's own `RequestValidator` does (twilio-python, `twilio/request_validator.py`).

use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// base64(HMAC-SHA1(auth_token, url + concat of every POST param name+value sorted by name))
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Accepts the signature computed over `url` as given, or with the default port (443 for
/// https, 80 for http) added when absent, or removed when present — as Twilio's own
/// validators do. Constant-time comparison.
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(tag) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    // verify_slice compares in constant time, so a near-miss reveals nothing about the tag.
    let matches = |u: &str| mac(auth_token, u, params).verify_slice(&tag).is_ok();
    matches(url) || other_port_form(url).is_some_and(|u| matches(&u))
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // Sorting the pairs orders by name and, for a repeated name, by value, as twilio-python
    // does; the order the form arrived in must not matter.
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `url` with its port removed if it has one, else with its scheme's default port added.
/// Twilio signs whichever form its backend happened to build, so a validator must try both.
/// Any port is removed, not only the default one: twilio-python does the same, and its test
/// suite has a callback to `:1234` signed without the port.
fn other_port_form(url: &str) -> Option<String> {
    let (scheme, port) = port_span(url)?;
    let mut other = String::with_capacity(url.len() + 4);
    other.push_str(&url[..port.start]);
    if port.is_empty() {
        let default = if scheme.eq_ignore_ascii_case("https") {
            ":443"
        } else {
            ":80"
        };
        other.push_str(default);
    }
    other.push_str(&url[port.end..]);
    Some(other)
}

/// The scheme and the byte range of `:port` in the authority — empty, at the end of the host,
/// when there is no port. `None` when the URL has no authority or a port that is not a
/// number: no variant is guessed for something that cannot be read.
fn port_span(url: &str) -> Option<(&str, Range<usize>)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return None;
    }
    let start = scheme.len() + 3;
    let end = start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // Userinfo may hold a ':', and so may an IPv6 literal, but only inside its brackets.
    let host = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
    let after_literal = url[host..end].rfind(']').map_or(host, |i| host + i + 1);
    match url[after_literal..end].rfind(':') {
        None => Some((scheme, end..end)),
        Some(i) => {
            let colon = after_literal + i;
            let digits = &url[colon + 1..end];
            let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            numeric.then_some((scheme, colon..end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from twilio/twilio-python, tests/unit/test_request_validator.py.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const DUPLICATE_EXPECTED: &str = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
    /// `test_validation_removes_port_on_http`: the http URL with `:1234`, as given.
    const HTTP_1234_EXPECTED: &str = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=";
    /// `test_validation_adds_port_on_https`: the URL with `:443`.
    const HTTPS_443_EXPECTED: &str = "kvajT1Ptam85bY51eRf/AJRuM3w=";
    /// `test_validation_adds_port_on_http`: the http URL with `:80`.
    const HTTP_80_EXPECTED: &str = "0ZXoZLH/DfblKGATFgpif+LLRf4=";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    fn duplicate_params() -> Vec<(String, String)> {
        pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ])
    }

    fn http(url: &str) -> String {
        url.replacen("https", "http", 1)
    }

    fn with_port(url: &str, port: &str) -> String {
        url.replacen(".com", &format!(".com:{port}"), 1)
    }

    #[test]
    fn compute_matches_twilio_vector() {
        assert_eq!(compute(TOKEN, URL, &params()), EXPECTED);
    }

    #[test]
    fn compute_sorts_repeated_names_by_value() {
        assert_eq!(compute(TOKEN, URL, &duplicate_params()), DUPLICATE_EXPECTED);
    }

    #[test]
    fn compute_ignores_the_order_params_arrive_in() {
        let mut reversed = params();
        reversed.reverse();
        assert_eq!(compute(TOKEN, URL, &reversed), EXPECTED);
        let mut reversed = duplicate_params();
        reversed.reverse();
        assert_eq!(compute(TOKEN, URL, &reversed), DUPLICATE_EXPECTED);
    }

    #[test]
    fn compute_over_explicit_port_urls_matches_twilio_vectors() {
        // The port vectors are what Twilio's suite says they are: signatures over these URLs.
        assert_eq!(
            compute(TOKEN, &with_port(URL, "443"), &params()),
            HTTPS_443_EXPECTED
        );
        assert_eq!(
            compute(TOKEN, &with_port(&http(URL), "80"), &params()),
            HTTP_80_EXPECTED
        );
        assert_eq!(
            compute(TOKEN, &with_port(&http(URL), "1234"), &params()),
            HTTP_1234_EXPECTED
        );
    }

    #[test]
    fn compute_without_params_signs_the_url_alone() {
        assert_eq!(compute(TOKEN, URL, &[]).len(), 28);
        assert_ne!(compute(TOKEN, URL, &[]), EXPECTED);
    }

    #[test]
    fn validates_twilio_vector() {
        assert!(validate(TOKEN, URL, &params(), EXPECTED));
    }

    #[test]
    fn validates_duplicate_params_vector() {
        assert!(validate(
            TOKEN,
            URL,
            &duplicate_params(),
            DUPLICATE_EXPECTED
        ));
    }

    #[test]
    fn validation_removes_port_on_https() {
        assert!(validate(
            TOKEN,
            &with_port(URL, "1234"),
            &params(),
            EXPECTED
        ));
    }

    #[test]
    fn validation_removes_default_port_on_https() {
        assert!(validate(TOKEN, &with_port(URL, "443"), &params(), EXPECTED));
    }

    #[test]
    fn validation_keeps_port_on_http_as_given() {
        let url = with_port(&http(URL), "1234");
        assert!(validate(TOKEN, &url, &params(), HTTP_1234_EXPECTED));
    }

    #[test]
    fn validation_adds_port_on_https() {
        assert!(validate(TOKEN, URL, &params(), HTTPS_443_EXPECTED));
    }

    #[test]
    fn validation_adds_port_on_http() {
        assert!(validate(TOKEN, &http(URL), &params(), HTTP_80_EXPECTED));
    }

    #[test]
    fn wrong_default_port_is_not_added() {
        // :80 is the http default, never tried for an https URL.
        let over_80 = compute(TOKEN, &with_port(URL, "80"), &params());
        assert!(!validate(TOKEN, URL, &params(), &over_80));
    }

    #[test]
    fn tampered_param_value_is_rejected() {
        let mut tampered = params();
        tampered[1].1 = "1235".into();
        assert!(!validate(TOKEN, URL, &tampered, EXPECTED));
    }

    #[test]
    fn added_or_dropped_param_is_rejected() {
        let mut more = params();
        more.push(("Body".into(), "STOP".into()));
        assert!(!validate(TOKEN, URL, &more, EXPECTED));
        let fewer = &params()[1..];
        assert!(!validate(TOKEN, URL, fewer, EXPECTED));
    }

    #[test]
    fn name_value_boundary_is_not_signed() {
        // Twilio concatenates without separators, so ("Digits1", "234") signs exactly as
        // ("Digits", "1234") when it sorts to the same place. Matching Twilio means keeping
        // this ambiguity; handlers must not trust a parameter Twilio would never send.
        let mut moved = params();
        moved[1] = ("Digits1".into(), "234".into());
        assert!(validate(TOKEN, URL, &moved, EXPECTED));
    }

    #[test]
    fn tampered_url_is_rejected() {
        let url = URL.replace("foo=1", "foo=2");
        assert!(!validate(TOKEN, &url, &params(), EXPECTED));
        assert!(!validate(TOKEN, &http(URL), &params(), EXPECTED));
    }

    #[test]
    fn wrong_token_is_rejected() {
        assert!(!validate("54321", URL, &params(), EXPECTED));
    }

    #[test]
    fn malformed_signatures_are_rejected() {
        for sig in [
            "",
            "not base64!",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8",
            "RSOYDt4T1cUTdK1PDd93",
            "AAAA",
        ] {
            assert!(!validate(TOKEN, URL, &params(), sig), "{sig:?}");
        }
    }

    #[test]
    fn surrounding_whitespace_in_the_header_is_tolerated() {
        assert!(validate(TOKEN, URL, &params(), &format!(" {EXPECTED}\n")));
    }

    #[test]
    fn non_ascii_values_are_signed_as_utf8() {
        let body = pairs(&[("Body", "满意 5分"), ("From", "+8613800138000")]);
        let sig = compute(TOKEN, URL, &body);
        assert!(validate(TOKEN, URL, &body, &sig));
        let other = pairs(&[("Body", "满意 4分"), ("From", "+8613800138000")]);
        assert!(!validate(TOKEN, URL, &other, &sig));
    }

    #[test]
    fn other_port_form_adds_or_removes_the_port() {
        let cases = [
            ("https://a.com/p", "https://a.com:443/p"),
            ("https://a.com:443/p", "https://a.com/p"),
            ("https://a.com:8443/p?x=1", "https://a.com/p?x=1"),
            ("http://a.com/p", "http://a.com:80/p"),
            ("HTTPS://a.com/p", "HTTPS://a.com:443/p"),
            ("https://a.com", "https://a.com:443"),
            ("https://a.com?t=10:30", "https://a.com:443?t=10:30"),
            ("https://a.com/p?t=10:30", "https://a.com:443/p?t=10:30"),
            ("https://a.com#x:1", "https://a.com:443#x:1"),
            ("https://user:pw@a.com/p", "https://user:pw@a.com:443/p"),
            ("https://user:pw@a.com:9/p", "https://user:pw@a.com/p"),
            ("https://[::1]/p", "https://[::1]:443/p"),
            ("https://[::1]:8443/p", "https://[::1]/p"),
        ];
        for (url, expected) in cases {
            assert_eq!(other_port_form(url).as_deref(), Some(expected), "{url}");
        }
    }

    #[test]
    fn other_port_form_leaves_unreadable_urls_alone() {
        for url in [
            "/webhooks/twilio/status",
            "a.com/p",
            "https://a.com:/p",
            "https://a.com:x/p",
            "://a.com/p",
            "/p?u=http://a.com",
        ] {
            assert_eq!(other_port_form(url), None, "{url}");
        }
    }
}
