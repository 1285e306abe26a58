//! What the worker made of the demo, read back from its database once aggregation ran:
//! the scores as the API serves them, and the counts behind them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::{
    domain::scores::Tally,
    store::scores::{self, Dimension},
};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
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

pub async fn read(pool: &PgPool, from: NaiveDate, to: NaiveDate) -> sqlx::Result<Summary> {
    let agents = scores::sum(pool, from, to, &[Dimension::Agent])
        .await?
        .into_iter()
        .map(|g| (g.agent_id.unwrap_or_default(), g.tally))
        .collect();
    let totals = scores::sum(pool, from, to, &[])
        .await?
        .into_iter()
        .next()
        .map(|g| g.tally)
        .unwrap_or_default();
    Ok(Summary {
        from,
        to,
        agents,
        totals,
        decisions: counts(pool, "SELECT decision, count(*) FROM calls GROUP BY 1").await?,
        replies: counts(
            pool,
            "SELECT outcome, count(*) FROM inbound_messages GROUP BY 1",
        )
        .await?,
        surveys: counts(pool, "SELECT state, count(*) FROM surveys GROUP BY 1").await?,
        opt_outs: count(pool, "SELECT count(*) FROM opt_outs").await?,
        events: counts(pool, "SELECT routing_key, count(*) FROM outbox GROUP BY 1").await?,
        events_published: count(
            pool,
            "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
        )
        .await?,
        sms: counts(
            pool,
            "SELECT purpose, count(*) FROM messages
              WHERE status IN ('queued', 'sent', 'delivered', 'undelivered') GROUP BY 1",
        )
        .await?,
    })
}

async fn counts(pool: &PgPool, sql: &str) -> sqlx::Result<BTreeMap<String, u64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k, n.max(0) as u64))
        .collect())
}

async fn count(pool: &PgPool, sql: &str) -> sqlx::Result<u64> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(n.max(0) as u64)
}
