//! The `call.completed` event (DESIGN.md §1), parsed and validated from its JSON body.
//!
//! Parsing, and [`not_ahead_of`] against the worker's clock just after it, are the only
//! places an event can be rejected as poison: everything after them holds a
//! `CallCompleted` whose every field already obeys the contract.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::phone::PhoneNumber;

/// The contract's bound on `call_id`; the API refuses longer ones as no call's.
pub const CALL_ID_MAX_CHARS: usize = 128;

/// Why an event body is poison; the text goes to the dead-letter header `x-postcall-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PoisonReason(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Completed,
    Abandoned,
    Transferred,
    Voicemail,
    Failed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Abandoned => "abandoned",
            Self::Transferred => "transferred",
            Self::Voicemail => "voicemail",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for Disposition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown disposition `{s}`"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallCompleted {
    pub event_id: Option<Uuid>,
    pub call_id: String,
    pub customer_phone: PhoneNumber,
    pub agent_id: String,
    pub queue: String,
    pub started_at: DateTime<FixedOffset>,
    pub answered_at: Option<DateTime<FixedOffset>>,
    pub ended_at: DateTime<FixedOffset>,
    pub disposition: Disposition,
    pub language: Option<String>,
    pub customer_timezone: Option<Tz>,
}

impl CallCompleted {
    /// Time between entering the line and an agent picking up; none if never answered.
    pub fn wait(&self) -> Option<TimeDelta> {
        self.answered_at.map(|a| a - self.started_at)
    }

    /// Time spoken with the agent; zero if never answered.
    pub fn talk(&self) -> TimeDelta {
        self.answered_at
            .map_or(TimeDelta::zero(), |a| self.ended_at - a)
    }
}

/// The wire shape: strings stay strings here so that each field's error can name it.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    event_id: Option<String>,
    call_id: String,
    customer_phone: String,
    agent_id: String,
    queue: String,
    started_at: String,
    #[serde(default)]
    answered_at: Option<String>,
    ended_at: String,
    disposition: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    customer_timezone: Option<String>,
}

/// Parses a message body into an event.
///
/// Ingest runs this on every delivery, so a plain body is decoded straight into the wire
/// struct, without building a `serde_json::Value` tree first. serde_json skips unknown
/// fields more leniently than it builds a `Value` (no depth limit, no number range, escapes
/// unchecked), and the derive refuses duplicate keys that a `Value` accepts (last one
/// wins); so the fast path is taken only when [`plain`] vouches for the body, and anything
/// else goes the `Value` way, [`from_json`]. Every verdict and every poison reason is the
/// `Value` route's.
pub fn parse(body: &[u8]) -> Result<CallCompleted, PoisonReason> {
    decode(body).map(|(event, _)| event)
}

/// [`parse`], and the text to store for the event: `None` when the body as sent can be
/// stored (the fast path vouched for it), else the decoded `Value` re-encoded. A body that
/// took the slow path may hold what jsonb refuses though its `Value` does not — a duplicate
/// key whose first value holds `\u0000` (the `Value` keeps the last) — and storing it as
/// sent would fail its batch for good.
pub fn decode(body: &[u8]) -> Result<(CallCompleted, Option<String>), PoisonReason> {
    if let Some(nul) = plain(body)
        && let Ok(wire) = serde_json::from_slice::<Wire>(body)
    {
        return if nul {
            Err(nul_poison())
        } else {
            validate(wire).map(|event| (event, None))
        };
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| PoisonReason(format!("invalid event JSON: {e}")))?;
    let event = from_json(&value)?;
    Ok((event, Some(value.to_string())))
}

