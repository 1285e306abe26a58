use std::num::NonZeroU32;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

fn n(v: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(v)
}

/// Tencent's documented default: 2 a natural day in Beijing time, same content once in 30 s.
fn tencent() -> Caps {
    Caps {
        per_natural_day: n(2),
        zone: chrono_tz::Asia::Shanghai,
        per_rolling_hour: None,
        per_rolling_day: None,
        same_content: Some(TimeDelta::seconds(30)),
    }
}

fn only_rolling(hour: u32, day: u32) -> Caps {
    Caps {
        per_rolling_hour: n(hour),
        per_rolling_day: n(day),
        ..Caps::OFF
    }
}

/// A UTC instant from "YYYY-MM-DD HH:MM:SS" read in `zone`.
fn at(zone: Tz, local: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_local_timezone(zone)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn sh(local: &str) -> DateTime<Utc> {
    at(chrono_tz::Asia::Shanghai, local)
}

/// A send made: when, and its content.
type Made = (DateTime<Utc>, &'static str);

fn sends(list: &[Made]) -> Vec<Send<'static>> {
    list.iter()
        .map(|&(at, content)| Send { at, content })
        .collect()
}

#[test]
fn natural_day_in_the_platforms_zone() {
    let caps = tencent();
    // (sends, candidate at, verdict)
    let table: Vec<(Vec<Made>, DateTime<Utc>, Verdict)> = vec![
        // Nothing sent yet: fits.
        (vec![], sh("2026-12-02 10:00:00"), Verdict::Fits),
        // One sent today: the second fits.
        (
            vec![(sh("2026-12-02 09:00:00"), "a")],
            sh("2026-12-02 10:00:00"),
            Verdict::Fits,
        ),
        // Two today: the third waits for Beijing midnight (16:00 UTC), not UTC midnight.
        (
            vec![
                (sh("2026-12-02 09:00:00"), "a"),
                (sh("2026-12-02 09:05:00"), "b"),
            ],
            sh("2026-12-02 10:00:00"),
            Verdict::NotBefore(sh("2026-12-03 00:00:00"), Cap::NaturalDay),
        ),
        // Two yesterday (one a second before midnight): today is empty.
        (
            vec![
                (sh("2026-12-01 09:00:00"), "a"),
                (sh("2026-12-01 23:59:59"), "b"),
            ],
            sh("2026-12-02 00:00:00"),
            Verdict::Fits,
        ),
        // At 23:59:59 with two that day: one second to wait.
        (
            vec![
                (sh("2026-12-02 00:00:00"), "a"),
                (sh("2026-12-02 12:00:00"), "b"),
            ],
            sh("2026-12-02 23:59:59"),
            Verdict::NotBefore(sh("2026-12-03 00:00:00"), Cap::NaturalDay),
        ),
        // One exactly at midnight belongs to the new day.
        (
            vec![
                (sh("2026-12-01 12:00:00"), "a"),
                (sh("2026-12-02 00:00:00"), "b"),
            ],
            sh("2026-12-02 08:00:00"),
            Verdict::Fits,
        ),
    ];
    for (i, (list, now, want)) in table.into_iter().enumerate() {
        assert_eq!(caps.check(&sends(&list), "c", now), want, "row {i}");
    }
}

#[test]
fn the_same_day_in_utc_is_two_days_in_shanghai() {
    // 15:00 and 17:00 UTC are 23:00 and 01:00 next day in Beijing.
    let caps = tencent();
    let list = sends(&[
        (Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap(), "a"),
        (Utc.with_ymd_and_hms(2026, 12, 2, 15, 30, 0).unwrap(), "b"),
    ]);
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 17, 0, 0).unwrap();
    assert_eq!(caps.check(&list, "c", now), Verdict::Fits);
}

#[test]
fn natural_day_is_zone_generic_across_dst() {
    let caps = Caps {
        per_natural_day: n(1),
        zone: chrono_tz::America::Santiago,
        ..Caps::OFF
    };
    // Chile skips 00:00–00:59 on 2026-09-06: that day starts at 01:00 local (04:00 UTC).
    let list = sends(&[(at(chrono_tz::America::Santiago, "2026-09-05 10:00:00"), "a")]);
    let now = at(chrono_tz::America::Santiago, "2026-09-05 11:00:00");
    assert_eq!(
        caps.check(&list, "b", now),
        Verdict::NotBefore(
            Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap(),
            Cap::NaturalDay
        )
    );
    // New York's fall-back day is 25 hours long; its midnight happens once.
    let caps = Caps {
        zone: chrono_tz::America::New_York,
        ..caps
    };
    let list = sends(&[(at(chrono_tz::America::New_York, "2026-11-01 00:30:00"), "a")]);
    let now = at(chrono_tz::America::New_York, "2026-11-01 23:30:00");
    assert_eq!(
        caps.check(&list, "b", now),
        Verdict::NotBefore(
            Utc.with_ymd_and_hms(2026, 11, 2, 5, 0, 0).unwrap(),
            Cap::NaturalDay
        )
    );
}

