//! The generated hour: reproducible, valid, and decided as the worker's rules decide.

use super::*;
use crate::{
    config::Settings,
    domain::{
        eligibility::{self, History},
        event,
    },
};

fn now() -> DateTime<Utc> {
    "2026-11-24T14:00:00Z".parse().unwrap()
}

#[test]
fn the_same_seed_gives_the_same_hour() {
    let a: Vec<Value> = generate(200, 7, now()).iter().map(Call::event).collect();
    let b: Vec<Value> = generate(200, 7, now()).iter().map(Call::event).collect();
    let c: Vec<Value> = generate(200, 8, now()).iter().map(Call::event).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn every_call_is_a_valid_event_that_ended_within_the_hour_in_order() {
    let calls = generate(500, 1, now());
    for pair in calls.windows(2) {
        assert!(pair[0].ended_at <= pair[1].ended_at);
    }
    for call in &calls {
        let parsed = event::from_json(&call.event()).expect("a valid event");
        assert_eq!(parsed.call_id, call.call_id);
        let ago = now() - call.ended_at.to_utc();
        assert!(
            ago > TimeDelta::zero() && ago <= TimeDelta::hours(1),
            "{ago}"
        );
    }
}

/// The generator's own idea of each decision is what the worker's rules decide.
#[test]
fn expected_decisions_are_what_eligibility_decides() {
    let mut settings = Settings::load_from(None, Some(Default::default())).unwrap();
    settings.eligibility.delay_seconds = 0;
    settings.eligibility.quiet_hours.enabled = false;
    let policy = settings.runtime().unwrap().policy;
    let mut histories: HashMap<String, History> = HashMap::new();
    for call in generate(800, 3, now()) {
        let parsed = event::from_json(&call.event()).unwrap();
        let history = histories.entry(call.phone.clone()).or_default();
        let decision = eligibility::decide(&parsed, history, &policy, now());
        if decision.reason() == eligibility::Reason::Scheduled {
            history.open_survey = true;
        }
        assert_eq!(
            Expect::bucket(decision.reason().as_str()),
            call.expect.label(),
            "{} ({})",
            call.call_id,
            crate::domain::phone::mask(&call.phone)
        );
    }
}

#[test]
fn the_mix_is_mostly_surveyable_with_some_of_everything() {
    let calls = generate(1000, 1, now());
    let count = |e: Expect| calls.iter().filter(|c| c.expect == e).count();
    assert!(
        count(Expect::Scheduled) > 800,
        "{}",
        count(Expect::Scheduled)
    );
    for rare in [
        Expect::Disposition,
        Expect::TooShort,
        Expect::InvalidPhone,
        Expect::Repeat,
    ] {
        assert!((5..80).contains(&count(rare)), "{rare:?}: {}", count(rare));
    }
    let agents: HashSet<&str> = calls.iter().map(|c| c.agent.id).collect();
    assert_eq!(agents.len(), AGENTS.len());
    assert!(calls.iter().any(|c| c.language == Some("en")));
}
