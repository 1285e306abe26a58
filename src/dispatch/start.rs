//! One claim: due messages first (retries, follow-ups, confirmations: conversations under
//! way), then due surveys, which become their first SMS: locked, checked (opt-out, quiet
//! hours), and their first question stored in the outbox already claimed by this replica,
//! all in one transaction. A first question goes out at once, so it skips the outbox's
//! queue: a statement and a row version fewer per survey than queueing it and claiming it
//! back. Where the channel has per-number caps, every candidate is counted against them
//! first (`caps`): a queued message that would break one is cancelled and its survey ended,
//! a first question deferred to when it fits, or dropped if that is past its survey's life.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    caps::{self, Counter, Hit},
    plan::{self, Gate, Situation},
};
use crate::{
    channels::{
        compose::{self, ComposeError, Texts},
        templates,
    },
    domain::{
        caps::{Cap, Caps, Verdict},
        conversation::Outgoing,
        eligibility::Policy,
        lifecycle::SurveyState,
        phone, timezone,
    },
    store::{
        caps as capped,
        messages::{self, Claimed},
        surveys,
    },
};

#[derive(Debug, Default)]
pub struct Started {
    /// Messages claimed for sending, under this replica's lease: queued ones, then first
    /// questions.
    pub claimed: Vec<Claimed>,
    /// Due surveys deferred (quiet hours, a per-number cap) or cancelled (opted out,
    /// unusable phone, a first message that cannot be composed, a cap past its life).
    pub deferred: usize,
    pub cancelled: usize,
    /// Sends a per-number cap held back, and what became of each.
    pub cap_hits: Vec<(Cap, Hit)>,
}

impl Started {
    /// Messages and surveys dealt with, whichever way.
    pub fn handled(&self) -> usize {
        self.claimed.len() + self.deferred + self.cancelled + self.ended()
    }

    /// Queued messages a cap cancelled (their surveys ended).
    fn ended(&self) -> usize {
        self.cap_hits
            .iter()
            .filter(|(_, hit)| *hit == Hit::Ended)
            .count()
    }
}

/// Who claims the first questions, and for how long.
pub struct Claimant<'a> {
    pub replica: &'a str,
    pub lease: Duration,
}

