//! Quiet hours and opt-outs under load, a kill -9, provider faults, a RabbitMQ restart and
//! a PostgreSQL restart, on two replicas.
//!
//! Quiet hours are set to begin at the next whole minute (UTC clock) at least 25 s away,
//! for six hours. Customers in three zones: Atlantic/Reykjavik (UTC+0) enters quiet hours
//! mid-scenario, Europe/Moscow (UTC+3) is in them throughout, America/Sao_Paulo (UTC−3) is
//! out of them throughout. Events keep arriving faster than the (default) rate limit sends,
//! so a backlog is waiting when the window opens. Meanwhile customers opt out by texting
//! "TD": some right after answering the first question (their next question is already on
//! its way), some before their call's event arrives. Before the window opens RabbitMQ is
//! stopped for a few seconds, then a replica is killed; PostgreSQL goes down just before
//! the window opens and comes back after, so the backlog held for quiet hours meets a
//! recovering worker. Customers' texts, like a provider's callbacks, are retried until the
//! worker takes them.
//!
//! Violations, from the provider's record: a first question that reached a customer more
//! than a second into their quiet hours, and any SMS but the confirmation that reached a
//! customer more than a second after their opt-out was acknowledged (committed).

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use rand::Rng;

use super::{
    calls,
    outage::{self, Service},
    publish, start_workers, stop_workers,
};
use crate::{
    customer::{Customers, FIRST_QUESTION},
    lab::{Lab, Site},
    provider::{Fault, Provider},
    publisher::phone,
    report::Report,
    tally,
};

/// How far into quiet hours, or past an opt-out, an SMS may land: the check happens just
/// before the request, which then takes milliseconds.
const TOLERANCE: Duration = Duration::from_secs(1);
const PER_SECOND: f64 = 45.0;
/// How long each service stays down.
const DOWN: Duration = Duration::from_secs(5);
/// How long a customer's text is retried while the worker cannot take it.
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Group {
    /// Out of quiet hours throughout: every survey is sent.
    Day,
    /// Enters quiet hours mid-scenario: sent before, deferred after.
    Edge,
    /// In quiet hours throughout: nothing is sent.
    Night,
    /// Day zone; answers the first question and at once opts out.
    AnswerThenStop,
    /// Day zone; opts out before the call's event arrives.
    StopFirst,
}

impl Group {
    fn zone(self) -> Tz {
        match self {
            Group::Edge => chrono_tz::Atlantic::Reykjavik,
            Group::Night => chrono_tz::Europe::Moscow,
            _ => chrono_tz::America::Sao_Paulo,
        }
    }
}

/// Which group customer `i` is in: most of the flow is day, edge and night in turn.
fn group(i: u32) -> Group {
    match i % 20 {
        0 => Group::AnswerThenStop,
        10 => Group::StopFirst,
        n if n % 3 == 0 => Group::Day,
        n if n % 3 == 1 => Group::Edge,
        _ => Group::Night,
    }
}

struct Window {
    start: NaiveTime,
    end: NaiveTime,
    opens: DateTime<Utc>,
}

impl Window {
    /// From the next whole UTC minute at least `lead` away, for six hours.
    fn next(lead: Duration) -> Self {
        let soon = Utc::now() + chrono::TimeDelta::from_std(lead).expect("small");
        let opens = soon
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .expect("valid")
            + chrono::TimeDelta::minutes(1);
        let start = opens.time();
        Self {
            start,
            end: start + chrono::TimeDelta::hours(6),
            opens,
        }
    }

    fn quiet(&self, at: DateTime<Utc>, zone: Tz) -> bool {
        let t = at.with_timezone(&zone).time();
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    fn hhmm(t: NaiveTime) -> String {
        t.format("%H:%M").to_string()
    }

    fn describe(&self) -> String {
        format!("{}-{}", Self::hhmm(self.start), Self::hhmm(self.end))
    }
}

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("quiet_optout").await?;
    let provider = Provider::start().await?;
    // Some first attempts fail: retries must respect the window too.
    provider.plan(|r| {
        let n: u32 = r.to[r.to.len() - 3..].parse().unwrap_or(0);
        match (n % 10, r.attempt) {
            (7, 1) => Fault::Status(500),
            (4, 1) => Fault::TooMany { retry_after: 1 },
            _ => Fault::None,
        }
    });
    let window = Window::next(Duration::from_secs(25));
    let mut workers = start_replicas(&site, &provider, &window, report).await?;
    let bases: Vec<String> = workers.iter().map(|w| w.base.clone()).collect();