/// Whether a body that serde_json's derive accepts would also make a `Value`, and whether
/// it holds a NUL (`Some(true)`). `None` — "take the slow path" — for anything unusual: a
/// string escape other than the simple ones or a `\u` outside the BMP's non-surrogates, a
/// raw control character in a string, a number with an exponent or over 300 characters
/// (it might not fit an f64), nesting deeper than 100 (a `Value` stops at 128), or bytes
/// that are not UTF-8. Events as publishers send them pass.
fn plain(body: &[u8]) -> Option<bool> {
    std::str::from_utf8(body).ok()?;
    let mut nul = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                i += 1;
                loop {
                    match *body.get(i)? {
                        b'"' => break,
                        b'\\' => match *body.get(i + 1)? {
                            b'u' => {
                                let hex = body.get(i + 2..i + 6)?;
                                if !hex.iter().all(u8::is_ascii_hexdigit) {
                                    return None;
                                }
                                let code =
                                    u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                                if (0xD800..=0xDFFF).contains(&code) {
                                    return None;
                                }
                                nul |= code == 0;
                                i += 6;
                            }
                            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                            _ => return None,
                        },
                        0x00..=0x1f => return None,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > 100 {
                    return None;
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len()
                    && matches!(body[i], b'-' | b'+' | b'.' | b'0'..=b'9' | b'e' | b'E')
                {
                    i += 1;
                }
                let number = &body[start..i];
                if number.len() > 300 || number.iter().any(|b| matches!(b, b'e' | b'E')) {
                    return None;
                }
            }
            _ => i += 1,
        }
    }
    Some(nul)
}

/// Validates an already-parsed body. The body is stored as it came, so a NUL character
/// anywhere in it (PostgreSQL's text and jsonb cannot hold one) makes it poison here rather
/// than a batch insert that fails forever.
pub fn from_json(value: &serde_json::Value) -> Result<CallCompleted, PoisonReason> {
    if contains_nul(value) {
        return Err(nul_poison());
    }
    let wire =
        Wire::deserialize(value).map_err(|e| PoisonReason(format!("invalid event JSON: {e}")))?;
    validate(wire)
}

/// How far after the worker's clock a call may end: the skew two NTP-kept clocks never
/// reach, with room for a publisher's clock that drifts for a while.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);

/// A call cannot end in the future: one that does says the publisher's clock is wrong, and
/// taken at its word it would schedule a survey for that day and hold the phone's only
/// survey slot until then, and keep its phone past the retention window. Poison, so it
/// waits in the dead letters, with this reason, to be replayed once the clock is right.
pub fn not_ahead_of(event: &CallCompleted, now: DateTime<Utc>) -> Result<(), PoisonReason> {
    let ahead = event.ended_at.to_utc() - now;
    if ahead <= CLOCK_SKEW {
        return Ok(());
    }
    Err(PoisonReason(format!(
        "`ended_at`: is {} minutes ahead of this worker's clock ({}); a call cannot end in \
         the future, and at most {} minutes of clock skew are allowed",
        ahead.num_minutes(),
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        CLOCK_SKEW.num_minutes()
    )))
}

fn nul_poison() -> PoisonReason {
    PoisonReason("event contains a NUL character (\\u0000), which cannot be stored".into())
}

