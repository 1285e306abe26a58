//! One batch of valid events → one transaction: read the phones' history, decide each
//! event in pure code, write calls and surveys. Nothing here acks or rejects.

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap, HashSet},
};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{
    domain::{
        eligibility::{self, Decision, History, Policy, Reason},
        event::CallCompleted,
        retention,
    },
    store::calls::{self, Decided},
};

/// An event that parsed, with the body it came in (valid JSON, stored as jsonb).
pub struct Valid {
    pub event: CallCompleted,
    pub body: String,
}

/// What a committed batch did, for logs and metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// New calls by decision reason (`scheduled` included).
    pub by_reason: BTreeMap<&'static str, usize>,
    /// Events whose call_id was already recorded: changed nothing.
    pub duplicates: usize,
}

impl Recorded {
    pub fn add(&mut self, other: &Recorded) {
        for (reason, n) in &other.by_reason {
            *self.by_reason.entry(reason).or_default() += n;
        }
        self.duplicates += other.duplicates;
    }

    pub fn is_empty(&self) -> bool {
        self.by_reason.is_empty() && self.duplicates == 0
    }
}

pub struct Rules<'a> {
    pub policy: &'a Policy,
    pub default_language: &'a str,
    /// When on, a call already past the window is stored erased.
    pub retention: Option<&'a retention::Policy>,
}

/// Two round trips on one connection: the phones' history, then one statement that writes
/// every call and survey atomically (no transaction of our own: each round trip costs a
/// wake-up of both ends on a busy machine). The history is read under READ COMMITTED as
/// before: a concurrent replica's survey for the same phone is caught by the one-in-flight
/// index at write time and recorded as `open_survey`.
pub async fn record(
    pool: &PgPool,
    batch: &[Valid],
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Recorded> {
    let mut conn = pool.acquire().await?;
    let phones: Vec<&str> = batch
        .iter()
        .map(|v| v.event.customer_phone.as_e164())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut histories = calls::histories(&mut conn, &phones).await?;
    let decided = decide_all(batch, &mut histories, rules, now);
    let recorded = calls::record(&mut conn, &decided).await?;
    Ok(tally(batch.len(), &recorded))
}

/// Decides in delivery order, folding each scheduled survey into its phone's history so
/// that two calls of one phone in one batch obey the same caps as two batches would.
fn decide_all<'a>(
    batch: &'a [Valid],
    histories: &mut HashMap<String, History>,
    rules: &Rules<'a>,
    now: DateTime<Utc>,
) -> Vec<Decided<'a>> {
    let mut seen = HashSet::new();
    batch
        .iter()
        // The same call_id twice in one batch: the first decides, the second is a duplicate.
        .filter(|v| seen.insert(v.event.call_id.as_str()))
        .map(|v| {
            let history = histories
                .entry(v.event.customer_phone.as_e164().to_owned())
                .or_default();
            let decision = eligibility::decide(&v.event, history, rules.policy, now);
            let erased = rules
                .retention
                .is_some_and(|r| r.arrives_erased(v.event.ended_at.to_utc(), now));
            // The settings keep the window longer than `stale_after`: see `arrives_erased`.
            debug_assert!(!erased || decision == Decision::Skip(Reason::Stale));
            if let Decision::Schedule { send_at, .. } = decision {
                history.open_survey = true;
                history.last_survey_at =
                    Some(history.last_survey_at.map_or(send_at, |l| l.max(send_at)));
            }
            Decided {
                event: &v.event,
                body: if erased {
                    Cow::Owned(retention::kept_event(&v.body))
                } else {
                    Cow::Borrowed(&v.body)
                },
                erased,
                decision,
                language: v
                    .event
                    .language
                    .as_deref()
                    .unwrap_or(rules.default_language),
            }
        })
        .collect()
}

fn tally(events: usize, recorded: &[(String, String)]) -> Recorded {
    let mut out = Recorded::default();
    for (_, decision) in recorded {
        // Only decisions this code wrote come back; an unknown one would be a schema bug.
        let reason = decision.parse::<Reason>().map_or("unknown", Reason::as_str);
        *out.by_reason.entry(reason).or_default() += 1;
    }
    out.duplicates = events - recorded.len();
    out
}
