//! The call.completed decoder on any bytes: no panic; an accepted event obeys the contract
//! (DESIGN.md §1) and survives eligibility, which does time arithmetic on its fields; a
//! refused one has a reason for the dead-letter header.
#![no_main]

use chrono::{NaiveTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use postcall::domain::{
    eligibility::{self, History, Policy},
    event::{self, Disposition},
    quiet_hours::QuietHours,
};

fuzz_target!(|body: &[u8]| {
    let event = match event::parse(body) {
        Ok(event) => event,
        Err(reason) => {
            assert!(!reason.0.is_empty());
            return;
        }
    };
    let chars = |s: &str| s.chars().count();
    assert!((1..=128).contains(&chars(&event.call_id)));
    assert!((1..=64).contains(&chars(&event.agent_id)));
    assert!((1..=64).contains(&chars(&event.queue)));
    assert!(event.started_at <= event.ended_at);
    let _ = (event.wait(), event.talk());
    let policy = Policy {
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
        default_timezone: chrono_tz::Asia::Shanghai,
    };
    let history = History {
        last_survey_at: Some(event.ended_at.to_utc()),
        ..History::default()
    };
    let _ = eligibility::decide(&event, &history, &policy, Utc::now());
});
