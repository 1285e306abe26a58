//! One claim: due messages first (retries, follow-ups, confirmations: conversations under
//! way), then due surveys, which become their first SMS: claimed on the survey itself (to
//! `sending`, under this replica's lease), checked (opt-out, quiet hours), composed, and
//! handed back if held, all in one transaction. A first question has no outbox row until
//! the provider accepts it (`store::first_send`): one row written once per SMS, not
//! inserted claimed and updated after (BENCHMARKS.md, dispatch). One an earlier claim may
//! have sent (its lease ran out) goes again with the same id where the platform drops
//! duplicates, or becomes the outbox row that claim would have left, to be looked up. Where the channel has per-number caps, every candidate is counted against them
//! first (`caps`): a queued message that would break one is cancelled and its survey ended,
//! a first question deferred to when it fits, or dropped if that is past its survey's life.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{Connection, PgConnection};

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
        lifecycle::{MessageStatus, SurveyState},
        phone, timezone,
    },
    store::{
        caps as capped, first_send,
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
    /// First SMS an earlier claim may have sent, handed to a lookup or given up.
    pub unknown: usize,
    /// Sends a per-number cap held back, and what became of each.
    pub cap_hits: Vec<(Cap, Hit)>,
}

impl Started {
    /// Messages and surveys dealt with, whichever way.
    pub fn handled(&self) -> usize {
        self.claimed.len() + self.deferred + self.cancelled + self.unknown + self.ended()
    }

    /// Queued messages a cap cancelled (their surveys ended).
    fn ended(&self) -> usize {
        self.cap_hits
            .iter()
            .filter(|(_, hit)| *hit == Hit::Ended)
            .count()
    }
}

/// Who claims the first questions, for how long, and what is done with one an earlier
/// claim may have sent.
pub struct Claimant<'a> {
    pub replica: &'a str,
    pub lease: Duration,
    /// The platform drops a resend with the same id; otherwise it is looked up first.
    pub drops_duplicates: bool,
    /// Claims of one SMS before it is given up.
    pub max_attempts: i32,
}

/// Claims up to `limit` messages: queued ones first, then due surveys' first questions, on
/// the claims' own connection (`messages::claims_connection`).
pub async fn claim_due(conn: &mut PgConnection, take: &Take<'_>) -> sqlx::Result<Started> {
    // Caps are counted under per-phone locks held until the claim commits. Without them
    // each statement stands alone, fenced by its lease: two round trips fewer per claim.
    if take.caps.is_off() {
        return take.run(conn).await;
    }
    let mut tx = conn.begin().await?;
    let started = take.run(&mut tx).await?;
    tx.commit().await?;
    Ok(started)
}

/// What one claim takes, and by what rules.
pub struct Take<'a> {
    pub texts: &'a Texts<'a>,
    pub policy: &'a Policy,
    pub caps: &'a Caps,
    pub limit: i64,
    pub now: DateTime<Utc>,
    pub claimant: &'a Claimant<'a>,
}