fn validate(wire: Wire) -> Result<CallCompleted, PoisonReason> {
    let poison = |field: &str, why: String| PoisonReason(format!("`{field}`: {why}"));

    let event_id = wire
        .event_id
        .map(|id| {
            Uuid::parse_str(&id).map_err(|_| poison("event_id", format!("not a UUID: {id:?}")))
        })
        .transpose()?;
    let call_id = bounded("call_id", wire.call_id, CALL_ID_MAX_CHARS)?;
    let customer_phone = PhoneNumber::parse(&wire.customer_phone)
        .map_err(|e| poison("customer_phone", e.to_string()))?;
    let agent_id = bounded("agent_id", wire.agent_id, 64)?;
    let queue = bounded("queue", wire.queue, 64)?;
    let started_at = timestamp("started_at", &wire.started_at)?;
    let answered_at = wire
        .answered_at
        .map(|t| timestamp("answered_at", &t))
        .transpose()?;
    let ended_at = timestamp("ended_at", &wire.ended_at)?;
    let disposition = wire
        .disposition
        .parse::<Disposition>()
        .map_err(|e| poison("disposition", e))?;
    let language = wire
        .language
        .map(|l| {
            language_tag(&l)
                .then_some(l.clone())
                .ok_or_else(|| poison("language", format!("not a BCP 47 tag: {l:?}")))
        })
        .transpose()?;
    let customer_timezone = wire
        .customer_timezone
        .map(|z| {
            z.parse::<Tz>()
                .map_err(|_| poison("customer_timezone", format!("unknown IANA time zone {z:?}")))
        })
        .transpose()?;

    if ended_at < started_at {
        return Err(poison("ended_at", "is before started_at".into()));
    }
    if let Some(answered) = answered_at
        && !(started_at <= answered && answered <= ended_at)
    {
        return Err(poison(
            "answered_at",
            "is not between started_at and ended_at".into(),
        ));
    }

    Ok(CallCompleted {
        event_id,
        call_id,
        customer_phone,
        agent_id,
        queue,
        started_at,
        answered_at,
        ended_at,
        disposition,
        language,
        customer_timezone,
    })
}

fn contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn bounded(field: &str, value: String, max_chars: usize) -> Result<String, PoisonReason> {
    let n = value.chars().count();
    if n == 0 || n > max_chars || value.trim().is_empty() {
        return Err(PoisonReason(format!(
            "`{field}`: must be 1 to {max_chars} characters, got {n}"
        )));
    }
    Ok(value)
}

fn timestamp(field: &str, value: &str) -> Result<DateTime<FixedOffset>, PoisonReason> {
    DateTime::parse_from_rfc3339(value).map_err(|e| {
        PoisonReason(format!(
            "`{field}`: not an RFC 3339 time with offset ({e}): {value:?}"
        ))
    })
}

