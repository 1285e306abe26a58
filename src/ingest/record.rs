//! One batch of valid events → one transaction: read the phones' history, decide each
//! event in pure code, write calls and surveys. Nothing here acks or rejects.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{
    domain::{
        eligibility::{self, Decision, History, Policy, Reason},
        event::CallCompleted,
    },
    store::calls::{self, Decided},
};

/// An event that parsed, with the body it came in.
pub struct Valid {
    pub event: CallCompleted,
    pub body: serde_json::Value,
}

/// What a committed batch did, for logs and metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// New calls by decision reason (`scheduled` included).
    pub by_reason: BTreeMap<&'static str, usize>,
    /// Events whose call_id was already recorded: changed nothing.
    pub duplicates: usize,
}

impl Outcome {
    pub fn add(&mut self, other: &Outcome) {
        for (reason, n) in &other.by_reason {
            *self.by_reason.entry(reason).or_default() += n;
        }
        self.duplicates += other.duplicates;
    }

    pub fn is_empty(&self) -> bool {
        self.by_reason.is_empty() && self.duplicates == 0
    }

    pub fn scheduled(&self) -> usize {
        self.by_reason.get("scheduled").copied().unwrap_or(0)
    }
}

pub struct Rules<'a> {
    pub policy: &'a Policy,
    pub default_language: &'a str,
}

pub async fn record(
    pool: &PgPool,
    batch: &[Valid],
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Outcome> {
    let mut tx = pool.begin().await?;
    let phones: Vec<&str> = batch
        .iter()
        .map(|v| v.event.customer_phone.as_e164())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut histories = calls::histories(&mut tx, &phones).await?;
    let decided = decide_all(batch, &mut histories, rules, now);

    let inserted = calls::insert_calls(&mut tx, &decided).await?;
    let to_schedule: Vec<&Decided<'_>> = decided
        .iter()
        .filter(|d| inserted.contains(&d.event.call_id) && d.decision.reason() == Reason::Scheduled)
        .collect();
    let lost = calls::insert_surveys(&mut tx, &to_schedule).await?;
    if !lost.is_empty() {
        calls::set_decision(&mut tx, &lost, Reason::OpenSurvey.as_str()).await?;
    }
    tx.commit().await?;

    Ok(outcome(batch.len(), &decided, &inserted, lost.len()))
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
            if let Decision::Schedule { send_at, .. } = decision {
                history.open_survey = true;
                history.last_survey_at =
                    Some(history.last_survey_at.map_or(send_at, |l| l.max(send_at)));
            }
            Decided {
                event: &v.event,
                body: &v.body,
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

fn outcome(
    events: usize,
    decided: &[Decided<'_>],
    inserted: &HashSet<String>,
    lost: usize,
) -> Outcome {
    let mut out = Outcome::default();
    for d in decided
        .iter()
        .filter(|d| inserted.contains(&d.event.call_id))
    {
        *out.by_reason
            .entry(d.decision.reason().as_str())
            .or_default() += 1;
    }
    if lost > 0 {
        *out.by_reason.entry("scheduled").or_default() -= lost;
        *out.by_reason
            .entry(Reason::OpenSurvey.as_str())
            .or_default() += lost;
    }
    out.by_reason.retain(|_, n| *n > 0);
    out.duplicates = events - inserted.len();
    out
}
