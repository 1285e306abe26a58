//! Three replicas on one queue and one database, aggregating every second, while events
//! flow and customers answer the first question through one replica's webhook or another:
//! three in ten once it arrived, four in ten faster than the provider's own response
//! reaches the worker (the provider reports the SMS delivered and passes the answer on
//! before it answers the send). Nothing is sent twice — neither a first question nor a
//! follow-up — every tick is aggregated once, the scores agree with the rows they count,
//! and every sent survey has its sent time and reply deadline.

use std::{collections::HashSet, time::Duration};

use futures_util::StreamExt;

use super::{calls, drain, publish, start_workers, stop_workers};
use crate::{
    customer::{Customers, FIRST_QUESTION},
    lab::Lab,
    provider::{Early, Provider},
    publisher::phone,
    report::Report,
    tally::{self, FirstSms},
};

const EVENTS: u32 = 3_000;

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("replicas").await?;
    let provider = Provider::start().await?;
    let settings = [
        ("POSTCALL__AGGREGATION__SCHEDULE", "* * * * * *"),
        // The double answers a send only once the worker has taken its early callbacks,
        // which a real platform does not wait for. On a machine slowed by other work (two
        // busy loops on its two cores are enough) those callbacks take the send past the
        // 10 s default, and a send that times out is rightly sent again under its
        // idempotency key: a resend this scenario would count against the replicas. Still
        // well under the 60 s lease.
        ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "30"),
        ("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "200"),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
            "1000",
        ),
    ];
    let names = ["replica1", "replica2", "replica3"];
    let mut workers = start_workers(&site, &provider, &names, &settings, report).await?;
    let (calls, events) = calls("replicas", 6, EVENTS, |_| None);
    let bases: Vec<String> = workers.iter().map(|w| w.base.clone()).collect();
    provider.call_back_early(Early {
        bases: bases.clone(),
        who: |to| to.ends_with(['0', '3', '6', '9']),
        reply: "1",
    });
    let answering: Vec<String> = (0..EVENTS)
        .map(|i| phone(6, i))
        .filter(|p| p.ends_with(['1', '4', '7']))
        .collect();
    let publishing = publish(&site, &events, 200.0, Duration::from_secs(60));
    let replying = reply_as_asked(&provider, &bases, &answering);
    let (published, replied) = tokio::join!(publishing, replying);
    published?;
    let (early, early_refused) = provider.early_made();
    let replied = replied? + early / 2;

    let (reached, settled) = drain(&site, &provider, EVENTS as usize).await;
    // A tick after the last change has folded everything in.
    let folded = tally::wait_for(Duration::from_secs(30), || async {
        site.count("SELECT count(*) FROM score_changes").await == 0
    })
    .await;
    let first = FirstSms::count(&site, &provider.receipts(), &calls).await?;
    let twice = tally::duplicate_questions(&site, &provider).await?;
    let followed_up = site
        .count(
            "SELECT count(DISTINCT survey_id) FROM messages
              WHERE purpose = 'follow_up' AND status IN ('queued', 'sent', 'delivered')",
        )
        .await;
    let once_per_tick = site
        .count(
            "SELECT count(*) - count(DISTINCT scheduled_for) FROM score_runs
              WHERE scheduled_for IS NOT NULL",
        )
        .await;
    let runs = site
        .count("SELECT count(*) FROM score_runs WHERE scheduled_for IS NOT NULL")
        .await;
    let aggregators = site
        .count("SELECT count(DISTINCT replica) FROM score_runs")
        .await;
    let mismatch = score_mismatch(&site).await;
    let unsent = site.count(UNSENT_OR_ENDLESS).await;
    let sent_by: Vec<(i64,)> = sqlx::query_as(
        "SELECT count(*) FROM messages WHERE provider_message_id IS NOT NULL
          GROUP BY leased_by ORDER BY 1 DESC",
    )
    .fetch_all(&site.pool)
    .await?;
    let sent_by: Vec<String> = sent_by.iter().map(|(n,)| n.to_string()).collect();
    stop_workers(&mut workers, report).await;

    report
        .show("events", EVENTS)
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .zero("resent", first.resent)
        .zero("duplicate_followups", twice)
        .show("replies", replied)
        .show("early_callbacks", early)
        .zero("early_refused", early_refused)
        .check(
            early_refused == 0,
            format!("early callbacks answered {:?}", provider.early_refusals()),
        )
        .zero("unsent_or_endless", unsent)
        .check(
            followed_up == replied as i64,
            format!("{replied} answers but {followed_up} next questions"),
        )
        .show("sent_by", sent_by.join("/"))
        .show("ticks", runs)
        .show("aggregators", aggregators)
        .zero("duplicate_ticks", once_per_tick)
        .zero("score_mismatch", mismatch.len())
        .check(mismatch.is_empty(), mismatch.join(", "))
        .check(runs >= 5, format!("only {runs} aggregation ticks"))
        .check(
            reached.is_some() && settled.is_some() && folded.is_some(),
            format!("did not drain: {}", tally::states(&site).await),
        );
    Ok(())
}

