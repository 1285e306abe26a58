//! Who gets a survey, and when (DESIGN.md §2). Decided once, at ingest, with a reason an
//! operator can read back.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::event::{CallCompleted, Disposition};
use super::quiet_hours::QuietHours;
use super::timezone::customer_zones;

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub dispositions: Vec<Disposition>,
    pub min_talk: TimeDelta,
    /// 0.0..=1.0
    pub sample_rate: f64,
    /// Zero: no cap.
    pub frequency_cap: TimeDelta,
    pub stale_after: TimeDelta,
    pub delay: TimeDelta,
    /// `None`: quiet hours disabled.
    pub quiet_hours: Option<QuietHours>,
    pub default_timezone: Tz,
}

/// What is known about the customer's phone when the event arrives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub opted_out: bool,
    /// The phone already has a scheduled, sending or open survey.
    pub open_survey: bool,
    /// The phone's survey nearest in time, past or still scheduled.
    pub last_survey_at: Option<DateTime<Utc>>,
}

/// Why a call got a survey or not; stored, so the strings are a contract (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Scheduled,
    Disposition,
    TooShort,
    NotSampled,
    FrequencyCap,
    OptedOut,
    Stale,
    /// The call already has a decision. Never returned by [`decide`], which sees one event
    /// alone; the I/O layer records it for a `call_id` it already knows.
    Duplicate,
    InvalidPhone,
    OpenSurvey,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::Scheduled,
        Reason::Disposition,
        Reason::TooShort,
        Reason::NotSampled,
        Reason::FrequencyCap,
        Reason::OptedOut,
        Reason::Stale,
        Reason::Duplicate,
        Reason::InvalidPhone,
        Reason::OpenSurvey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Scheduled => "scheduled",
            Reason::Disposition => "disposition",
            Reason::TooShort => "too_short",
            Reason::NotSampled => "not_sampled",
            Reason::FrequencyCap => "frequency_cap",
            Reason::OptedOut => "opted_out",
            Reason::Stale => "stale",
            Reason::Duplicate => "duplicate",
            Reason::InvalidPhone => "invalid_phone",
            Reason::OpenSurvey => "open_survey",
        }
    }
}

impl std::str::FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown eligibility reason `{s}`"))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send at `send_at`; `timezone` is the customer's (first) zone, for the record.
    Schedule {
        send_at: DateTime<Utc>,
        timezone: Tz,
    },
    Skip(Reason),
}

impl Decision {
    pub fn reason(&self) -> Reason {
        match self {
            Decision::Schedule { .. } => Reason::Scheduled,
            Decision::Skip(reason) => *reason,
        }
    }
}

/// 2^64, exactly.
const HASH_RANGE: f64 = 18_446_744_073_709_551_616.0;

/// Is this call in the sample? Stable across processes, versions and replays: the first
/// 8 bytes of SHA-256(`call_id`) as a big-endian u64, divided by 2^64, `< rate`.
/// Rate 1.0 always samples, 0.0 never.
pub fn sampled(call_id: &str, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate.is_nan() || rate <= 0.0 {
        return false;
    }
    // h / 2^64 < rate ⇔ h < rate·2^64, which f64 holds exactly; for a whole h, `< x` is
    // `< ceil(x)`. Dividing h in f64 instead would round some h to 1.0 and others across
    // the boundary.
    hash_prefix(call_id) < (rate * HASH_RANGE).ceil() as u64
}

fn hash_prefix(call_id: &str) -> u64 {
    let digest = Sha256::digest(call_id.as_bytes());
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(prefix)
}