    // The flow runs until ten seconds into the window.
    let before_window = (window.opens - Utc::now()).to_std()?;
    let t0 = Instant::now();
    let flow = before_window + Duration::from_secs(10);
    let n = (flow.as_secs_f64() * PER_SECOND) as u32;
    let customers = Customers::new();
    let stops: Mutex<HashMap<String, Instant>> = Mutex::default();
    for i in (0..n).filter(|&i| group(i) == Group::StopFirst) {
        stop(&customers, &bases[0], &phone(8, i), &stops).await?;
    }
    let (_, events) = calls("quiet", 8, n, |i| Some(group(i).zone().name()));
    let publishing = publish(&site, &events, PER_SECOND, Duration::from_secs(60));
    let answering = answer_then_stop(&provider, &customers, &bases, n, &stops, flow);
    let at =
        |fraction: f64| tokio::time::sleep_until((t0 + before_window.mul_f64(fraction)).into());
    let breaking = async {
        at(0.2).await;
        let rabbit = outage::restart(lab, Service::RabbitMq, DOWN).await?;
        at(0.5).await;
        workers[1].restart()?;
        // Down across the window's opening, up two seconds into it.
        tokio::time::sleep_until((t0 + before_window - DOWN + Duration::from_secs(2)).into()).await;
        let pg = outage::restart(lab, Service::Postgres, DOWN).await?;
        anyhow::Ok([rabbit, pg].map(|o| (o.up - o.down).as_secs_f64()))
    };
    let (published, answered, outages) = tokio::join!(publishing, answering, breaking);
    published?;
    let answered = answered?;
    let outages = outages?;

    let day: Vec<String> = (0..n)
        .filter(|&i| group(i) == Group::Day)
        .map(|i| phone(8, i))
        .collect();
    let drained = tally::wait_for(Duration::from_secs(120), || async {
        let reached = first_questions(&provider);
        day.iter().all(|p| reached.contains(p)) && due_now(&site).await == 0
    })
    .await;
    let verdict = Verdict::judge(&site, &provider, &window, &stops.into_inner().unwrap()).await?;
    let count = |g: Group| verdict.sent.get(&g).map_or(0, HashSet::len);
    let restarts: u32 = workers.iter().map(|w| w.starts - 1).sum();
    stop_workers(&mut workers, report).await;

    report
        .show("events", n)
        .show("window", window.describe())
        .show("day_sent", count(Group::Day))
        .show("edge_sent_before", count(Group::Edge))
        .show("deferred", site.count(DEFERRED).await)
        .zero("night_sent", count(Group::Night))
        .zero("stop_first_sent", count(Group::StopFirst))
        .show(
            "opt_outs",
            site.count("SELECT count(*) FROM opt_outs").await,
        )
        .show("answered_then_stopped", answered)
        .show("restarts", restarts)
        .show(
            "outages",
            format!("rabbitmq={:.1}s,postgres={:.1}s", outages[0], outages[1]),
        )
        .zero("quiet_violations", verdict.quiet_late.len())
        .check(
            verdict.quiet_late.is_empty(),
            format!("in quiet hours: {}", first_few(&verdict.quiet_late)),
        )
        .zero("optout_violations", verdict.after_stop.len())
        .check(
            verdict.after_stop.is_empty(),
            format!("after opting out: {}", first_few(&verdict.after_stop)),
        )
        .zero(
            "recorded_after_optout",
            site.count(RECORDED_AFTER_STOP).await,
        )
        .check(
            count(Group::Day) == day.len() && drained.is_some(),
            format!(
                "day customers sent {} of {}: {}",
                count(Group::Day),
                day.len(),
                tally::states(&site).await
            ),
        )
        .check(
            count(Group::Edge) > 0 && (count(Group::Edge) as u32) < n / 3,
            format!(
                "edge customers sent {}: the window did not cut the flow",
                count(Group::Edge)
            ),
        );
    Ok(())
}

/// Surveys waiting for the end of quiet hours: not yet started, or their first SMS held.
const DEFERRED: &str = "SELECT count(*) FROM surveys s
  WHERE (s.state = 'scheduled' AND s.send_at > now())
     OR (s.state = 'sending' AND EXISTS (SELECT 1 FROM messages m WHERE m.survey_id = s.id
           AND m.status = 'pending' AND m.next_attempt_at > now()))";

/// The worker's own record of SMS sent over a second after the phone opted out.
const RECORDED_AFTER_STOP: &str = "SELECT count(*) FROM messages m
  JOIN opt_outs o ON o.customer_phone = m.to_phone
 WHERE m.purpose <> 'opt_out_confirmation' AND m.sent_at > o.opted_out_at + interval '1 second'";

async fn start_replicas(
    site: &Site,
    provider: &Provider,
    window: &Window,
    report: &mut Report,
) -> anyhow::Result<Vec<crate::worker::Worker>> {
    let (start, end) = (Window::hhmm(window.start), Window::hhmm(window.end));
    let settings = [
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "true"),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__START", start.as_str()),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__END", end.as_str()),
        // Below the flow's rate: a backlog waits on the rate limiter when the window opens.
        ("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "10"),
        ("POSTCALL__DISPATCH__LEASE_SECONDS", "10"),
        ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "3"),
        ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1"),
        ("POSTCALL__DISPATCH__RETRY__MAX_DELAY_SECONDS", "2"),
    ];
    start_workers(site, provider, &["replica1", "replica2"], &settings, report).await
}

