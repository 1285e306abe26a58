//! What the worker made of the demo, read back from its database once aggregation ran:
//! the scores as the API serves them, and the counts behind them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;

use super::store;
use crate::{
    domain::scores::Tally,
    store::scores::{self, Dimension},
};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoResults {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Aggregated scores per agent, as `GET /api/v1/scores?group_by=agent` sums them.
    pub agents: BTreeMap<String, Tally>,
    pub totals: Tally,
    /// Calls by eligibility decision.
    pub decisions: BTreeMap<String, u64>,
    /// Customer SMS by what became of them (`inbound_messages.outcome`).
    pub replies: BTreeMap<String, u64>,
    /// Surveys by state.
    pub surveys: BTreeMap<String, u64>,
    pub opt_outs: u64,
    /// Survey events written to the outbox, by routing key, and how many were published.
    pub events: BTreeMap<String, u64>,
    pub events_published: u64,
    /// Outbound SMS the provider accepted, by purpose (`question`, `follow_up`, …).
    pub sms: BTreeMap<String, u64>,
}

pub async fn read(pool: &PgPool, from: NaiveDate, to: NaiveDate) -> sqlx::Result<DemoResults> {
    let agents = scores::sum(pool, from, to, &[Dimension::Agent])
        .await?
        .into_iter()
        .map(|g| (g.key.agent_id.unwrap_or_default(), g.tally))
        .collect();
    let totals = scores::sum(pool, from, to, &[])
        .await?
        .into_iter()
        .next()
        .map(|g| g.tally)
        .unwrap_or_default();
    Ok(DemoResults {
        from,
        to,
        agents,
        totals,
        decisions: store::calls_by_decision(pool).await?,
        replies: store::replies_by_outcome(pool).await?,
        surveys: store::surveys_by_state(pool).await?,
        opt_outs: store::opt_outs(pool).await?,
        events: store::outbox_by_key(pool).await?,
        events_published: store::outbox_published(pool).await?,
        sms: store::accepted_sms_by_purpose(pool).await?,
    })
}
