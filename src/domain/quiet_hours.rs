//! Quiet hours: the local wall-clock window in which no SMS may reach a customer
//! (DESIGN.md §2, default 21:00–09:00).

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// A daily window `[start, end)` of local time; `start > end` crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Allowed windows recur daily, so a window common to all zones, if there is one, opens
/// within a day of any instant (plus an hour of DST slack). Searching further would only
/// find a window opened by some later DST change, days late.
const SEARCH_HORIZON: TimeDelta = TimeDelta::hours(26);

/// UTC offsets lie within −12 h … +14 h, so the instant a local time happens lies within
/// this distance of that local time read as UTC.
const MAX_OFFSET: TimeDelta = TimeDelta::hours(15);

impl QuietHours {
    /// Is this local wall-clock time inside the quiet window? Window is `[start, end)` and
    /// may cross midnight (start > end, the default 21:00–09:00). `start == end` means no
    /// quiet time at all.
    pub fn contains(&self, local: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// Earliest instant `>= t` that is outside quiet hours in every zone of `zones`; `t`
    /// itself if already allowed.
    ///
    /// A deferred send lands on the first allowed instant: the local `end` of the right
    /// date; the first instant after a DST gap if `end` falls in it; the earlier of the two
    /// if `end` happens twice in a DST fold (the later one if the earlier is already past).
    /// If the zones' allowed windows share no instant (e.g. a narrow window across a
    /// country spanning many hours), the first zone alone decides. The result is never
    /// inside quiet hours of `zones[0]`. An empty `zones` has no quiet hours: `t`.
    pub fn next_allowed(&self, t: DateTime<Utc>, zones: &[Tz]) -> DateTime<Utc> {
        let Some(&first) = zones.first() else {
            return t;
        };
        self.settle(t, zones)
            .or_else(|| self.settle(t, &[first]))
            .unwrap_or_else(|| self.end_of_spell(t, first))
    }

    /// Pushes `t` past the quiet spell of whichever zone is quiet until none is: every
    /// instant skipped is quiet somewhere, so the fixed point is the earliest common
    /// allowed instant. `None` when there is none within the horizon.
    fn settle(&self, t: DateTime<Utc>, zones: &[Tz]) -> Option<DateTime<Utc>> {
        let limit = t + SEARCH_HORIZON;
        let mut at = t;
        // Each push lands on a zone's `end`, which happens about once a day per zone; the
        // bound only guards against tz data stranger than any seen.
        for _ in 0..=4 * zones.len() + 8 {
            match zones.iter().find(|&&tz| self.quiet_at(at, tz)) {
                None => return Some(at),
                Some(&tz) => at = self.end_of_spell(at, tz),
            }
            if at > limit {
                return None;
            }
        }
        None
    }

    fn quiet_at(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        self.contains(at.with_timezone(&tz).time())
    }

    /// The instant the quiet spell containing `at` ends in `tz`.
    fn end_of_spell(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&tz).naive_local();
        let crosses_midnight = self.start > self.end;
        let date = if crosses_midnight && local.time() >= self.start {
            local.date() + Days::new(1)
        } else {
            local.date()
        };
        first_instant_after(tz, date.and_time(self.end), at)
    }
}

/// The first instant later than `after` whose local time in `tz` is `local`, or at which
/// a DST gap swallowing `local` ends.
fn first_instant_after(tz: Tz, local: NaiveDateTime, after: DateTime<Utc>) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        // In a fold the clock shows `local` twice; the first showing may be the one the
        // customer has just lived through, still inside the same quiet spell.
        LocalResult::Ambiguous(early, late) => {
            let early = early.with_timezone(&Utc);
            if early > after {
                early
            } else {
                late.with_timezone(&Utc)
            }
        }
        LocalResult::None => gap_end(tz, local),
    }
}