/// Phones whose first question reached them.
fn first_questions(provider: &Provider) -> HashSet<String> {
    provider
        .receipts()
        .into_iter()
        .filter(|r| r.accepted() && r.body.contains(FIRST_QUESTION))
        .map(|r| r.to)
        .collect()
}

/// What the provider's record shows.
struct Verdict {
    /// Phones that got their first question, by group.
    sent: HashMap<Group, HashSet<String>>,
    /// First questions more than TOLERANCE into the customer's quiet hours.
    quiet_late: Vec<String>,
    /// SMS (but the confirmation) more than TOLERANCE after the customer's opt-out.
    after_stop: Vec<String>,
}

impl Verdict {
    async fn judge(
        site: &Site,
        provider: &Provider,
        window: &Window,
        stops: &HashMap<String, Instant>,
    ) -> anyhow::Result<Self> {
        let purposes = purposes(site).await?;
        let mut verdict = Verdict {
            sent: HashMap::new(),
            quiet_late: Vec::new(),
            after_stop: Vec::new(),
        };
        for r in provider.receipts().iter().filter(|r| r.accepted()) {
            let g = group(r.to[r.to.len() - 7..].parse()?);
            let purpose = purposes.get(&r.key).map_or("?", String::as_str);
            if purpose == "question" {
                verdict.sent.entry(g).or_default().insert(r.to.clone());
                if window.quiet(r.wall - TOLERANCE, g.zone()) {
                    let at = r.wall.format("%H:%M:%S%.3f");
                    verdict.quiet_late.push(format!("{g:?}@{at}"));
                }
            }
            if let Some(stopped) = stops.get(&r.to)
                && r.at > *stopped + TOLERANCE
                && purpose != "opt_out_confirmation"
            {
                let after = r.at.duration_since(*stopped).as_secs_f64();
                verdict
                    .after_stop
                    .push(format!("{purpose} {after:.1}s after"));
            }
        }
        Ok(verdict)
    }
}

/// Opts `phone` out with "TD" and notes when that was acknowledged.
async fn stop(
    customers: &Customers,
    base: &str,
    phone: &str,
    stops: &Mutex<HashMap<String, Instant>>,
) -> anyhow::Result<()> {
    let status = customers
        .reply_until_taken(base, phone, "TD", PATIENCE)
        .await?;
    anyhow::ensure!(status.is_success(), "TD was answered {status}");
    stops
        .lock()
        .unwrap()
        .insert(phone.to_owned(), Instant::now());
    Ok(())
}

/// Customers of the AnswerThenStop group answer "1" as soon as their first question
/// arrives, and up to 8 s later text "TD". Returns how many did.
async fn answer_then_stop(
    provider: &Provider,
    customers: &Customers,
    bases: &[String],
    n: u32,
    stops: &Mutex<HashMap<String, Instant>>,
    flow: Duration,
) -> anyhow::Result<usize> {
    let waiting: HashSet<String> = (0..n)
        .filter(|&i| group(i) == Group::AnswerThenStop)
        .map(|i| phone(8, i))
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    let started = Instant::now();
    while done.len() < waiting.len() && started.elapsed() < flow + Duration::from_secs(60) {
        let asked: HashSet<String> = first_questions(provider)
            .into_iter()
            .filter(|to| waiting.contains(to) && !done.contains(to))
            .collect();
        let replies = asked.iter().enumerate().map(|(i, phone)| async move {
            let base = &bases[i % bases.len()];
            let status = customers
                .reply_until_taken(base, phone, "1", PATIENCE)
                .await?;
            anyhow::ensure!(status.is_success(), "an answer was answered {status}");
            // Some seconds later, while the next question may be on its way.
            let pause = rand::rng().random_range(0..8000);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            stop(customers, base, phone, stops).await
        });
        let results: Vec<_> = futures_util::stream::iter(replies)
            .buffer_unordered(32)
            .collect()
            .await;
        for result in results {
            result?;
        }
        done.extend(asked);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(done.len())
}

/// Work due now that has not been done: the scenario has drained when this is 0.
async fn due_now(site: &Site) -> i64 {
    site.count(
        "SELECT (SELECT count(*) FROM messages
                  WHERE status = 'sending' OR (status = 'pending' AND next_attempt_at <= now()))
              + (SELECT count(*) FROM surveys WHERE state = 'scheduled' AND send_at <= now())",
    )
    .await
}

async fn purposes(site: &Site) -> anyhow::Result<HashMap<String, String>> {
    Ok(
        sqlx::query_as::<_, (String, String)>("SELECT id::text, purpose FROM messages")
            .fetch_all(&site.pool)
            .await?
            .into_iter()
            .collect(),
    )
}

fn first_few(items: &[String]) -> String {
    let mut shown = items.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        shown.push_str(&format!(" … ({} in all)", items.len()));
    }
    shown
}
