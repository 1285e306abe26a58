//! An hour of calls from a seed: agents who differ in quality, three queues, the mix of
//! outcomes a real hotline has, and the eligibility decision each call should get.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::{event::Disposition, phone::PhoneNumber};

/// An agent and how happy their callers tend to be (0 = furious, 1 = delighted).
#[derive(Debug, Clone, Copy)]
pub struct Agent {
    pub id: &'static str,
    pub quality: f64,
}

/// One clearly better, one clearly worse, the rest in between: the table has a story.
pub const AGENTS: [Agent; 7] = [
    Agent {
        id: "agent-li",
        quality: 0.90,
    },
    Agent {
        id: "agent-wang",
        quality: 0.72,
    },
    Agent {
        id: "agent-zhang",
        quality: 0.70,
    },
    Agent {
        id: "agent-liu",
        quality: 0.68,
    },
    Agent {
        id: "agent-chen",
        quality: 0.66,
    },
    Agent {
        id: "agent-yang",
        quality: 0.64,
    },
    Agent {
        id: "agent-zhao",
        quality: 0.48,
    },
];

pub const QUEUES: [&str; 3] = ["payment", "refund", "account"];

/// The decision the worker should record for a call (README, "Who gets a survey").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expect {
    Scheduled,
    Disposition,
    TooShort,
    InvalidPhone,
    /// The caller's earlier call of this hour already has a survey: `open_survey` while it
    /// is in flight, `frequency_cap` once it ended; which one depends on timing.
    Repeat,
}