/// BCP 47 in the shape that matters here: a 2–3 letter language, then 1–8 alphanumeric
/// subtags (`zh-CN`, `zh-Hans-CN`, `en`). Not a registry check.
pub fn language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn valid() -> Value {
        json!({
            "event_id": "6f1c2a4e-3b7d-4c1e-9a2f-0d5e8b7c6a41",
            "call_id": "call-0001",
            "customer_phone": "+8613800138000",
            "agent_id": "agent-7",
            "queue": "payment",
            "started_at": "2026-11-24T10:00:00+08:00",
            "answered_at": "2026-11-24T10:00:30+08:00",
            "ended_at": "2026-11-24T10:05:30+08:00",
            "disposition": "completed",
            "language": "zh-CN",
            "customer_timezone": "Asia/Shanghai",
            "some_future_field": {"ignored": true}
        })
    }

    fn parse_value(v: &Value) -> Result<CallCompleted, PoisonReason> {
        parse(serde_json::to_vec(v).unwrap().as_slice())
    }

    fn without(field: &str) -> Value {
        let mut v = valid();
        v.as_object_mut().unwrap().remove(field);
        v
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = valid();
        v[field] = value;
        v
    }

    #[test]
    fn a_complete_event_parses_with_wait_and_talk() {
        let e = parse_value(&valid()).unwrap();
        assert_eq!(e.call_id, "call-0001");
        assert_eq!(e.disposition, Disposition::Completed);
        assert_eq!(e.customer_timezone, Some(chrono_tz::Asia::Shanghai));
        assert_eq!(e.wait(), Some(TimeDelta::seconds(30)));
        assert_eq!(e.talk(), TimeDelta::seconds(300));
    }

    #[test]
    fn optional_fields_may_be_absent_or_null() {
        let mut v = valid();
        for f in ["event_id", "language", "customer_timezone"] {
            v.as_object_mut().unwrap().remove(f);
        }
        v["answered_at"] = Value::Null;
        let e = parse_value(&v).unwrap();
        assert_eq!(
            (e.event_id, e.language.clone(), e.customer_timezone),
            (None, None, None)
        );
        assert_eq!(e.wait(), None);
        assert_eq!(e.talk(), TimeDelta::zero());
    }

    #[test]
    fn each_missing_required_field_is_poison_naming_it() {
        for f in [
            "call_id",
            "customer_phone",
            "agent_id",
            "queue",
            "started_at",
            "ended_at",
            "disposition",
        ] {
            let err = parse_value(&without(f)).unwrap_err();
            assert!(
                err.0.contains(&format!("missing field `{f}`")),
                "{f}: {err}"
            );
        }
    }

    #[test]
    fn wrong_shapes_are_poison_naming_the_field() {
        let cases = [
            ("call_id", json!("")),
            ("call_id", json!("x".repeat(129))),
            ("agent_id", json!("a".repeat(65))),
            ("queue", json!("   ")),
            ("customer_phone", json!("13800138000")),
            ("started_at", json!("2026-11-24 10:00:00")),
            ("ended_at", json!("2026-11-24T10:05:30")),
            ("answered_at", json!("yesterday")),
            ("disposition", json!("hung_up")),
            ("language", json!("chinese!")),
            ("customer_timezone", json!("Mars/Olympus")),
            ("event_id", json!("not-a-uuid")),
        ];
        for (field, value) in cases {
            let err = parse_value(&with(field, value.clone())).unwrap_err();
            assert!(
                err.0.contains(&format!("`{field}`")),
                "{field}={value}: {err}"
            );
        }
    }

    #[test]
    fn wrong_json_types_are_poison() {
        let err = parse_value(&with("call_id", json!(42))).unwrap_err();
        assert!(err.0.contains("invalid type"), "{err}");
        assert!(
            parse(b"{not json")
                .unwrap_err()
                .0
                .starts_with("invalid event JSON")
        );
        assert!(parse(b"[]").is_err());
        assert!(parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn a_call_may_end_at_most_the_clock_skew_after_the_workers_clock() {
        let event = parse_value(&valid()).unwrap();
        let ended = event.ended_at.to_utc();
        // Ended now or earlier: no question.
        assert_eq!(not_ahead_of(&event, ended), Ok(()));
        assert_eq!(not_ahead_of(&event, ended + TimeDelta::days(400)), Ok(()));
        // A worker clock behind the publisher's by up to the skew: still taken.
        assert_eq!(not_ahead_of(&event, ended - CLOCK_SKEW), Ok(()));
        let err = not_ahead_of(&event, ended - CLOCK_SKEW - TimeDelta::seconds(1)).unwrap_err();
        assert!(
            err.0.starts_with("`ended_at`: is 15 minutes ahead"),
            "{err}"
        );
        let err = not_ahead_of(&event, ended - TimeDelta::days(365)).unwrap_err();
        assert!(err.0.contains("525600 minutes ahead"), "{err}");
        assert!(err.0.contains("(2025-11-24T02:05:30Z)"), "{err}");
    }

    #[test]
    fn a_nul_anywhere_is_poison_because_postgres_cannot_store_it() {
        let err = parse_value(&with("agent_id", json!("a\u{0}b"))).unwrap_err();
        assert!(err.0.contains("NUL"), "{err}");
        let err = parse_value(&with("extra", json!({"k\u{0}": 1}))).unwrap_err();
        assert!(err.0.contains("NUL"), "{err}");
    }

    #[test]
    fn boundary_lengths_are_accepted() {
        let v = with("call_id", json!("中".repeat(128)));
        assert_eq!(parse_value(&v).unwrap().call_id.chars().count(), 128);
        assert!(parse_value(&with("agent_id", json!("a".repeat(64)))).is_ok());
    }

    #[test]
    fn times_out_of_order_are_poison() {
        let err = parse_value(&with("ended_at", json!("2026-11-24T09:59:59+08:00"))).unwrap_err();
        assert!(err.0.contains("`ended_at`"), "{err}");
        let err =
            parse_value(&with("answered_at", json!("2026-11-24T10:06:00+08:00"))).unwrap_err();
        assert!(err.0.contains("`answered_at`"), "{err}");
    }

    /// The route `parse` took before its fast path: a `Value` first, always.
    fn through_value(body: &[u8]) -> Result<CallCompleted, PoisonReason> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| PoisonReason(format!("invalid event JSON: {e}")))?;
        from_json(&value)
    }

    #[test]
    fn the_fast_path_decides_exactly_as_the_value_route() {
        let plain = serde_json::to_string(&valid()).unwrap();
        let field = |extra: &str| plain.replacen('{', &format!("{{{extra},"), 1);
        let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
        let bodies: Vec<String> = vec![
            plain.clone(),
            field(r#""n": 1e400"#),
            field(r#""n": -1.5e3"#),
            field(&format!(r#""n": {}"#, "9".repeat(400))),
            field(r#""n": 12345678901234567890123"#),
            field(&format!(r#""deep": {deep}"#)),
            field(r#""s": "\x""#),
            field(r#""s": "\ud800""#),
            field(r#""s": "\ud83d\ude00 ok""#),
            field(r#""s": "\u0000""#),
            field(r#""s": "\\u0000""#),
            field(r#""s": "tab\there \"quoted\" \u4e2d""#),
            field("\"s\": \"raw\u{1}control\""),
            field(r#""call_id": "first-of-two""#),
            field(r#""\u0000key": true"#),
            field(r#""answered_at": null, "language": null"#),
            plain.replace("call-0001", r"call\u002d0001"),
            plain.replace("+8613800138000", r"+86138\u00300138000"),
            plain.replace("\"completed\"", "\"Completed\""),
            plain.replace("\"call-0001\"", "42"),
            format!("{plain} trailing"),
            format!("  {plain}\n"),
            plain[..plain.len() - 1].to_owned(),
        ];
        for body in &bodies {
            assert_eq!(
                parse(body.as_bytes()),
                through_value(body.as_bytes()),
                "{body}"
            );
        }
        assert!(parse(plain.as_bytes()).is_ok());
        let mut invalid_utf8 = field(r#""s": "XY""#).into_bytes();
        let at = invalid_utf8.iter().position(|&b| b == b'X').unwrap();
        invalid_utf8[at] = 0xff;
        assert_eq!(parse(&invalid_utf8), through_value(&invalid_utf8));
        assert!(parse(&invalid_utf8).is_err());
    }

    /// Whatever `decode` says to store is text jsonb accepts: never a `\u0000` escape, even
    /// when the body as sent held one the `Value` dropped (a duplicate key, first value NUL).
    #[test]
    fn what_decode_stores_never_holds_a_nul() {
        let plain = serde_json::to_string(&valid()).unwrap();
        let (_, stored) = decode(plain.as_bytes()).unwrap();
        assert_eq!(stored, None, "a plain body is stored as sent");
        let shadowed = plain.replacen('{', r#"{"queue": "\u0000","#, 1);
        let (event, stored) = decode(shadowed.as_bytes()).expect("the last queue wins");
        assert_eq!(event.queue, valid()["queue"].as_str().unwrap());
        let stored = stored.expect("re-encoded, not stored as sent");
        assert!(!stored.contains("\\u0000"), "{stored}");
        assert_eq!(
            serde_json::from_str::<Value>(&stored).unwrap(),
            serde_json::from_str::<Value>(&shadowed).unwrap()
        );
    }

    #[test]
    fn offsets_other_than_utc_are_kept_as_instants() {
        let v = with("ended_at", json!("2026-11-24T02:05:30Z"));
        let e = parse_value(&v).unwrap();
        assert_eq!(e.talk(), TimeDelta::seconds(300));
    }
}
