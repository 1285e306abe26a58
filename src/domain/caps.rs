//! Per-number caps as arithmetic (DESIGN.md §4, "Within what providers allow"): given the
//! caps a platform applies, the sends already made or in flight to one number and a
//! candidate send, does it fit now, and if not, from when?
//!
//! Windows are half-open: a send at `t` counts in a rolling window of length `w` while
//! `now < t + w`, so at exactly `t + w` it no longer does. A natural day is the platform's
//! local calendar day (Asia/Shanghai for the mainland platforms), from its local midnight.
//! Every send given is at or before `now`, so waiting only ever lets more fit: the earliest
//! instant that fits every cap is the latest of the instants each cap alone allows.

use std::num::NonZeroU32;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Sends per number per calendar day in `zone`.
    pub per_natural_day: Option<NonZeroU32>,
    pub zone: Tz,
    /// Sends per number in any hour.
    pub per_rolling_hour: Option<NonZeroU32>,
    /// Sends per number in any 24 hours.
    pub per_rolling_day: Option<NonZeroU32>,
    /// The same content to one number at most once in this long.
    pub same_content: Option<TimeDelta>,
}

/// Which cap a send would break; spelled as its config key's last part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    NaturalDay,
    RollingHour,
    RollingDay,
    SameContent,
}

impl Cap {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NaturalDay => "per_natural_day",
            Self::RollingHour => "per_rolling_hour",
            Self::RollingDay => "per_rolling_day",
            Self::SameContent => "same_content_seconds",
        }
    }
}

/// A send to the number, made or in flight: when, and its content (the text the customer
/// reads, which is what a platform compares).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Send<'a> {
    pub at: DateTime<Utc>,
    pub content: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fits,
    /// Not before this instant, held back by this cap (the last to allow it).
    NotBefore(DateTime<Utc>, Cap),
}

const HOUR: TimeDelta = TimeDelta::hours(1);
const DAY: TimeDelta = TimeDelta::hours(24);

impl Caps {
    /// No cap at all: the platform documents none and none is configured.
    pub const OFF: Self = Self {
        per_natural_day: None,
        zone: Tz::UTC,
        per_rolling_hour: None,
        per_rolling_day: None,
        same_content: None,
    };

    pub fn is_off(&self) -> bool {
        self.per_natural_day.is_none()
            && self.per_rolling_hour.is_none()
            && self.per_rolling_day.is_none()
            && self.same_content.is_none()
    }

    /// Sends before this instant can change no verdict at `now`: the reader need not load
    /// them.
    pub fn horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut from = now;
        if self.per_natural_day.is_some() {
            from = from.min(start_of_day(self.zone, self.local_date(now)));
        }
        if self.per_rolling_hour.is_some() {
            from = from.min(now - HOUR);
        }
        if self.per_rolling_day.is_some() {
            from = from.min(now - DAY);
        }
        if let Some(window) = self.same_content {
            from = from.min(now - window);
        }
        from
    }

    /// May a send with `content` go to the number at `now`, given its `sends`?
    pub fn check(&self, sends: &[Send<'_>], content: &str, now: DateTime<Utc>) -> Verdict {
        let limits = [
            self.per_natural_day.and_then(|n| {
                self.natural_day(sends, n, now)
                    .map(|t| (t, Cap::NaturalDay))
            }),
            self.per_rolling_hour
                .and_then(|n| rolling(sends.iter(), HOUR, n, now).map(|t| (t, Cap::RollingHour))),
            self.per_rolling_day
                .and_then(|n| rolling(sends.iter(), DAY, n, now).map(|t| (t, Cap::RollingDay))),
            self.same_content.and_then(|window| {
                let same = sends.iter().filter(|s| s.content == content);
                rolling(same, window, NonZeroU32::MIN, now).map(|t| (t, Cap::SameContent))
            }),
        ];
        match limits.into_iter().flatten().max_by_key(|(t, _)| *t) {
            Some((at, cap)) => Verdict::NotBefore(at, cap),
            None => Verdict::Fits,
        }
    }

    /// The next local midnight, if today already holds `limit` sends.
    fn natural_day(
        &self,
        sends: &[Send<'_>],
        limit: NonZeroU32,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let today = self.local_date(now);
        let count = sends
            .iter()
            .filter(|s| self.local_date(s.at) == today)
            .count();
        (count >= limit.get() as usize).then(|| start_of_day(self.zone, today + Days::new(1)))
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }
}

/// When enough of the sends within `window` of `now` have left it for one more to fit
/// under `limit`; none if one fits now.
fn rolling<'a>(
    sends: impl Iterator<Item = &'a Send<'a>>,
    window: TimeDelta,
    limit: NonZeroU32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut inside: Vec<DateTime<Utc>> = sends
        .map(|s| s.at)
        .filter(|at| *at + window > now)
        .collect();
    let limit = limit.get() as usize;
    if inside.len() < limit {
        return None;
    }
    inside.sort_unstable();
    // Once the oldest `len - limit + 1` have left the window, `limit - 1` remain.
    Some(inside[inside.len() - limit] + window)
}

/// The first instant of `date` in `zone`: its midnight, or, where a DST change skips
/// midnight, the first local time that exists after it; the earlier one where it repeats.
fn start_of_day(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..=4 * 24)
        .find_map(|quarter| {
            zone.from_local_datetime(&(midnight + TimeDelta::minutes(15 * quarter)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