/// Claims up to `limit` messages: queued ones first, then due surveys' first questions.
pub async fn claim_due(
    pool: &PgPool,
    texts: &Texts<'_>,
    policy: &Policy,
    caps: &Caps,
    limit: i64,
    now: DateTime<Utc>,
    claimant: &Claimant<'_>,
) -> sqlx::Result<Started> {
    let mut tx = messages::begin_claim(pool).await?;
    // Without caps a queued message is claimed as it is found; with them it is only locked
    // until its phone's sends are counted.
    let (mut claimed, queued) = if caps.is_off() {
        let claimed = messages::claim(&mut tx, limit, claimant.lease, claimant.replica).await?;
        (claimed, vec![])
    } else {
        (vec![], messages::lock_due(&mut tx, limit).await?)
    };
    let room = limit - (claimed.len() + queued.len()) as i64;
    let due = if room > 0 {
        surveys::lock_due(&mut tx, room).await?
    } else {
        vec![]
    };
    let phones: Vec<&str> = queued
        .iter()
        .map(|m| m.to_phone.as_str())
        .chain(due.iter().map(|d| d.customer_phone.as_str()))
        .collect();
    let mut counter = Counter::load(&mut tx, caps, &phones).await?;
    let mut cap_hits = vec![];
    if !queued.is_empty() {
        let (mut fit, mut held, mut why) = (vec![], vec![], vec![]);
        for m in &queued {
            match counter.take(&m.to_phone, &m.body) {
                Verdict::Fits => fit.push(m.id),
                Verdict::NotBefore(at, cap) => {
                    held.push(m.id);
                    why.push(caps::why(cap, at));
                    cap_hits.push((cap, Hit::Ended));
                }
            }
        }
        claimed = messages::claim_locked(&mut tx, &fit, claimant.lease, claimant.replica).await?;
        capped::cancel(&mut tx, &held, &why).await?;
    }
    if due.is_empty() {
        tx.commit().await?;
        return Ok(Started {
            claimed,
            cap_hits,
            ..Started::default()
        });
    }
    let (mut queue, mut cancel, mut defer_ids, mut defer_until) = (vec![], vec![], vec![], vec![]);
    let mut dropped = vec![];
    for d in &due {
        // Only the region matters here (zones, the mainland text), not the number's type.
        let Ok(region) = phone::region_of(&d.customer_phone) else {
            cancel.push(d.id);
            continue;
        };
        let zones = timezone::zones_in_region(
            d.customer_timezone.as_deref().and_then(|z| z.parse().ok()),
            region,
            policy.default_timezone,
        );
        let situation = Situation {
            opted_out: d.opted_out,
            survey_live: true,
            respects_quiet_hours: true,
            quiet_hours: policy.quiet_hours.as_ref(),
            zones: &zones,
        };
        match plan::gate(&situation, now) {
            Gate::Send => match first_question(texts, d, region) {
                Ok(message) => match counter.take(&d.customer_phone, &message.body) {
                    Verdict::Fits => {
                        claimed.push(as_claimed(&message, d, zones));
                        queue.push(message);
                    }
                    // A survey lives until its call is too old to ask about
                    // (`eligibility.stale_after_hours`, as for a new call).
                    Verdict::NotBefore(at, cap) if at > d.ended_at + policy.stale_after => {
                        cap_hits.push((cap, Hit::Dropped));
                        dropped.push(d.id);
                    }
                    Verdict::NotBefore(at, cap) => {
                        cap_hits.push((cap, Hit::Deferred));
                        defer_ids.push(d.id);
                        defer_until.push(at);
                    }
                },
                Err(e) => {
                    tracing::error!(call_id = d.call_id, error = %e, "first SMS not composed; survey cancelled");
                    cancel.push(d.id);
                }
            },
            Gate::Defer(until) => {
                defer_ids.push(d.id);
                defer_until.push(until);
            }
            Gate::Cancel(_) => cancel.push(d.id),
        }
    }
    let queued_ids: Vec<i64> = queue.iter().filter_map(|m| m.survey_id).collect();
    messages::insert_claimed(&mut tx, &queue, claimant.replica, claimant.lease).await?;
    surveys::set_state(&mut tx, &queued_ids, SurveyState::Sending).await?;
    surveys::set_state(&mut tx, &cancel, SurveyState::Cancelled).await?;
    surveys::defer(&mut tx, &defer_ids, &defer_until).await?;
    capped::end_surveys(&mut tx, &dropped).await?;
    tx.commit().await?;
    Ok(Started {
        claimed,
        deferred: defer_ids.len(),
        cancelled: cancel.len() + dropped.len(),
        cap_hits,
    })
}

fn first_question<'a>(
    texts: &Texts<'a>,
    due: &'a surveys::Due,
    region: Option<&str>,
) -> Result<messages::New<'a>, ComposeError> {
    let first = Outgoing::Question(0);
    let values = templates::values(&due.agent_id, &due.queue);
    let composed = texts.compose(
        first,
        &compose::Recipient {
            language: &due.language,
            mainland_china: region == Some("CN"),
            values: &values,
        },
    )?;
    Ok(messages::New {
        id: Uuid::new_v4(),
        survey_id: Some(due.id),
        purpose: first.purpose(),
        question_id: Some(&texts.survey.questions[0].id),
        to_phone: &due.customer_phone,
        body: composed.body,
        encoding: composed.segments.encoding.as_str(),
        segments: composed.segments.count as i32,
        template: composed.template,
    })
}

/// The message as a claim would have returned it (first attempt, survey `sending`), with
/// the zones just computed, so the send does not read the phone again.
fn as_claimed(message: &messages::New<'_>, due: &surveys::Due, zones: Vec<Tz>) -> Claimed {
    Claimed {
        id: message.id,
        call_id: Some(due.call_id.clone()),
        purpose: message.purpose,
        to_phone: message.to_phone.to_owned(),
        body: message.body.clone(),
        segments: message.segments,
        template_id: message.template.as_ref().map(|t| t.id.clone()),
        template_params: message
            .template
            .as_ref()
            .map(|t| sqlx::types::Json(t.params.clone())),
        attempts: 1,
        survey_state: Some(SurveyState::Sending),
        customer_timezone: due.customer_timezone.clone(),
        opted_out: due.opted_out,
        zones: Some(zones),
    }
}
