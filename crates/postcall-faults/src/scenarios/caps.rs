//! Per-number caps under load, against a platform enforcing its caps itself, postcall set to
//! the same: Tencent's defaults (2 SMS a number a Beijing day, the same content once in
//! 30 s; `LimitExceeded.*`, postcall on its defaults), or Aliyun's kind of cap, tightened to
//! 2 SMS a number in any 24 hours (`isv.BUSINESS_LIMIT_CONTROL`; Aliyun's default 50 is out
//! of a short run's reach). Customers answer
//! everything as soon as each question arrives, through either replica: some one answer at
//! a time, some two at once (ahead of the second question), and some of them get a second
//! call once their first survey ended; one replica is killed with SIGKILL mid-flow.
//!
//! The figure: no number was asked for more SMS in a day than the cap (`over_cap`), the
//! platform never had to refuse one (`cap_refused`: postcall stops before), no survey lost;
//! each survey ends at the cap (`provider_cap`) with both answers counted in the scores, and
//! each second call's survey waits for the cap to free (Beijing midnight, or 24 h after its
//! first SMS).

use std::{collections::HashSet, time::Duration};

use chrono::TimeDelta;

use super::{
    LOOKUP_SOON, calls, config_args,
    platform::{Platform, Running},
    publish, start_replicas, stop_workers,
};
use crate::{
    lab::{Lab, Site},
    ledger::{Limits, Reply, Window},
    publisher::phone,
    report::Report,
    tally::{self, FirstSms},
    worker::Worker,
};

const N: u32 = 120;
const PREFIX: u32 = 4;
/// SMS a number a day, the platform's and postcall's: Tencent's default per Beijing day,
/// and the Aliyun run's per 24 hours.
const PER_DAY: usize = 2;

/// One platform's caps, as its double enforces them and postcall is set to count them.
struct Rules {
    name: &'static str,
    limits: Limits,
    window: Window,
    /// postcall's settings beyond its defaults for the platform.
    settings: &'static [(&'static str, &'static str)],
    /// Whether the platform refuses the same content within 30 s (Tencent).
    same_content: bool,
    /// Second calls' surveys, waiting for the day's cap to free.
    deferred: &'static str,
    until: &'static str,
}

impl Rules {
    fn of(platform: Platform) -> anyhow::Result<Self> {
        Ok(match platform {
            Platform::Tencent => Self {
                name: "caps",
                limits: Limits::TENCENT,
                window: Window::NaturalDay(chrono_tz::Asia::Shanghai),
                settings: &[],
                same_content: true,
                deferred: WAITING_FOR_MIDNIGHT,
                until: "Beijing midnight",
            },
            Platform::Aliyun => Self {
                name: "caps_aliyun",
                limits: Limits::rolling_day(PER_DAY),
                window: Window::Rolling(TimeDelta::days(1)),
                settings: &[("POSTCALL__PROVIDER__ALIYUN__CAPS__PER_ROLLING_DAY", "2")],
                same_content: false,
                deferred: WAITING_A_DAY,
                until: "24 h after their first SMS",
            },
            Platform::Twilio => anyhow::bail!("Twilio documents no per-number cap to play"),
        })
    }
}

/// How the customer on the `i`-th number answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Customer {
    /// One answer per question, as each arrives.
    OneByOne,
    /// Both first answers at once on the first question, ahead of the second; any later
    /// question one by one.
    Ahead,
    /// One by one; a second call of theirs comes once the first survey ended.
    CallsAgain,
}

impl Customer {
    fn of(i: u32) -> Self {
        match i % 4 {
            1 => Self::Ahead,
            3 => Self::CallsAgain,
            _ => Self::OneByOne,
        }
    }
}

/// The answer to each question's template (templates_toml's zh-CN ids, `SMS_` before them
/// on Aliyun).
fn answer(content: &str) -> Option<&'static str> {
    match content.split(':').next()?.trim_start_matches("SMS_") {
        "5000" => Some("1"),
        "5001" => Some("5"),
        "5002" => Some("9"),
        "5003" => Some("很好"),
        _ => None,
    }
}