/// Answers "1" for each phone in `answering` once its first question arrived, through the
/// replicas in turn; returns how many answered.
async fn reply_as_asked(
    provider: &Provider,
    bases: &[String],
    answering: &[String],
) -> anyhow::Result<usize> {
    let customers = Customers::new();
    let waiting: HashSet<&str> = answering.iter().map(String::as_str).collect();
    let mut done: HashSet<String> = HashSet::new();
    let started = std::time::Instant::now();
    while done.len() < waiting.len() && started.elapsed() < Duration::from_secs(120) {
        let asked: Vec<String> = provider
            .receipts()
            .into_iter()
            .filter(|r| r.accepted() && r.body.contains(FIRST_QUESTION))
            .map(|r| r.to)
            .filter(|to| waiting.contains(to.as_str()) && !done.contains(to))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let offset = done.len();
        let answers = asked
            .iter()
            .enumerate()
            .map(|(i, phone)| customers.reply(&bases[(offset + i) % bases.len()], phone, "1"));
        let answers = futures_util::stream::iter(answers).buffer_unordered(8);
        for status in answers.collect::<Vec<_>>().await {
            let status = status?;
            anyhow::ensure!(status.is_success(), "a reply was answered {status}");
        }
        done.extend(asked);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(done.len())
}

/// Surveys whose first question was accepted but that have no sent time (they count in no
/// score), or that are open with no real reply deadline (they never expire).
const UNSENT_OR_ENDLESS: &str = "SELECT count(*) FROM surveys s
  WHERE (s.sent_at IS NULL AND EXISTS (SELECT 1 FROM messages m WHERE m.survey_id = s.id
           AND m.purpose = 'question' AND m.status IN ('queued', 'sent', 'delivered', 'undelivered')))
     OR (s.state = 'open' AND (s.expires_at IS NULL OR s.expires_at > now() + interval '30 days'))";

/// Score cells against the rows they summarise: surveys sent and first answers.
async fn score_mismatch(site: &crate::lab::Site) -> Vec<String> {
    let pairs = [
        (
            "sent",
            "SELECT coalesce(sum(sent), 0)::bigint FROM score_cells",
            "SELECT count(DISTINCT survey_id) FROM messages WHERE purpose = 'question'
               AND status IN ('queued', 'sent', 'delivered', 'undelivered')",
        ),
        (
            "delivered",
            "SELECT coalesce(sum(delivered), 0)::bigint FROM score_cells",
            "SELECT count(DISTINCT survey_id) FROM messages WHERE purpose = 'question'
               AND status = 'delivered'",
        ),
        (
            "fcr_n",
            "SELECT coalesce(sum(fcr_n), 0)::bigint FROM score_cells",
            "SELECT count(*) FROM answers WHERE question_id = 'resolved' AND NOT late",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, cells, rows) in pairs {
        let (c, r) = (site.count(cells).await, site.count(rows).await);
        if c != r {
            wrong.push(format!("{name}: cells {c}, rows {r}"));
        }
    }
    wrong
}