/// Decides whether and when a call gets a survey. The first rule that applies wins:
///
/// 1. `stale`: ended more than `stale_after` before `now` (exactly `stale_after` is fresh).
/// 2. `invalid_phone`: the number cannot receive an SMS (landline, unassigned).
/// 3. `disposition`: the call ended in a way the policy does not survey.
/// 4. `too_short`: talk time below `min_talk` (never answered: zero).
/// 5. `opted_out`: the phone opted out.
/// 6. `not_sampled`: outside the stable hash sample of `call_id`.
/// 7. `open_survey`: the phone already has a survey scheduled, being sent or open.
/// 8. The send time: `max(ended_at + delay, now)`, moved out of quiet hours in every zone
///    the customer may be in.
/// 9. `frequency_cap`: another survey of the phone lies less than `frequency_cap` from that
///    send time, before or after (exactly the cap apart is allowed).
/// 10. Otherwise scheduled.
///
/// The cheap, certain facts about the call come first so that the recorded reason is the
/// most fundamental one; the phone's history comes after, as it changes over time.
pub fn decide(
    event: &CallCompleted,
    history: &History,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Decision {
    if let Some(reason) = first_obstacle(event, history, policy, now) {
        return Decision::Skip(reason);
    }
    let (send_at, timezone) = send_time(event, policy, now);
    if within_cap(history.last_survey_at, send_at, policy.frequency_cap) {
        return Decision::Skip(Reason::FrequencyCap);
    }
    Decision::Schedule { send_at, timezone }
}

/// Rules 1–7 of [`decide`], in order.
fn first_obstacle(
    event: &CallCompleted,
    history: &History,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Option<Reason> {
    let rules = [
        (
            now - event.ended_at.to_utc() > policy.stale_after,
            Reason::Stale,
        ),
        (
            !event.customer_phone.can_receive_sms(),
            Reason::InvalidPhone,
        ),
        (
            !policy.dispositions.contains(&event.disposition),
            Reason::Disposition,
        ),
        (event.talk() < policy.min_talk, Reason::TooShort),
        (history.opted_out, Reason::OptedOut),
        (
            !sampled(&event.call_id, policy.sample_rate),
            Reason::NotSampled,
        ),
        (history.open_survey, Reason::OpenSurvey),
    ];
    rules
        .into_iter()
        .find_map(|(applies, reason)| applies.then_some(reason))
}

fn send_time(event: &CallCompleted, policy: &Policy, now: DateTime<Utc>) -> (DateTime<Utc>, Tz) {
    // An event processed late is sent as soon as allowed, not in the past.
    let base = (event.ended_at.to_utc() + policy.delay).max(now);
    let zones = customer_zones(
        event.customer_timezone,
        &event.customer_phone,
        policy.default_timezone,
    );
    let send_at = policy
        .quiet_hours
        .map_or(base, |qh| qh.next_allowed(base, &zones));
    (send_at, zones[0])
}

/// A scheduled survey counts as much as a sent one: two calls in a row must not both get one.
fn within_cap(last: Option<DateTime<Utc>>, send_at: DateTime<Utc>, cap: TimeDelta) -> bool {
    cap > TimeDelta::zero() && last.is_some_and(|l| (send_at - l).abs() < cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::parse;
    use chrono::NaiveTime;
    use chrono_tz::{America, Asia};
    use serde_json::{Value, json};

    const NOW: &str = "2026-11-24T10:01:00+08:00";

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn policy() -> Policy {
        Policy {
            dispositions: vec![Disposition::Completed],
            min_talk: TimeDelta::seconds(20),
            sample_rate: 1.0,
            frequency_cap: TimeDelta::days(7),
            stale_after: TimeDelta::hours(24),
            delay: TimeDelta::minutes(5),
            quiet_hours: Some(QuietHours {
                start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            }),
            default_timezone: Asia::Shanghai,
        }
    }

    /// A completed 5-minute call by a Shanghai mobile, ended 10:00 Beijing Time.
    fn wire() -> Value {
        json!({
            "call_id": "call-0001",
            "customer_phone": "+8613800138000",
            "agent_id": "agent-7",
            "queue": "payment",
            "started_at": "2026-11-24T09:54:30+08:00",
            "answered_at": "2026-11-24T09:55:00+08:00",
            "ended_at": "2026-11-24T10:00:00+08:00",
            "disposition": "completed"
        })
    }

    fn event_from(v: &Value) -> CallCompleted {
        parse(&serde_json::to_vec(v).unwrap()).unwrap()
    }

    fn event_with(edits: &[(&str, Value)]) -> CallCompleted {
        let mut v = wire();
        for (field, value) in edits {
            v[*field] = value.clone();
        }
        event_from(&v)
    }

    fn event() -> CallCompleted {
        event_from(&wire())
    }

    /// An event that ended at `ended` after `talk_secs` seconds of talk.
    fn ended(ended: &str, talk_secs: i64) -> CallCompleted {
        let end = DateTime::parse_from_rfc3339(ended).unwrap();
        let answered = end - TimeDelta::seconds(talk_secs);
        let started = answered - TimeDelta::seconds(30);
        event_with(&[
            ("started_at", json!(started.to_rfc3339())),
            ("answered_at", json!(answered.to_rfc3339())),
            ("ended_at", json!(ended)),
        ])
    }

    fn decide_now(
        event: &CallCompleted,
        history: &History,
        policy: &Policy,
        now: &str,
    ) -> Decision {
        decide(event, history, policy, utc(now))
    }

    fn scheduled_at(at: &str, tz: Tz) -> Decision {
        Decision::Schedule {
            send_at: utc(at),
            timezone: tz,
        }
    }

    #[test]
    fn reasons_round_trip_through_their_strings() {
        for reason in Reason::ALL {
            assert_eq!(reason.as_str().parse::<Reason>(), Ok(reason));
            assert_eq!(reason.to_string(), reason.as_str());
        }
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
        assert!("Scheduled".parse::<Reason>().is_err());
        assert_eq!(Decision::Skip(Reason::Stale).reason(), Reason::Stale);
        assert_eq!(
            scheduled_at(NOW, Asia::Shanghai).reason(),
            Reason::Scheduled
        );
    }

    #[test]
    fn a_plain_call_is_scheduled_after_the_delay() {
        let d = decide_now(&event(), &History::default(), &policy(), NOW);
        assert_eq!(d, scheduled_at("2026-11-24T10:05:00+08:00", Asia::Shanghai));
    }

    #[test]
    fn a_late_event_is_sent_now() {
        let now = "2026-11-24T15:00:00+08:00";
        let d = decide_now(&event(), &History::default(), &policy(), now);
        assert_eq!(d, scheduled_at(now, Asia::Shanghai));
    }

    #[test]
    fn a_delay_into_quiet_hours_waits_for_morning() {
        let e = ended("2026-11-24T20:57:00+08:00", 60);
        let d = decide_now(
            &e,
            &History::default(),
            &policy(),
            "2026-11-24T20:58:00+08:00",
        );
        assert_eq!(d, scheduled_at("2026-11-25T09:00:00+08:00", Asia::Shanghai));
    }

    #[test]
    fn quiet_hours_can_be_disabled() {
        let e = ended("2026-11-24T23:00:00+08:00", 60);
        let p = Policy {
            quiet_hours: None,
            ..policy()
        };
        let d = decide_now(&e, &History::default(), &p, "2026-11-24T23:01:00+08:00");
        assert_eq!(d, scheduled_at("2026-11-24T23:05:00+08:00", Asia::Shanghai));
    }

    #[test]
    fn a_chinese_number_uses_shanghai_unless_the_event_names_a_zone() {
        // 23:00 Beijing is 10:00 in New York (EST).
        let e = ended("2026-11-24T22:55:00+08:00", 60);
        let now = "2026-11-24T22:56:00+08:00";
        let d = decide_now(&e, &History::default(), &policy(), now);
        assert_eq!(d, scheduled_at("2026-11-25T09:00:00+08:00", Asia::Shanghai));

        let mut in_ny = e.clone();
        in_ny.customer_timezone = Some(America::New_York);
        let d = decide_now(&in_ny, &History::default(), &policy(), now);
        assert_eq!(
            d,
            scheduled_at("2026-11-24T23:00:00+08:00", America::New_York)
        );

        // And the reverse: 10:05 Beijing is 21:05 in New York.
        let mut in_ny = event();
        in_ny.customer_timezone = Some(America::New_York);
        let d = decide_now(&in_ny, &History::default(), &policy(), NOW);
        assert_eq!(
            d,
            scheduled_at("2026-11-24T09:00:00-05:00", America::New_York)
        );
        let d = decide_now(&event(), &History::default(), &policy(), NOW);
        assert_eq!(d, scheduled_at("2026-11-24T10:05:00+08:00", Asia::Shanghai));
    }

    #[test]
    fn a_us_number_waits_until_every_us_zone_is_awake() {
        let us = event_with(&[("customer_phone", json!("+14155550123"))]);
        let zones = customer_zones(None, &us.customer_phone, Asia::Shanghai);
        let qh = policy().quiet_hours.unwrap();
        let start = utc("2026-07-01T00:00:00Z");
        for step in 0..(2 * 24 * 4) {
            let base = start + TimeDelta::minutes(15 * step + 3);
            let send_at = qh.next_allowed(base, &zones);
            for tz in &zones {
                let local = send_at.with_timezone(tz).time();
                assert!(!qh.contains(local), "{base}: {send_at} is {local} in {tz}");
            }
            // The earliest such instant: a second before, some zone was still quiet.
            let before = send_at - TimeDelta::seconds(1);
            let some_quiet = zones
                .iter()
                .any(|tz| qh.contains(before.with_timezone(tz).time()));
            assert!(send_at == base || some_quiet, "{base}: {send_at}");
        }
        // Sent 10:05 Beijing = 21:05 in New York: Hawaii (UTC−10) wakes last, 09:00 HST.
        let d = decide_now(&us, &History::default(), &policy(), NOW);
        assert_eq!(
            d,
            scheduled_at("2026-11-24T09:00:00-10:00", America::New_York)
        );
    }

    #[test]
    fn stale_is_strictly_more_than_stale_after() {
        let h = History::default();
        let d = decide_now(&event(), &h, &policy(), "2026-11-25T10:00:00+08:00");
        assert_eq!(d, scheduled_at("2026-11-25T10:00:00+08:00", Asia::Shanghai));
        let d = decide_now(&event(), &h, &policy(), "2026-11-25T10:00:01+08:00");
        assert_eq!(d, Decision::Skip(Reason::Stale));
    }

    #[test]
    fn min_talk_edges() {
        let h = History::default();
        let d = decide_now(&ended("2026-11-24T10:00:00+08:00", 19), &h, &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::TooShort));
        let d = decide_now(&ended("2026-11-24T10:00:00+08:00", 20), &h, &policy(), NOW);
        assert_eq!(d.reason(), Reason::Scheduled);
        let unanswered = event_with(&[("answered_at", Value::Null)]);
        let d = decide_now(&unanswered, &h, &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::TooShort));
    }

    #[test]
    fn dispositions_outside_the_policy_are_skipped() {
        let abandoned = event_with(&[("disposition", json!("abandoned"))]);
        let d = decide_now(&abandoned, &History::default(), &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::Disposition));
        let p = Policy {
            dispositions: vec![Disposition::Completed, Disposition::Abandoned],
            ..policy()
        };
        let d = decide_now(&abandoned, &History::default(), &p, NOW);
        assert_eq!(d.reason(), Reason::Scheduled);
    }

    #[test]
    fn history_reasons() {
        let opted_out = History {
            opted_out: true,
            ..History::default()
        };
        let d = decide_now(&event(), &opted_out, &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::OptedOut));
        let open = History {
            open_survey: true,
            ..History::default()
        };
        let d = decide_now(&event(), &open, &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::OpenSurvey));
    }

    #[test]
    fn a_landline_is_an_invalid_phone() {
        let landline = event_with(&[("customer_phone", json!("+861065529988"))]);
        let d = decide_now(&landline, &History::default(), &policy(), NOW);
        assert_eq!(d, Decision::Skip(Reason::InvalidPhone));
    }

    #[test]
    fn the_first_rule_that_applies_wins() {
        let everything = History {
            opted_out: true,
            open_survey: true,
            last_survey_at: Some(utc(NOW)),
        };
        let bad = event_with(&[
            ("customer_phone", json!("+861065529988")),
            ("disposition", json!("abandoned")),
            ("answered_at", Value::Null),
        ]);
        let never = Policy {
            sample_rate: 0.0,
            ..policy()
        };
        let stale_now = "2026-11-26T00:00:00+08:00";
        let cases = [
            (bad.clone(), stale_now, Reason::Stale),
            (bad, NOW, Reason::InvalidPhone),
            (
                event_with(&[
                    ("disposition", json!("abandoned")),
                    ("answered_at", Value::Null),
                ]),
                NOW,
                Reason::Disposition,
            ),
            (
                event_with(&[("answered_at", Value::Null)]),
                NOW,
                Reason::TooShort,
            ),
            (event(), NOW, Reason::OptedOut),
        ];
        for (e, now, expected) in cases {
            assert_eq!(
                decide_now(&e, &everything, &never, now).reason(),
                expected,
                "{expected:?}"
            );
        }
        let not_opted = History {
            opted_out: false,
            ..everything.clone()
        };
        assert_eq!(
            decide_now(&event(), &not_opted, &never, NOW).reason(),
            Reason::NotSampled
        );
        let sampled_in = decide_now(&event(), &not_opted, &policy(), NOW);
        assert_eq!(sampled_in.reason(), Reason::OpenSurvey);
        let only_cap = History {
            open_survey: false,
            ..not_opted
        };
        let capped = decide_now(&event(), &only_cap, &policy(), NOW);
        assert_eq!(capped.reason(), Reason::FrequencyCap);
    }

    #[test]
    fn frequency_cap_edges() {
        let send_at = utc("2026-11-24T10:05:00+08:00");
        let last = |at: DateTime<Utc>| History {
            last_survey_at: Some(at),
            ..History::default()
        };
        let decide_after = |h: &History, p: &Policy| decide_now(&event(), h, p, NOW).reason();
        let week = TimeDelta::days(7);
        let second = TimeDelta::seconds(1);
        assert_eq!(
            decide_after(&last(send_at - week), &policy()),
            Reason::Scheduled
        );
        assert_eq!(
            decide_after(&last(send_at - week + second), &policy()),
            Reason::FrequencyCap
        );
        assert_eq!(
            decide_after(&last(send_at + TimeDelta::days(3)), &policy()),
            Reason::FrequencyCap
        );
        assert_eq!(
            decide_after(&last(send_at + week), &policy()),
            Reason::Scheduled
        );
        let uncapped = Policy {
            frequency_cap: TimeDelta::zero(),
            ..policy()
        };
        assert_eq!(decide_after(&last(send_at), &uncapped), Reason::Scheduled);
    }

    #[test]
    fn the_cap_is_measured_from_the_deferred_send_time() {
        // Ends 22:00: sent 09:00 next morning, so a survey sent 7 days before that morning
        // (but less than 7 days before the call) no longer blocks it.
        let e = ended("2026-11-24T22:00:00+08:00", 60);
        let h = History {
            last_survey_at: Some(utc("2026-11-18T09:00:00+08:00")),
            ..History::default()
        };
        let d = decide_now(&e, &h, &policy(), "2026-11-24T22:01:00+08:00");
        assert_eq!(d, scheduled_at("2026-11-25T09:00:00+08:00", Asia::Shanghai));
    }

    #[test]
    fn sample_rate_extremes() {
        for i in 0..1000 {
            let id = format!("call-{i}");
            assert!(sampled(&id, 1.0));
            assert!(!sampled(&id, 0.0));
            assert!(!sampled(&id, f64::NAN));
        }
        let never = Policy {
            sample_rate: 0.0,
            ..policy()
        };
        let d = decide_now(&event(), &History::default(), &never, NOW);
        assert_eq!(d, Decision::Skip(Reason::NotSampled));
    }

    #[test]
    fn half_the_calls_are_sampled_at_one_half() {
        let n = (0..10_000)
            .filter(|i| sampled(&format!("call-{i}"), 0.5))
            .count();
        assert!((4_500..=5_500).contains(&n), "{n}");
    }

    #[test]
    fn the_same_call_always_decides_the_same() {
        let p = Policy {
            sample_rate: 0.3,
            ..policy()
        };
        for i in 0..200 {
            let e = event_with(&[("call_id", json!(format!("replay-{i}")))]);
            let first = decide_now(&e, &History::default(), &p, NOW);
            assert_eq!(decide_now(&e, &History::default(), &p, NOW), first);
            assert_eq!(sampled(&e.call_id, 0.3), sampled(&e.call_id, 0.3));
        }
    }

    #[test]
    fn the_sampling_hash_is_pinned() {
        // SHA-256("call-0001") begins bc2f304246a47eb2; a change of hash would re-draw
        // every sample.
        let h = hash_prefix("call-0001");
        assert_eq!(h, PINNED_PREFIX);
        let fraction = h as f64 / HASH_RANGE;
        assert!((fraction - PINNED_FRACTION).abs() < 1e-12, "{fraction}");
        assert!(sampled("call-0001", PINNED_FRACTION + 1e-9));
        assert!(!sampled("call-0001", PINNED_FRACTION - 1e-9));
    }

    const PINNED_PREFIX: u64 = 0xbc2f_3042_46a4_7eb2;
    const PINNED_FRACTION: f64 = 0.735_095_039_539_958_3;
}