impl Take<'_> {
    async fn run(&self, tx: &mut PgConnection) -> sqlx::Result<Started> {
        let Take {
            texts,
            policy,
            caps,
            limit,
            now,
            claimant,
        } = *self;
        // Without caps a queued message is claimed as it is found; with them it is only locked
        // until its phone's sends are counted.
        let (mut claimed, queued) = if caps.is_off() {
            let claimed =
                messages::claim(&mut *tx, limit, claimant.lease, claimant.replica).await?;
            (claimed, vec![])
        } else {
            (vec![], messages::lock_due(&mut *tx, limit).await?)
        };
        let room = limit - (claimed.len() + queued.len()) as i64;
        let due = if room > 0 {
            surveys::claim_due(&mut *tx, room, claimant.replica, claimant.lease).await?
        } else {
            vec![]
        };
        let phones: Vec<&str> = queued
            .iter()
            .map(|m| m.to_phone.as_str())
            .chain(due.iter().map(|d| d.customer_phone.as_str()))
            .collect();
        let claiming: Vec<i64> = due.iter().map(|d| d.id).collect();
        let mut counter = Counter::load(&mut *tx, caps, &phones, &claiming).await?;
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
            claimed =
                messages::claim_locked(&mut *tx, &fit, claimant.lease, claimant.replica).await?;
            capped::cancel(&mut *tx, &held, &why).await?;
        }
        if due.is_empty() {
            return Ok(Started {
                claimed,
                cap_hits,
                ..Started::default()
            });
        }
        let (mut cancel, mut defer_ids, mut defer_until, mut defer_priors) =
            (vec![], vec![], vec![], vec![]);
        let (mut dropped, mut unknown) = (vec![], vec![]);
        for d in &due {
            // Only the region matters here (zones, the mainland text), not the number's type.
            let Ok(region) = phone::region_of(&d.customer_phone) else {
                cancel.push(d.id);
                continue;
            };
            if d.prior.is_some() {
                match settle_first(texts, d, region, claimant) {
                    Settle::Send => {}
                    Settle::Row(row) => {
                        unknown.push(row);
                        continue;
                    }
                    Settle::Cancel => {
                        cancel.push(d.id);
                        continue;
                    }
                }
            }
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
            let mut defer = |until| {
                defer_ids.push(d.id);
                defer_until.push(until);
                defer_priors.push((d.prior, d.prior_lease_until));
            };
            match plan::gate(&situation, now) {
                Gate::Send => match first_question(texts, d, region) {
                    Ok(message) => match counter.take(&d.customer_phone, &message.body) {
                        Verdict::Fits => claimed.push(as_claimed(message, d, zones)),
                        // A survey lives until its call is too old to ask about
                        // (`eligibility.stale_after_hours`, as for a new call).
                        Verdict::NotBefore(at, cap) if at > d.ended_at + policy.stale_after => {
                            cap_hits.push((cap, Hit::Dropped));
                            dropped.push(d.id);
                        }
                        Verdict::NotBefore(at, cap) => {
                            cap_hits.push((cap, Hit::Deferred));
                            defer(at);
                        }
                    },
                    Err(e) => {
                        tracing::error!(call_id = d.call_id, error = %e, "first SMS not composed; survey cancelled");
                        cancel.push(d.id);
                    }
                },
                Gate::Defer(until) => defer(until),
                Gate::Cancel(_) => cancel.push(d.id),
            }
        }
        for row in &unknown {
            first_send::settle_unknown(&mut *tx, row).await?;
        }
        surveys::set_state(&mut *tx, &cancel, SurveyState::Cancelled).await?;
        surveys::unclaim(&mut *tx, &defer_ids, &defer_until, &defer_priors).await?;
        capped::end_surveys(&mut *tx, &dropped).await?;
        Ok(Started {
            claimed,
            deferred: defer_ids.len(),
            cancelled: cancel.len() + dropped.len(),
            unknown: unknown.len(),
            cap_hits,
        })
    }
}

/// What becomes of a first SMS an earlier claim may have sent (its lease ran out).
enum Settle<'a> {
    /// Sent again, with the same id: the platform drops the duplicate.
    Send,
    /// Written as the outbox row the earlier claim would have left.
    Row(first_send::Unknown<'a>),
    /// Its text cannot be composed any more.
    Cancel,
}

fn settle_first<'a>(
    texts: &Texts<'a>,
    due: &'a surveys::Due,
    region: Option<&str>,
    claimant: &Claimant<'_>,
) -> Settle<'a> {
    let tried = due.first_attempts - 1;
    let (status, since, error) = if !claimant.drops_duplicates {
        // Searched from when the earlier claim began, its lease's end less its length.
        let since = due
            .prior_lease_until
            .map(|end| end - chrono::TimeDelta::from_std(claimant.lease).unwrap_or_default());
        (
            MessageStatus::Reconciling,
            since,
            "lease expired mid-send; outcome unknown",
        )
    } else if tried >= claimant.max_attempts {
        (
            MessageStatus::Failed,
            None,
            "lease expired on the last attempt; outcome unknown",
        )
    } else {
        return Settle::Send;
    };
    match first_question(texts, due, region) {
        Ok(message) => Settle::Row(first_send::Unknown {
            message,
            status,
            attempts: tried,
            since,
            error,
        }),
        Err(e) => {
            tracing::error!(call_id = due.call_id, error = %e, "first SMS not composed; survey cancelled");
            Settle::Cancel
        }
    }
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
        id: due.first_message_id,
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

/// The message as a claim would have returned it (survey `sending`), with the zones just
/// computed, so the send does not read the phone again; it has no row until it is sent.
fn as_claimed(message: messages::New<'_>, due: &surveys::Due, zones: Vec<Tz>) -> Claimed {
    Claimed {
        id: message.id,
        call_id: Some(due.call_id.clone()),
        purpose: message.purpose,
        to_phone: message.to_phone.to_owned(),
        body: message.body,
        segments: message.segments,
        template_id: message.template.as_ref().map(|t| t.id.clone()),
        template_params: message.template.map(|t| sqlx::types::Json(t.params)),
        attempts: due.first_attempts,
        survey_state: Some(SurveyState::Sending),
        customer_timezone: due.customer_timezone.clone(),
        opted_out: due.opted_out,
        zones: Some(zones),
        first: Some(messages::First {
            survey_id: due.id,
            prior: due.prior,
            prior_lease_until: due.prior_lease_until,
            question_id: message.question_id.unwrap_or_default().to_owned(),
            encoding: message.encoding,
        }),
    }
}