/// The instant a DST gap containing `local` ends. chrono reports no transitions, so bisect
/// whole seconds (transitions fall on them) for the first whose local time reaches `local`:
/// local time only rises within `MAX_OFFSET` of a gap.
fn gap_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).expect("within chrono's range");
    let reaches = |secs: i64| at(secs).with_timezone(&tz).naive_local() >= local;
    let mut before = local.and_utc().timestamp() - MAX_OFFSET.num_seconds();
    let mut reached = local.and_utc().timestamp() + MAX_OFFSET.num_seconds();
    while reached - before > 1 {
        let mid = before + (reached - before) / 2;
        if reaches(mid) {
            reached = mid;
        } else {
            before = mid;
        }
    }
    at(reached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn window(start: (u32, u32), end: (u32, u32)) -> QuietHours {
        QuietHours {
            start: hm(start.0, start.1),
            end: hm(end.0, end.1),
        }
    }

    fn default_window() -> QuietHours {
        window((21, 0), (9, 0))
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// `next_allowed` in one zone, given and answered as RFC 3339 with offsets.
    fn next_in(qh: QuietHours, tz: Tz, local: &str) -> DateTime<Utc> {
        qh.next_allowed(utc(local), &[tz])
    }

    #[test]
    fn shanghai_default_window_edges() {
        let qh = default_window();
        let cases = [
            ("2026-11-24T20:59:00+08:00", "2026-11-24T20:59:00+08:00"),
            ("2026-11-24T21:00:00+08:00", "2026-11-25T09:00:00+08:00"),
            ("2026-11-24T08:59:00+08:00", "2026-11-24T09:00:00+08:00"),
            ("2026-11-24T09:00:00+08:00", "2026-11-24T09:00:00+08:00"),
            ("2026-11-24T23:30:00+08:00", "2026-11-25T09:00:00+08:00"),
            ("2026-11-24T00:10:00+08:00", "2026-11-24T09:00:00+08:00"),
            ("2026-11-24T08:59:30+08:00", "2026-11-24T09:00:00+08:00"),
            ("2026-11-24T08:59:59.999+08:00", "2026-11-24T09:00:00+08:00"),
        ];
        for (at, expected) in cases {
            assert_eq!(next_in(qh, Asia::Shanghai, at), utc(expected), "{at}");
        }
    }

    #[test]
    fn a_window_within_one_day() {
        let qh = window((12, 0), (14, 0));
        assert!(!qh.contains(hm(11, 59)));
        assert!(qh.contains(hm(12, 0)));
        assert!(qh.contains(hm(13, 59)));
        assert!(!qh.contains(hm(14, 0)));
        assert!(!qh.contains(hm(0, 0)));
        assert_eq!(
            next_in(qh, Asia::Shanghai, "2026-11-24T12:30:00+08:00"),
            utc("2026-11-24T14:00:00+08:00")
        );
        assert_eq!(
            next_in(qh, Asia::Shanghai, "2026-11-24T23:30:00+08:00"),
            utc("2026-11-24T23:30:00+08:00")
        );
    }

    #[test]
    fn start_equal_to_end_is_never_quiet() {
        let qh = window((21, 0), (21, 0));
        for h in 0..24 {
            assert!(!qh.contains(hm(h, 0)) && !qh.contains(hm(h, 59)));
        }
        let t = utc("2026-11-24T21:00:00+08:00");
        assert_eq!(qh.next_allowed(t, &[Asia::Shanghai]), t);
    }

    #[test]
    fn new_york_spring_forward_night() {
        // 2026-03-08 02:00 EST → 03:00 EDT: 09:00 that morning is already EDT (13:00 UTC).
        let qh = default_window();
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-07T22:00:00-05:00"),
            utc("2026-03-08T13:00:00Z")
        );
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-08T01:59:00-05:00"),
            utc("2026-03-08T13:00:00Z")
        );
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-08T03:00:00-04:00"),
            utc("2026-03-08T13:00:00Z")
        );
    }

    #[test]
    fn new_york_fall_back_night() {
        // 2026-11-01 02:00 EDT → 01:00 EST: 09:00 that morning is EST (14:00 UTC).
        let qh = default_window();
        assert_eq!(
            next_in(qh, America::New_York, "2026-10-31T21:30:00-04:00"),
            utc("2026-11-01T14:00:00Z")
        );
        assert_eq!(
            next_in(qh, America::New_York, "2026-11-01T01:30:00-05:00"),
            utc("2026-11-01T14:00:00Z")
        );
    }

    #[test]
    fn an_end_inside_the_spring_gap_moves_to_the_gap_end() {
        // 02:30 does not exist on 2026-03-08 in New York; the first instant after the gap
        // is 03:00 EDT.
        let qh = window((21, 0), (2, 30));
        let expected = utc("2026-03-08T03:00:00-04:00");
        assert_eq!(expected, utc("2026-03-08T07:00:00Z"));
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-08T01:00:00-05:00"),
            expected
        );
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-07T23:00:00-05:00"),
            expected
        );
        // The day before, 02:30 exists.
        assert_eq!(
            next_in(qh, America::New_York, "2026-03-07T01:00:00-05:00"),
            utc("2026-03-07T02:30:00-05:00")
        );
    }

    #[test]
    fn an_end_inside_the_fall_fold_takes_the_earlier_unless_it_is_past() {
        // 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
        let qh = window((21, 0), (1, 30));
        assert_eq!(
            next_in(qh, America::New_York, "2026-11-01T00:00:00-04:00"),
            utc("2026-11-01T05:30:00Z")
        );
        assert_eq!(
            next_in(qh, America::New_York, "2026-11-01T01:40:00-04:00"),
            utc("2026-11-01T01:40:00-04:00")
        );
        // After the clocks go back, 01:00–01:30 EST is quiet again; the earlier 01:30 is past.
        assert_eq!(
            next_in(qh, America::New_York, "2026-11-01T01:00:00-05:00"),
            utc("2026-11-01T06:30:00Z")
        );
    }

    #[test]
    fn europe_last_sunday_of_march() {
        // 2026-03-29: Berlin 02:00 CET → 03:00 CEST, London 01:00 GMT → 02:00 BST.
        let qh = default_window();
        assert_eq!(
            next_in(qh, Europe::Berlin, "2026-03-28T22:00:00+01:00"),
            utc("2026-03-29T07:00:00Z")
        );
        assert_eq!(
            next_in(qh, Europe::London, "2026-03-28T22:00:00Z"),
            utc("2026-03-29T08:00:00Z")
        );
        let ends_in_gap = window((22, 0), (1, 30));
        assert_eq!(
            next_in(ends_in_gap, Europe::London, "2026-03-29T00:30:00Z"),
            utc("2026-03-29T01:00:00Z")
        );
        let ends_in_gap = window((22, 0), (2, 15));
        assert_eq!(
            next_in(ends_in_gap, Europe::Berlin, "2026-03-29T01:30:00+01:00"),
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn several_zones_wait_for_the_last_to_wake() {
        let qh = default_window();
        // 09:00 Shanghai is 20:00 in New York (EST): allowed in both.
        let zones = [Asia::Shanghai, America::New_York];
        assert_eq!(
            qh.next_allowed(utc("2026-11-24T22:00:00+08:00"), &zones),
            utc("2026-11-25T01:00:00Z")
        );
        // Allowed in Shanghai at 12:00 (04:00 UTC) but 23:00 in NY: the common window
        // (01:00–02:00 UTC in winter) comes round the next night.
        assert_eq!(
            qh.next_allowed(utc("2026-11-25T12:00:00+08:00"), &zones),
            utc("2026-11-26T01:00:00Z")
        );
    }

    #[test]
    fn zones_without_a_common_window_fall_back_to_the_first() {
        // In summer New York (UTC−4) allows 13:00–01:00 UTC and Shanghai 01:00–13:00 UTC.
        let qh = default_window();
        let t = utc("2026-07-01T22:00:00+08:00");
        let shanghai_first = qh.next_allowed(t, &[Asia::Shanghai, America::New_York]);
        assert_eq!(shanghai_first, utc("2026-07-02T09:00:00+08:00"));
        let new_york_first = qh.next_allowed(t, &[America::New_York, Asia::Shanghai]);
        assert_eq!(new_york_first, t, "10:00 in New York");
    }

    #[test]
    fn the_result_is_always_allowed_in_the_first_zone_and_never_earlier() {
        let qh = window((20, 0), (10, 0));
        let zones = [Europe::Kaliningrad, Asia::Kamchatka, America::New_York];
        let start = utc("2026-01-01T00:00:00Z");
        for step in 0..(2 * 24 * 4) {
            let t = start + TimeDelta::minutes(15 * step + 7);
            let at = qh.next_allowed(t, &zones);
            assert!(at >= t);
            assert!(!qh.quiet_at(at, zones[0]), "{t} → {at}");
        }
    }

    #[test]
    fn an_empty_zone_list_has_no_quiet_hours() {
        let t = utc("2026-11-24T23:00:00+08:00");
        assert_eq!(default_window().next_allowed(t, &[]), t);
    }
}
