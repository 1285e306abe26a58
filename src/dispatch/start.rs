//! Due surveys become their first SMS: locked, re-checked (opt-out, quiet hours), and
//! queued in the outbox in one transaction.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::plan::{self, Gate, Situation};
use crate::{
    domain::{
        eligibility::Policy, phone::PhoneNumber, segments, survey::SurveyDefinition, timezone,
    },
    store::{messages, surveys},
};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Started {
    pub queued: usize,
    pub deferred: usize,
    pub cancelled: usize,
}

pub async fn start_due(
    pool: &PgPool,
    survey: &SurveyDefinition,
    policy: &Policy,
    limit: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Started> {
    let mut tx = pool.begin().await?;
    let due = surveys::lock_due(&mut tx, limit).await?;
    if due.is_empty() {
        return Ok(Started::default());
    }
    let (mut queue, mut cancel, mut defer_ids, mut defer_until) = (vec![], vec![], vec![], vec![]);
    for d in &due {
        let Ok(phone) = PhoneNumber::parse(&d.customer_phone) else {
            cancel.push(d.id);
            continue;
        };
        let zones = timezone::customer_zones(
            d.customer_timezone.as_deref().and_then(|z| z.parse().ok()),
            &phone,
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
            Gate::Send => queue.push(first_question(survey, d, &phone)),
            Gate::Defer(until) => {
                defer_ids.push(d.id);
                defer_until.push(until);
            }
            Gate::Cancel(_) => cancel.push(d.id),
        }
    }
    let started = Started {
        queued: queue.len(),
        deferred: defer_ids.len(),
        cancelled: cancel.len(),
    };
    let queued_ids: Vec<i64> = queue.iter().filter_map(|m| m.survey_id).collect();
    messages::insert(&mut tx, &queue).await?;
    surveys::set_state(&mut tx, &queued_ids, "sending").await?;
    surveys::set_state(&mut tx, &cancel, "cancelled").await?;
    surveys::defer(&mut tx, &defer_ids, &defer_until).await?;
    tx.commit().await?;
    Ok(started)
}

fn first_question<'a>(
    survey: &'a SurveyDefinition,
    due: &'a surveys::Due,
    phone: &PhoneNumber,
) -> messages::New<'a> {
    let body = survey.first_message(&due.language, phone.region() == Some("CN"));
    let counted = segments::count(&body);
    messages::New {
        id: Uuid::new_v4(),
        survey_id: Some(due.id),
        purpose: "question",
        question_id: Some(&survey.questions[0].id),
        to_phone: &due.customer_phone,
        body,
        encoding: counted.encoding.as_str(),
        segments: counted.count as i32,
    }
}