pub async fn run(lab: &Lab, report: &mut Report, platform: Platform) -> anyhow::Result<()> {
    let rules = Rules::of(platform)?;
    let site = lab.site(rules.name).await?;
    let double = Running::start(platform).await?;
    double.ledger().limit(rules.limits);
    let mut workers = start(&site, &double, &rules, report).await?;
    let bases: Vec<String> = workers.iter().map(|w| w.base.clone()).collect();

    let (calls, events) = calls("caps", PREFIX, N, |_| None);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answering = answer_as_asked(&double, &bases, &stop);
    let flowing = async {
        publish(&site, &events, 200.0, Duration::from_secs(60)).await?;
        // Mid-flow: first questions and answers under way on both replicas.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        workers[0].restart()?;
        workers[0]
            .ready(&reqwest::Client::new(), Duration::from_secs(60))
            .await?;
        // Every survey ends at the cap once its customer answered twice.
        let ended = tally::wait_for(Duration::from_secs(90), || async {
            site.count(ENDED_AT_CAP).await == i64::from(N)
        })
        .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        anyhow::Ok(ended)
    };
    let (ended, replies) = tokio::join!(flowing, answering);
    let (ended, replies) = (ended?, replies?);

    // Their second calls: the day's SMS are spent, so each first question waits.
    let again: Vec<u32> = (0..N)
        .filter(|&i| Customer::of(i) == Customer::CallsAgain)
        .collect();
    // Ended now, after their first SMS: Aliyun's 24 h from that SMS still fall within the
    // call's survey life (`stale_after_hours`, 24), so the survey waits rather than drops.
    let ended_at = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let second: Vec<_> = again
        .iter()
        .map(|&i| {
            crate::publisher::event(
                &format!("caps-again-{i}"),
                &phone(PREFIX, i),
                ended_at,
                None,
            )
        })
        .collect();
    publish(&site, &second, 200.0, Duration::from_secs(60)).await?;
    let deferred = tally::wait_for(Duration::from_secs(30), || async {
        site.count(rules.deferred).await == again.len() as i64
    })
    .await;
    let settled = tally::wait_for(Duration::from_secs(30), || async {
        site.count(MESSAGES_IN_FLIGHT).await == 0
            && site.count("SELECT count(*) FROM score_changes").await == 0
    })
    .await;

    let ledger = double.ledger();
    let first = FirstSms::count(&site, &ledger.receipts(), &calls).await?;
    let answers = site.count("SELECT count(*) FROM answers").await;
    let late = site.count("SELECT count(*) FROM answers WHERE late").await;
    let counted = site
        .count("SELECT coalesce(sum(fcr_n + csat_n + nps_n), 0)::bigint FROM score_cells")
        .await;
    let both = site.count(BOTH_ANSWERS).await;
    let at_cap = site.count(ENDED_AT_CAP).await;
    let waiting = site.count(rules.deferred).await;
    let refused = ledger.refused();
    stop_workers(&mut workers, report).await;

    let over_cap = ledger.over_cap(PER_DAY, rules.window);
    report
        .show("surveys", N as usize + again.len())
        .show("sms", ledger.taken().len())
        .show("replies", replies)
        .show("answers", answers)
        .show("late", late)
        .show("ended_at_cap", at_cap)
        .show("deferred", waiting)
        .show("killed", 1)
        .zero("over_cap", over_cap)
        .zero("cap_refused", ledger.capped().len());
    if rules.same_content {
        report.zero("same_content_30s", ledger.same_content_within(30));
    }
    report
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .zero("refused", refused.len())
        .check(refused.is_empty(), format!("refused: {refused:?}"))
        .check(
            ended.is_some() && at_cap == i64::from(N),
            format!("not all ended at the cap: {}", tally::states(&site).await),
        )
        .check(
            both == i64::from(N) && counted == answers - late && settled.is_some(),
            format!(
                "{both} of {N} surveys have both first answers; {answers} answers, {late} late, \
                 {counted} counted in the scores"
            ),
        )
        .check(
            deferred.is_some(),
            format!(
                "{waiting} of {} second calls wait for {}: {}",
                again.len(),
                rules.until,
                tally::states(&site).await
            ),
        );
    Ok(())
}