impl Expect {
    pub fn label(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Disposition => "disposition",
            Self::TooShort => "too_short",
            Self::InvalidPhone => "invalid_phone",
            Self::Repeat => "open_survey/frequency_cap",
        }
    }

    /// The bucket a recorded decision falls in, for comparing with `label`.
    pub fn bucket(decision: &str) -> &str {
        match decision {
            "open_survey" | "frequency_cap" => Self::Repeat.label(),
            other => other,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Call {
    pub call_id: String,
    pub event_id: Uuid,
    pub phone: String,
    pub agent: Agent,
    pub queue: &'static str,
    pub started_at: DateTime<FixedOffset>,
    pub answered_at: Option<DateTime<FixedOffset>>,
    pub ended_at: DateTime<FixedOffset>,
    pub disposition: Disposition,
    pub language: Option<&'static str>,
    pub timezone: Option<&'static str>,
    pub expect: Expect,
}

impl Call {
    /// The `call.completed` body, exactly as DESIGN.md §1 has it.
    pub fn event(&self) -> Value {
        let time = |t: DateTime<FixedOffset>| t.to_rfc3339_opts(SecondsFormat::Secs, false);
        let mut event = json!({
            "event_id": self.event_id.to_string(),
            "call_id": self.call_id,
            "customer_phone": self.phone,
            "agent_id": self.agent.id,
            "queue": self.queue,
            "started_at": time(self.started_at),
            "answered_at": self.answered_at.map(time),
            "ended_at": time(self.ended_at),
            "disposition": self.disposition.as_str(),
        });
        if let Some(language) = self.language {
            event["language"] = json!(language);
        }
        if let Some(zone) = self.timezone {
            event["customer_timezone"] = json!(zone);
        }
        event
    }

    /// Queue wait in milliseconds, as aggregation sums it; none if never answered.
    pub fn wait_ms(&self) -> Option<i64> {
        self.answered_at
            .map(|a| (a - self.started_at).num_milliseconds())
    }
}

/// What kind of call to make, before the phone's history is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Normal,
    Abandoned,
    OtherDisposition,
    Short,
}

/// Customers abroad: a mobile prefix with room for the rest, its zone and language.
const ABROAD: [(&str, usize, &str, &str); 5] = [
    ("+1650253", 4, "America/Los_Angeles", "en"),
    ("+447911", 6, "Europe/London", "en"),
    ("+659", 7, "Asia/Singapore", "en"),
    ("+8529", 7, "Asia/Hong_Kong", "zh-HK"),
    ("+8190", 8, "Asia/Tokyo", "en"),
];

/// Mainland mobile prefixes (China Mobile, Unicom, Telecom).
const MAINLAND: [&str; 10] = [
    "138", "139", "135", "136", "150", "158", "186", "188", "177", "189",
];

/// `n` calls that ended over the hour before `now`, in the order they ended.
pub fn generate(n: usize, seed: u64, now: DateTime<Utc>) -> Vec<Call> {
    let mut rng = StdRng::seed_from_u64(seed);
    let shanghai = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let mut ended: Vec<DateTime<Utc>> = (0..n)
        .map(|_| now - TimeDelta::seconds(rng.random_range(20..3600)))
        .collect();
    ended.sort();
    let mut phones = Phones::default();
    ended
        .into_iter()
        .enumerate()
        .map(|(i, end)| {
            let mut call = one_call(&mut rng, &mut phones, i, end.with_timezone(&shanghai));
            call.expect = phones.decide(&call, &expect_alone(&call));
            call
        })
        .collect()
}

fn one_call(
    rng: &mut StdRng,
    phones: &mut Phones,
    i: usize,
    ended_at: DateTime<FixedOffset>,
) -> Call {
    let agent = AGENTS[rng.random_range(0..AGENTS.len())];
    let queue = QUEUES[rng.random_range(0..QUEUES.len())];
    let shape = match rng.random::<f64>() {
        p if p < 0.04 => Shape::Abandoned,
        p if p < 0.07 => Shape::OtherDisposition,
        p if p < 0.11 => Shape::Short,
        _ => Shape::Normal,
    };
    let (phone, language, timezone) = phones.pick(rng);
    let wait = TimeDelta::seconds(match queue {
        "payment" => rng.random_range(20..240),
        "refund" => rng.random_range(10..150),
        _ => rng.random_range(5..90),
    });
    let talk = TimeDelta::seconds(match shape {
        Shape::Short => rng.random_range(3..20),
        _ => rng.random_range(60..900),
    });
    // Half the transfers, voicemails and failures never reached an agent.
    let answered = match shape {
        Shape::Abandoned => false,
        Shape::OtherDisposition => rng.random_bool(0.5),
        Shape::Normal | Shape::Short => true,
    };
    let disposition = match shape {
        Shape::Abandoned => Disposition::Abandoned,
        Shape::OtherDisposition if answered => Disposition::Transferred,
        Shape::OtherDisposition => {
            [Disposition::Voicemail, Disposition::Failed][rng.random_range(0..2)]
        }
        _ => Disposition::Completed,
    };
    let answered_at = answered.then(|| ended_at - talk);
    let started_at = answered_at.unwrap_or(ended_at) - wait;
    Call {
        call_id: format!("demo-{:04}", i + 1),
        event_id: Uuid::from_u128(rng.random()),
        phone,
        agent,
        queue,
        started_at,
        answered_at,
        ended_at,
        disposition,
        language,
        timezone,
        expect: Expect::Scheduled,
    }
}

/// The decision a call gets on its own, without its phone's history.
fn expect_alone(call: &Call) -> Expect {
    let talk = call
        .answered_at
        .map_or(TimeDelta::zero(), |a| call.ended_at - a);
    if call.phone.starts_with("+8610") || call.phone.starts_with("+86123") {
        Expect::InvalidPhone
    } else if call.disposition != Disposition::Completed {
        Expect::Disposition
    } else if talk < TimeDelta::seconds(20) {
        Expect::TooShort
    } else {
        Expect::Scheduled
    }
}

/// Hands out customers' numbers: mostly new mainland mobiles, some abroad, a few that
/// cannot take an SMS, and a few people who call twice within the hour.
#[derive(Default)]
struct Phones {
    used: HashSet<String>,
    earlier: Vec<(String, Option<&'static str>, Option<&'static str>)>,
    surveyed: HashMap<String, bool>,
}

impl Phones {
    fn pick(&mut self, rng: &mut StdRng) -> (String, Option<&'static str>, Option<&'static str>) {
        if !self.earlier.is_empty() && rng.random_bool(0.03) {
            return self.earlier[rng.random_range(0..self.earlier.len())].clone();
        }
        let picked = loop {
            let candidate = new_number(rng);
            if self.used.insert(candidate.0.clone()) {
                break candidate;
            }
        };
        self.earlier.push(picked.clone());
        picked
    }

    /// A second call of a phone whose first one got a survey is not surveyed again.
    fn decide(&mut self, call: &Call, alone: &Expect) -> Expect {
        let surveyed = self.surveyed.entry(call.phone.clone()).or_insert(false);
        match alone {
            Expect::Scheduled if *surveyed => Expect::Repeat,
            Expect::Scheduled => {
                *surveyed = true;
                Expect::Scheduled
            }
            other => *other,
        }
    }
}

fn new_number(rng: &mut StdRng) -> (String, Option<&'static str>, Option<&'static str>) {
    let digits = |rng: &mut StdRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    match rng.random::<f64>() {
        // A Beijing landline, or a range no carrier was given: E.164-shaped, no SMS.
        p if p < 0.015 => (format!("+8610{}", digits(rng, 8)), Some("zh-CN"), None),
        p if p < 0.025 => (format!("+86123{}", digits(rng, 8)), None, None),
        p if p < 0.085 => {
            let (prefix, rest, zone, language) = ABROAD[rng.random_range(0..ABROAD.len())];
            // Not every range under a mobile prefix is assigned: draw until it is, as a
            // real customer's number would be.
            let number = loop {
                let number = format!("{prefix}{}", digits(rng, rest));
                if PhoneNumber::parse(&number).is_ok_and(|p| p.can_receive_sms()) {
                    break number;
                }
            };
            (number, Some(language), Some(zone))
        }
        p => {
            let prefix = MAINLAND[rng.random_range(0..MAINLAND.len())];
            // The language and zone are optional in the contract; some platforms send them.
            let language = (p < 0.6).then_some("zh-CN");
            let zone = (p > 0.8).then_some("Asia/Shanghai");
            (format!("+86{prefix}{}", digits(rng, 8)), language, zone)
        }
    }
}

#[cfg(test)]
mod tests;
