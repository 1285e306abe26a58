//! The provider misbehaves, a different way for each group of customers: 500s then success,
//! 429 with Retry-After, a hang past the request timeout, slow answers (inside and past the
//! timeout), a permanent 503, a 400, a permanent hang. Every survey ends `open` (sent) or
//! `failed` with the provider's reason on its message; none is left `sending`; retries wait
//! at least Retry-After; a refused message is not retried, a failing one exactly
//! `max_attempts` times.

use std::{collections::HashMap, time::Duration};

use super::{calls, publish, start_worker, stop_workers};
use crate::{
    lab::Lab,
    provider::{Fault, Provider, Receipt},
    report::Report,
    tally::{self, FirstSms},
};

const PER_KIND: u32 = 25;
const MAX_ATTEMPTS: i32 = 4;
const RETRY_AFTER: u64 = 3;

/// What the provider does to each group, and how its surveys must end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Fine,
    TwoServerErrors,
    RateLimited,
    HangOnce,
    Slow,
    SlowPastTimeout,
    AlwaysUnavailable,
    Refused,
    AlwaysHang,
}

const KINDS: [Kind; 9] = [
    Kind::Fine,
    Kind::TwoServerErrors,
    Kind::RateLimited,
    Kind::HangOnce,
    Kind::Slow,
    Kind::SlowPastTimeout,
    Kind::AlwaysUnavailable,
    Kind::Refused,
    Kind::AlwaysHang,
];

impl Kind {
    fn of(phone: &str) -> Kind {
        let n: usize = phone[phone.len() - 7..].parse().unwrap_or(0);
        KINDS[n % KINDS.len()]
    }

    fn fault(self, attempt: u32) -> Fault {
        match (self, attempt) {
            (Kind::TwoServerErrors, 1..=2) => Fault::Status(500),
            (Kind::RateLimited, 1) => Fault::TooMany {
                retry_after: RETRY_AFTER,
            },
            (Kind::HangOnce, 1) | (Kind::AlwaysHang, _) => Fault::Hang,
            (Kind::Slow, _) => Fault::Slow(Duration::from_millis(1000)),
            // Sent, but the worker has given up waiting: it retries with the same key.
            (Kind::SlowPastTimeout, 1) => Fault::Slow(Duration::from_millis(3000)),
            (Kind::AlwaysUnavailable, _) => Fault::Status(503),
            (Kind::Refused, _) => Fault::Status(400),
            _ => Fault::None,
        }
    }

    fn should_fail(self) -> bool {
        matches!(
            self,
            Kind::AlwaysUnavailable | Kind::Refused | Kind::AlwaysHang
        )
    }

    fn attempts(self) -> Option<i32> {
        match self {
            Kind::Refused => Some(1),
            Kind::AlwaysUnavailable | Kind::AlwaysHang => Some(MAX_ATTEMPTS),
            _ => None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct End {
    phone: String,
    state: String,
    attempts: Option<i32>,
    error_message: Option<String>,
}

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("provider_faults").await?;
    let provider = Provider::start().await?;
    provider.plan(|r| Kind::of(r.to).fault(r.attempt));
    let attempts = MAX_ATTEMPTS.to_string();
    let settings = [
        ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "2"),
        ("POSTCALL__DISPATCH__LEASE_SECONDS", "15"),
        ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1"),
        ("POSTCALL__DISPATCH__RETRY__MAX_DELAY_SECONDS", "4"),
        ("POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS", attempts.as_str()),
    ];
    let mut w = start_worker(&site, &provider, &settings, report).await?;

    let n = PER_KIND * KINDS.len() as u32;
    let (calls, events) = calls("faults", 3, n, |_| None);
    publish(&site, &events, 300.0, Duration::from_secs(60)).await?;

    let settled = tally::wait_for(Duration::from_secs(150), || async {
        site.count("SELECT count(*) FROM surveys").await == i64::from(n)
            && tally::in_flight(&site).await == 0
    })
    .await;
    let ends: Vec<End> = sqlx::query_as(
        "SELECT s.customer_phone AS phone, s.state, m.attempts, m.error_message
           FROM surveys s LEFT JOIN messages m ON m.survey_id = s.id AND m.purpose = 'question'",
    )
    .fetch_all(&site.pool)
    .await?;
    let sent = ends.iter().filter(|e| e.state == "open").count();
    let failed = ends.iter().filter(|e| e.state == "failed").count();
    let wrong: Vec<String> = ends
        .iter()
        .filter(|e| {
            let kind = Kind::of(&e.phone);
            let expected = if kind.should_fail() { "failed" } else { "open" };
            e.state != expected || kind.attempts().is_some_and(|a| e.attempts != Some(a))
        })
        .take(5)
        .map(|e| format!("{:?}:{}@{:?}", Kind::of(&e.phone), e.state, e.attempts))
        .collect();
    let no_reason = ends
        .iter()
        .filter(|e| e.state == "failed" && e.error_message.as_deref().unwrap_or("").is_empty())
        .count();
    let expected_sent: Vec<String> = calls
        .iter()
        .enumerate()
        .filter(|(i, _)| !KINDS[i % KINDS.len()].should_fail())
        .map(|(_, c)| c.clone())
        .collect();
    let first = FirstSms::count(&site, &provider.receipts(), &expected_sent).await?;
    let receipts = provider.receipts();
    let early = early_retries(&receipts);
    stop_workers(std::slice::from_mut(&mut w), report).await;

    report
        .show("surveys", ends.len())
        .show("sent", sent)
        .show("failed", failed)
        .zero("stuck", tally::in_flight(&site).await)
        .zero("wrong_end", wrong.len())
        .check(
            wrong.is_empty(),
            format!("ended wrongly: {}", wrong.join(" ")),
        )
        .zero("no_reason", no_reason)
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .show("resent", first.resent)
        .zero("early_retry", early)
        .zero("malformed", first.malformed)
        .show("requests", receipts.len())
        .check(
            ends.len() == n as usize && settled.is_some(),
            format!("did not settle: {}", tally::states(&site).await),
        );
    Ok(())
}

/// Retries of a 429 that came sooner than its Retry-After.
fn early_retries(receipts: &[Receipt]) -> usize {
    let mut last: HashMap<&str, &Receipt> = HashMap::new();
    let mut early = 0;
    for r in receipts {
        if let Some(previous) = last.get(r.key.as_str())
            && let Fault::TooMany { retry_after } = previous.fault
            && r.at.duration_since(previous.at) < Duration::from_secs(retry_after)
        {
            early += 1;
        }
        last.insert(&r.key, r);
    }
    early
}
