//! The call.completed decoder (`domain::event::parse`, what ingest runs on every delivery):
//! never a panic; a valid event decodes; a mutated one decodes into an event that obeys the
//! contract or is refused with a reason for the dead-letter header; what is certainly poison
//! is refused. An accepted event also goes through eligibility, which does time arithmetic
//! on its fields.

use chrono::{NaiveTime, TimeDelta, Utc};
use postcall::domain::{
    eligibility::{self, History, Policy},
    event::{self, CallCompleted, Disposition},
    quiet_hours::QuietHours,
};
use proptest::prelude::*;

use super::mutate::{Mutation, any_json, config, mutation, valid_event};

/// The contract's rules (DESIGN.md §1) that the decoded event must hold.
fn obeys_contract(event: &CallCompleted) {
    let chars = |s: &str| s.chars().count();
    assert!(
        (1..=128).contains(&chars(&event.call_id)),
        "call_id {:?}",
        event.call_id
    );
    assert!((1..=64).contains(&chars(&event.agent_id)));
    assert!((1..=64).contains(&chars(&event.queue)));
    assert!(event.started_at <= event.ended_at);
    if let Some(answered) = event.answered_at {
        assert!(event.started_at <= answered && answered <= event.ended_at);
    }
    assert!(event.talk() >= TimeDelta::zero());
    let _ = eligibility::decide(event, &history(event), &policy(), Utc::now());
}

fn policy() -> Policy {
    Policy {
        dispositions: vec![Disposition::Completed],
        min_talk: TimeDelta::seconds(20),
        sample_rate: 0.5,
        frequency_cap: TimeDelta::days(7),
        stale_after: TimeDelta::hours(24),
        delay: TimeDelta::minutes(5),
        quiet_hours: Some(QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).expect("a time"),
            end: NaiveTime::from_hms_opt(9, 0, 0).expect("a time"),
        }),
        default_timezone: chrono_tz::Asia::Shanghai,
    }
}

fn history(event: &CallCompleted) -> History {
    History {
        last_survey_at: Some(event.ended_at.to_utc() - TimeDelta::days(3)),
        ..History::default()
    }
}

/// Decodes, and checks whichever way it went.
fn decode(body: &[u8]) -> Option<CallCompleted> {
    match event::parse(body) {
        Ok(event) => {
            obeys_contract(&event);
            Some(event)
        }
        Err(reason) => {
            assert!(!reason.0.trim().is_empty(), "an empty reason");
            None
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn a_valid_event_decodes(event in valid_event()) {
        let decoded = decode(&serde_json::to_vec(&event).unwrap());
        prop_assert!(decoded.is_some(), "refused {event}: {:?}", event::parse(&serde_json::to_vec(&event).unwrap()));
        let decoded = decoded.unwrap();
        prop_assert_eq!(decoded.call_id.as_str(), event["call_id"].as_str().unwrap());
    }
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn a_mutated_event_decodes_within_the_contract_or_is_poison(
        event in valid_event(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let must_fail = mutations.iter().any(Mutation::must_fail);
        // Each mutation applies to the body as the previous one left it, while it is JSON.
        let mut body = serde_json::to_vec(&event).unwrap();
        for m in &mutations {
            body = match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) if v.is_object() => m.apply(v),
                _ => body,
            };
        }
        let decoded = decode(&body);
        // A later mutation can repair an earlier one (a dropped field replaced), so only a
        // single certain mutation is held to failing.
        if must_fail && mutations.len() == 1 {
            prop_assert!(decoded.is_none(), "{:?} accepted: {}", mutations, String::from_utf8_lossy(&body));
        }
    }

}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        decode(&serde_json::to_vec(&value).unwrap());
    }
}
