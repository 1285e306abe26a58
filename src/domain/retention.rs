//! Retention of personal data: how long a record keeps its phone numbers and texts, which
//! parts of the database are erased, and what one run erased. The SQL is
//! `store/retention.rs`; the runner `aggregate/retention.rs`.

use chrono::{DateTime, TimeDelta, Utc};

/// `retention.*`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Days a record keeps its personal data after it was made (`personal_data_days`).
    pub days: u32,
    /// Records per batch, each batch its own transaction (`batch_size`).
    pub batch_size: u32,
}

/// The fields of a stored call event that are kept when it is erased (those postcall reads,
/// but the phone): a field a publisher added may hold anything, so it goes.
pub const EVENT_KEPT: [&str; 10] = [
    "event_id",
    "call_id",
    "agent_id",
    "queue",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
    "language",
    "customer_timezone",
];

impl Policy {
    /// Records made before this instant are erased.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(self.days.into())
    }

    /// Whether a call that ended at `ended_at` and arrives `now` is stored already erased.
    /// The eraser walks calls by `ended_at` behind a cursor that only moves forward, so a
    /// call arriving after the cursor passed its end would keep its phone for ever. Such a
    /// call is always `stale` (the settings keep `eligibility.stale_after_hours` inside the
    /// window, with this margin), so nothing needs its phone. The hour covers an event
    /// decided just before a run moves the cursor and committed just after.
    pub fn arrives_erased(&self, ended_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        ended_at < self.cutoff(now) + ARRIVAL_MARGIN
    }
}

/// See [`Policy::arrives_erased`]; the settings check `stale_after_hours` against it.
pub const ARRIVAL_MARGIN: TimeDelta = TimeDelta::hours(1);

/// A call event's body with only [`EVENT_KEPT`] left (the body is a JSON object: ingest
/// parsed it as one).
pub fn kept_event(body: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(mut event) => {
            event.retain(|k, _| EVENT_KEPT.contains(&k.as_str()));
            serde_json::Value::Object(event).to_string()
        }
        Err(_) => "{}".to_owned(),
    }
}

/// What is erased, each found and batched on its own. The order is the order a run takes
/// them in; every part is independent of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// A call (its phone, its event as received) with its survey's phone and its survey's
    /// outbound SMS (phone, body, template values, the provider's error text), counted from
    /// the call's end.
    Calls,
    /// SMS a customer sent (phone, body), from when it was received.
    InboundMessages,
    /// Answers: the reply's raw text and a comment's words (the answer, and what it counts
    /// for, stays), from when it was received.
    Answers,
    /// Notes on follow-up case moves, from when the move was made.
    FollowUpMoves,
    /// System replies to a phone with no survey (confirmations, help), from their creation.
    UnattachedMessages,
    /// Published events (they carry the phone and the answers), deleted.
    PublishedEvents,
    /// Callback batches never processed (they hold the platform's whole report), deleted.
    CallbackInbox,
}

impl Part {
    pub const ALL: [Part; 7] = [
        Part::Calls,
        Part::InboundMessages,
        Part::Answers,
        Part::FollowUpMoves,
        Part::UnattachedMessages,
        Part::PublishedEvents,
        Part::CallbackInbox,
    ];

    /// The name in metrics, logs and the CLI's output.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Calls => "calls",
            Part::InboundMessages => "inbound_messages",
            Part::Answers => "answers",
            Part::FollowUpMoves => "follow_up_moves",
            Part::UnattachedMessages => "unattached_messages",
            Part::PublishedEvents => "published_events",
            Part::CallbackInbox => "callback_inbox",
        }
    }
}

/// Records erased (or, for a dry run, due) per part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally([i64; Part::ALL.len()]);

impl Tally {
    pub fn add(&mut self, part: Part, n: i64) {
        self.0[part as usize] += n;
    }

    pub fn get(&self, part: Part) -> i64 {
        self.0[part as usize]
    }

    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = Part::ALL
            .iter()
            .map(|&p| format!("{} {}", self.get(p), p.as_str()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// How a batch ended, which decides whether the run takes another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEnd {
    /// The batch was full: more may be due.
    More,
    /// Fewer rows than a batch were due: the part is done for now.
    Done,
    /// A call whose survey is still in flight stands at the cursor: the part waits for it.
    InFlight { survey_id: i64 },
}

impl BatchEnd {
    /// From the rows a batch erased and, for calls, the survey that stopped it.
    pub fn of(erased: i64, batch_size: u32, in_flight: Option<i64>) -> Self {
        match in_flight {
            Some(survey_id) => BatchEnd::InFlight { survey_id },
            None if erased >= i64::from(batch_size) => BatchEnd::More,
            None => BatchEnd::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_cutoff_is_whole_days_before_now() {
        let policy = Policy {
            days: 180,
            batch_size: 10,
        };
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
        assert_eq!(
            policy.cutoff(now),
            Utc.with_ymd_and_hms(2026, 6, 6, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_tally_counts_each_part_apart_and_prints_every_part() {
        let mut tally = Tally::default();
        tally.add(Part::Calls, 3);
        tally.add(Part::Calls, 2);
        tally.add(Part::CallbackInbox, 1);
        assert_eq!(tally.get(Part::Calls), 5);
        assert_eq!(tally.get(Part::Answers), 0);
        assert_eq!(tally.total(), 6);
        assert_eq!(
            tally.to_string(),
            "5 calls, 0 inbound_messages, 0 answers, 0 follow_up_moves, \
             0 unattached_messages, 0 published_events, 1 callback_inbox"
        );
    }

    #[test]
    fn a_full_batch_asks_for_more_and_a_survey_in_flight_stops_the_part() {
        assert_eq!(BatchEnd::of(10, 10, None), BatchEnd::More);
        assert_eq!(BatchEnd::of(9, 10, None), BatchEnd::Done);
        assert_eq!(BatchEnd::of(0, 10, None), BatchEnd::Done);
        assert_eq!(
            BatchEnd::of(4, 10, Some(7)),
            BatchEnd::InFlight { survey_id: 7 }
        );
    }

    #[test]
    fn a_call_arrives_erased_from_an_hour_inside_the_window() {
        let p = Policy {
            days: 180,
            batch_size: 1,
        };
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let cutoff = p.cutoff(now);
        assert!(p.arrives_erased(cutoff - TimeDelta::days(30), now));
        assert!(p.arrives_erased(cutoff + TimeDelta::minutes(59), now));
        assert!(!p.arrives_erased(cutoff + TimeDelta::hours(1), now));
        assert!(!p.arrives_erased(now - TimeDelta::days(2), now));
    }

    #[test]
    fn an_erased_event_keeps_only_the_fields_postcall_reads_but_the_phone() {
        let body = r#"{"event_id":"e","call_id":"c","customer_phone":"+8613800000000",
            "agent_id":"a","ended_at":"2026-01-01T00:00:00Z","nickname":"王小明"}"#;
        let kept: serde_json::Value = serde_json::from_str(&kept_event(body)).unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"event_id":"e","call_id":"c","agent_id":"a",
                               "ended_at":"2026-01-01T00:00:00Z"})
        );
        assert_eq!(kept_event("not json"), "{}");
    }
}