#[test]
fn rolling_windows_at_their_edges() {
    let t0 = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
    let s = |secs: i64| t0 + TimeDelta::seconds(secs);
    let table: Vec<(Caps, Vec<i64>, i64, Verdict)> = vec![
        // 2 an hour: sends at 0 and 600 s; at 3599 s the one at 0 still counts.
        (
            only_rolling(2, 0),
            vec![0, 600],
            3599,
            Verdict::NotBefore(s(3600), Cap::RollingHour),
        ),
        // Exactly an hour after the oldest: it has left the window.
        (only_rolling(2, 0), vec![0, 600], 3600, Verdict::Fits),
        // Three inside, limit two: two must leave, so the second oldest decides.
        (
            only_rolling(2, 0),
            vec![0, 100, 200],
            300,
            Verdict::NotBefore(s(3700), Cap::RollingHour),
        ),
        // Sends outside the window never count.
        (only_rolling(1, 0), vec![-3600, -7200], 0, Verdict::Fits),
        // 24 h: 3 a day, three sent over the night; the first leaves at +24 h.
        (
            only_rolling(0, 3),
            vec![0, 3600, 7200],
            80_000,
            Verdict::NotBefore(s(86_400), Cap::RollingDay),
        ),
        (
            only_rolling(0, 3),
            vec![0, 3600, 7200],
            86_400,
            Verdict::Fits,
        ),
        // Both: the hour's limit frees at 3610 s, the day's (the oldest leaving) later.
        (
            only_rolling(1, 2),
            vec![0, 10],
            20,
            Verdict::NotBefore(s(86_400), Cap::RollingDay),
        ),
    ];
    for (i, (caps, offsets, now, want)) in table.into_iter().enumerate() {
        let list: Vec<Send> = offsets
            .iter()
            .map(|&o| Send {
                at: s(o),
                content: "x",
            })
            .collect();
        assert_eq!(caps.check(&list, "y", s(now)), want, "row {i}");
    }
}

#[test]
fn same_content_once_per_window() {
    let caps = Caps {
        same_content: Some(TimeDelta::seconds(30)),
        ..Caps::OFF
    };
    let t0 = sh("2026-12-02 10:00:00");
    let s = |secs: i64| t0 + TimeDelta::seconds(secs);
    let list = sends(&[(s(0), "help"), (s(5), "other")]);
    // Other content is free; the same content waits 30 s from its last send.
    assert_eq!(caps.check(&list, "new", s(1)), Verdict::Fits);
    assert_eq!(
        caps.check(&list, "help", s(29)),
        Verdict::NotBefore(s(30), Cap::SameContent)
    );
    assert_eq!(caps.check(&list, "help", s(30)), Verdict::Fits);
    // The latest identical send decides.
    let list = sends(&[(s(0), "help"), (s(20), "help")]);
    assert_eq!(
        caps.check(&list, "help", s(25)),
        Verdict::NotBefore(s(50), Cap::SameContent)
    );
}

#[test]
fn the_latest_cap_decides_and_names_itself() {
    let caps = tencent();
    let list = sends(&[
        (sh("2026-12-02 23:59:50"), "a"),
        (sh("2026-12-02 23:59:55"), "a"),
    ]);
    // The same content: 30 s after 23:59:55 is after midnight, so that rule decides.
    assert_eq!(
        caps.check(&list, "a", sh("2026-12-02 23:59:56")),
        Verdict::NotBefore(sh("2026-12-03 00:00:25"), Cap::SameContent)
    );
    assert_eq!(
        caps.check(&list, "b", sh("2026-12-02 23:59:56")),
        Verdict::NotBefore(sh("2026-12-03 00:00:00"), Cap::NaturalDay)
    );
}

#[test]
fn no_caps_always_fit() {
    let now = sh("2026-12-02 10:00:00");
    let list = sends(&[(now, "a"), (now, "a"), (now, "a")]);
    assert!(Caps::OFF.is_off());
    assert_eq!(Caps::OFF.check(&list, "a", now), Verdict::Fits);
    assert_eq!(Caps::OFF.horizon(now), now);
}

#[test]
fn horizon_reaches_back_to_the_oldest_send_that_matters() {
    let now = sh("2026-12-02 10:00:00");
    assert_eq!(tencent().horizon(now), sh("2026-12-02 00:00:00"));
    // Just after midnight the 30-s window reaches into yesterday.
    let early = sh("2026-12-02 00:00:10");
    assert_eq!(tencent().horizon(early), early - TimeDelta::seconds(30));
    assert_eq!(only_rolling(1, 5).horizon(now), now - TimeDelta::hours(24));
}