/// Two replicas on postcall's caps for the platform (its defaults, and `rules`' settings),
/// aggregating every second; second calls within days of the first get a survey.
async fn start(
    site: &Site,
    double: &Running,
    rules: &Rules,
    report: &mut Report,
) -> anyhow::Result<Vec<Worker>> {
    let args = config_args(site, double.templates())?;
    let settings = [
        LOOKUP_SOON.as_slice(),
        rules.settings,
        &[
            ("POSTCALL__ELIGIBILITY__FREQUENCY_CAP_DAYS", "0"),
            ("POSTCALL__AGGREGATION__SCHEDULE", "* * * * * *"),
            ("POSTCALL__DISPATCH__LEASE_SECONDS", "10"),
        ],
    ]
    .concat();
    let names = ["worker-a", "worker-b"];
    start_replicas(site, double.env(), &args, &names, &settings, report).await
}

/// Answers every question the platform took, through the replicas in turn (the other one
/// while one restarts), until `stop`; how many replies it sent.
async fn answer_as_asked(
    double: &Running,
    bases: &[String],
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()?;
    let index = |p: &str| -> u32 { p[p.len() - 7..].parse().unwrap_or(0) };
    let mut answered: HashSet<String> = HashSet::new();
    let (mut replies, mut pushes) = (0, 0);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for sms in double.ledger().taken() {
            let Some(text) = answer(&sms.content) else {
                continue;
            };
            if !answered.insert(sms.key.clone()) {
                continue;
            }
            let customer = Customer::of(index(&sms.phone));
            let texts: &[&str] = match (customer, text) {
                (Customer::Ahead, "1") => &["1", "5"],
                // Already answered with the first.
                (Customer::Ahead, "5") => &[],
                _ => &[text],
            };
            for reply in double.replies(&sms.phone, texts)? {
                let base = &bases[pushes % bases.len()];
                let other = &bases[(pushes + 1) % bases.len()];
                pass_on(&client, [base, other], &reply).await?;
                pushes += 1;
            }
            replies += texts.len();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(replies)
}

/// A reply passed on to the first replica that takes it (one may be restarting).
async fn pass_on(
    client: &reqwest::Client,
    bases: [&String; 2],
    reply: &Reply,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(60) {
        for base in bases {
            let posted = client
                .post(format!("{base}{}", reply.path))
                .json(&reply.body)
                .send()
                .await;
            match posted.map(|r| r.status()) {
                Ok(status) if status.is_success() => return Ok(()),
                Ok(status) if status.is_client_error() => {
                    anyhow::bail!("a reply was answered {status}")
                }
                Ok(status) => last = status.to_string(),
                Err(e) => last = format!("{e:#}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!("no replica took a reply: {last}")
}

/// Surveys with their first two answers, in time.
const BOTH_ANSWERS: &str = "SELECT count(*) FROM (SELECT survey_id FROM answers
  WHERE NOT late AND question_id IN ('resolved', 'satisfaction')
  GROUP BY survey_id HAVING count(DISTINCT question_id) = 2) s";

const ENDED_AT_CAP: &str =
    "SELECT count(*) FROM surveys WHERE state = 'expired' AND end_reason = 'provider_cap'";

/// Second calls' surveys, scheduled for a later Beijing day.
const WAITING_FOR_MIDNIGHT: &str = "SELECT count(*) FROM surveys
  WHERE state = 'scheduled'
    AND (send_at AT TIME ZONE 'Asia/Shanghai')::date > (now() AT TIME ZONE 'Asia/Shanghai')::date";

const MESSAGES_IN_FLIGHT: &str =
    "SELECT count(*) FROM messages WHERE status IN ('pending', 'sending', 'reconciling')";

/// Second calls' surveys, scheduled past the 24 h after their number's first SMS (all sent
/// within the last minutes).
const WAITING_A_DAY: &str = "SELECT count(*) FROM surveys
  WHERE state = 'scheduled' AND send_at > now() + interval '23 hours'";
