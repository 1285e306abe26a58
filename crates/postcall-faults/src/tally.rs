//! Counting outcomes: the provider's record says what reached customers, the database says
//! which survey each message id belongs to. Neither alone is trusted for the verdict.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use crate::{
    lab::Site,
    provider::{Provider, Receipt},
};

/// What became of the first SMS of a set of eligible calls.
#[derive(Debug, Default)]
pub struct FirstSms {
    /// Calls that got their first question at the provider.
    pub reached: usize,
    /// Eligible calls whose first question never reached the provider (no call row, no
    /// survey, or a survey that never sent).
    pub lost: usize,
    /// Calls whose first question reached the provider under more than one message id:
    /// the customer got it twice.
    pub duplicate: usize,
    /// Extra accepted requests for a message id already accepted: absorbed by the
    /// provider's idempotency key, so the customer got it once.
    pub resent: usize,
    /// The most accepted requests any one message id had.
    pub max_per_id: usize,
    /// Accepted message ids the database does not know.
    pub unknown: usize,
    /// Requests unsigned, wrongly signed, or without a matching Idempotency-Key.
    pub malformed: usize,
}

impl FirstSms {
    /// `receipts`: every request the provider saw.
    pub async fn count(
        site: &Site,
        receipts: &[Receipt],
        calls: &[String],
    ) -> anyhow::Result<Self> {
        let first: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT m.id::text, s.call_id FROM messages m JOIN surveys s ON s.id = m.survey_id
              WHERE m.purpose = 'question'",
        )
        .fetch_all(&site.pool)
        .await?
        .into_iter()
        .collect();
        let known: HashSet<String> = sqlx::query_scalar("SELECT id::text FROM messages")
            .fetch_all(&site.pool)
            .await?
            .into_iter()
            .collect();
        let mut per_id: HashMap<&str, usize> = HashMap::new();
        for r in receipts.iter().filter(|r| r.accepted()) {
            *per_id.entry(&r.key).or_default() += 1;
        }
        let mut ids_per_call: HashMap<&str, usize> = HashMap::new();
        for id in per_id.keys() {
            if let Some(call) = first.get(*id) {
                *ids_per_call.entry(call).or_default() += 1;
            }
        }
        let reached = calls
            .iter()
            .filter(|c| ids_per_call.contains_key(c.as_str()))
            .count();
        Ok(Self {
            reached,
            lost: calls.len() - reached,
            duplicate: ids_per_call.values().filter(|&&n| n > 1).count(),
            resent: per_id.values().map(|n| n - 1).sum(),
            max_per_id: per_id.values().copied().max().unwrap_or(0),
            unknown: per_id.keys().filter(|id| !known.contains(**id)).count(),
            malformed: receipts.iter().filter(|r| !r.well_formed).count(),
        })
    }
}

/// Distinct phones that got an accepted request.
pub fn phones_reached(provider: &Provider) -> usize {
    provider
        .receipts()
        .iter()
        .filter(|r| r.accepted())
        .map(|r| r.to.clone())
        .collect::<HashSet<_>>()
        .len()
}

/// Polls until `done()` or `limit`; how long it took, or None at the limit.
pub async fn wait_for<F, Fut>(limit: Duration, mut done: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if done().await {
            return Some(started.elapsed());
        }
        if started.elapsed() >= limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Messages and surveys still on their way: nothing should be left once a scenario drains.
pub async fn in_flight(site: &Site) -> i64 {
    site.count(
        "SELECT (SELECT count(*) FROM messages WHERE status IN ('pending', 'sending', 'reconciling'))
              + (SELECT count(*) FROM surveys WHERE state IN ('scheduled', 'sending'))",
    )
    .await
}

/// `surveys` by state, for a failure's explanation.
pub async fn states(site: &Site) -> String {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT 'survey', state, count(*) FROM surveys GROUP BY state
         UNION ALL SELECT 'message', status, count(*) FROM messages GROUP BY status
         ORDER BY 1, 2",
    )
    .fetch_all(&site.pool)
    .await
    .unwrap_or_default();
    rows.iter()
        .map(|(kind, state, n)| format!("{kind}:{state}={n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// (survey, question, text) triples that reached the provider under more than one message
/// id: any question or follow-up a customer got twice.
pub async fn duplicate_questions(site: &Site, provider: &Provider) -> anyhow::Result<usize> {
    let messages: HashMap<String, (i64, String, String)> =
        sqlx::query_as::<_, (String, i64, String, String)>(
            "SELECT id::text, survey_id, coalesce(question_id, purpose), body FROM messages
              WHERE survey_id IS NOT NULL",
        )
        .fetch_all(&site.pool)
        .await?
        .into_iter()
        .map(|(id, survey, question, body)| (id, (survey, question, body)))
        .collect();
    let mut ids: HashMap<&(i64, String, String), HashSet<String>> = HashMap::new();
    for r in provider.receipts().into_iter().filter(|r| r.accepted()) {
        if let Some(what) = messages.get(&r.key) {
            ids.entry(what).or_default().insert(r.key);
        }
    }
    Ok(ids.values().filter(|keys| keys.len() > 1).count())
}

/// Everything a callback could change, as one comparable line.
pub async fn snapshot(site: &Site) -> String {
    sqlx::query_scalar(
        r#"SELECT concat_ws(' ',
             'inbound=' || (SELECT count(*) FROM inbound_messages),
             'answers=' || (SELECT count(*) FROM answers),
             'opt_outs=' || (SELECT count(*) FROM opt_outs),
             'outbox=' || (SELECT count(*) FROM outbox),
             'early=' || (SELECT count(*) FROM early_delivery_reports),
             'messages=' || (SELECT string_agg(status || ':' || n, ',' ORDER BY status)
                               FROM (SELECT status, count(*) n FROM messages GROUP BY 1) m),
             'surveys=' || (SELECT string_agg(state || ':' || q || ':' || n, ',' ORDER BY state, q)
                              FROM (SELECT state, question_index q, count(*) n
                                      FROM surveys GROUP BY 1, 2) s))"#,
    )
    .fetch_one(&site.pool)
    .await
    .unwrap_or_else(|e| format!("snapshot failed: {e}"))
}

/// `receipts` keyed by postcall's message id where the platform echoes none (Twilio's are
/// keyed by number and body): each is given the id of the message with that number and body.
pub async fn keyed_by_message(site: &Site, receipts: Vec<Receipt>) -> anyhow::Result<Vec<Receipt>> {
    let ids: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT to_phone || E'\\n' || body, id::text FROM messages",
    )
    .fetch_all(&site.pool)
    .await?
    .into_iter()
    .collect();
    Ok(receipts
        .into_iter()
        .map(|mut r| {
            if let Some(id) = ids.get(&r.key) {
                r.key = id.clone();
            }
            r
        })
        .collect())
}
