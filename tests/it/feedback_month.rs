//! A generated month of answered surveys for the feedback and follow-up tests. Calls and
//! open surveys are written directly; every reply is then sent as a signed SMS callback, so
//! the real reply paths store the answers and announce the detractors (which opens their
//! cases). What each survey must show — its comment, its detractor reasons — is worked out
//! here from the replies, independently of the service's SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use futures_util::{StreamExt, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::Response;
use serde_json::Value;

use crate::{
    conversation::sms_reply_from,
    helpers::{Names, TestApp},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

pub const TOKEN: &str = "feedb4ck-t0ken-Qz7Lm2Vx9Rc4Tn8";
pub const AGENTS: [&str; 3] = ["a-li", "a-wang", "a-zhang"];
pub const QUEUES: [&str; 2] = ["payment", "refund"];
/// Written as customers write them, none about stopping anything.
const COMMENTS: [&str; 4] = [
    "等了很久才接通",
    "客服态度很好，谢谢",
    "没解决，还是扣款失败",
    "the app still crashes",
];

#[derive(Debug, Clone)]
pub struct Planned {
    pub call_id: String,
    pub phone: String,
    pub agent: &'static str,
    pub queue: &'static str,
    pub ended_at: DateTime<Utc>,
    /// In order: resolved (是/否), satisfaction 1–5, recommend 0–10, the comment; a
    /// customer may stop after any of them. A score may come with words after it (`4分
    /// 等了很久`), a remark.
    pub replies: Vec<String>,
}

impl Planned {
    /// The detractor reasons its replies give, in the order given (DESIGN.md §5: fcr when
    /// not resolved, csat 1–2, nps 0–6).
    pub fn reasons(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.replies.first().is_some_and(|r| r == "否") {
            out.push("fcr");
        }
        if self.replies.get(1).is_some_and(|r| score(r) <= 2) {
            out.push("csat");
        }
        if self.replies.get(2).is_some_and(|r| score(r) <= 6) {
            out.push("nps");
        }
        out
    }

    pub fn comment(&self) -> Option<&str> {
        self.replies.get(3).map(String::as_str)
    }

    /// An answer (not the comment) is more than the bare 是, 否 or number.
    pub fn remark(&self) -> bool {
        self.replies
            .iter()
            .take(3)
            .any(|r| !(r == "是" || r == "否" || r.chars().all(|c| c.is_ascii_digit())))
    }

    pub fn is_feedback(&self) -> bool {
        self.comment().is_some() || !self.reasons().is_empty() || self.remark()
    }

    /// The call's local day, as the scores and the feedback list count it.
    pub fn day(&self) -> NaiveDate {
        self.ended_at.with_timezone(&Shanghai).date_naive()
    }
}

/// The number a score reply starts with.
fn score(reply: &str) -> u8 {
    let digits: String = reply.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

pub struct Month {
    pub surveys: Vec<Planned>,
}

impl Month {
    /// `n` surveys ending at any second of November 2026 (Shanghai); every tenth ends at
    /// the same instant as the one before it, so the list's order needs its tie-break.
    /// `batch` keeps call ids and phones apart between months added to one database.
    pub fn generate(n: usize, batch: u32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let start = Shanghai
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let mut surveys: Vec<Planned> = Vec::with_capacity(n);
        for i in 0..n {
            let ended_at = match surveys.last() {
                Some(previous) if i % 10 == 9 => previous.ended_at,
                _ => start + Duration::seconds(rng.random_range(0..30 * 86_400)),
            };
            surveys.push(Planned {
                call_id: format!("fb-{batch}-{i}"),
                phone: format!("+86137{batch:03}{i:05}"),
                agent: AGENTS[rng.random_range(0..AGENTS.len())],
                queue: QUEUES[rng.random_range(0..QUEUES.len())],
                ended_at,
                replies: replies(&mut rng),
            });
        }
        Self { surveys }
    }

    /// Writes each call and its survey, open since an hour ago and for a day more.
    pub async fn insert(&self, app: &TestApp) {
        for s in &self.surveys {
            sqlx::query(
                "WITH c AS (
                     INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at,
                                        answered_at, ended_at, disposition, talk_seconds,
                                        decision, event)
                     VALUES ($1, $2, $3, $4, $5 - interval '5 minutes', $5 - interval '4 minutes',
                             $5, 'completed', 240, 'scheduled', '{}'::jsonb)
                 )
                 INSERT INTO surveys (call_id, customer_phone, language, timezone, state, send_at,
                                      sent_at, expires_at)
                 VALUES ($1, $2, 'zh-CN', 'Asia/Shanghai', 'open', now() - interval '1 hour',
                         now() - interval '1 hour', now() + interval '1 day')",
            )
            .bind(&s.call_id)
            .bind(&s.phone)
            .bind(s.agent)
            .bind(s.queue)
            .bind(s.ended_at)
            .execute(&app.pool)
            .await
            .unwrap();
        }
    }

    /// Sends every survey's replies, in order per survey, several surveys at a time.
    pub async fn reply(&self, app: &TestApp) {
        stream::iter(&self.surveys)
            .for_each_concurrent(4, |s| async move {
                for (n, text) in s.replies.iter().enumerate() {
                    let id = format!("{}-r{n}", s.call_id);
                    let status =
                        sms_reply_from(app, &s.phone, &format!("wh-{id}"), &id, text).await;
                    assert_eq!(status, 204, "{} reply {n} {text:?}", s.call_id);
                }
            })
            .await;
    }

    pub async fn insert_and_reply(&self, app: &TestApp) {
        self.insert(app).await;
        self.reply(app).await;
    }

    pub fn detractors(&self) -> impl Iterator<Item = &Planned> {
        self.surveys.iter().filter(|s| !s.reasons().is_empty())
    }

    pub fn by_call(&self) -> BTreeMap<&str, &Planned> {
        self.surveys
            .iter()
            .map(|s| (s.call_id.as_str(), s))
            .collect()
    }
}

fn replies(rng: &mut StdRng) -> Vec<String> {
    let mut out = vec![if rng.random_bool(0.7) { "是" } else { "否" }.to_owned()];
    if rng.random_bool(0.9) {
        out.push(rng.random_range(1..=5u8).to_string());
        if rng.random_bool(0.9) {
            out.push(rng.random_range(0..=10u8).to_string());
            if rng.random_bool(0.6) {
                out.push(COMMENTS[rng.random_range(0..COMMENTS.len())].to_owned());
            }
        }
    }
    out
}

/// A worker that takes replies (the webhook provider) and serves the API with [`TOKEN`];
/// nothing is sent or aggregated. The provider double stays up as long as the worker.
pub async fn spawn() -> (TestApp, Provider) {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let mut env = webhook_env(&provider.uri());
    for (k, v) in [
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__API__TOKEN", TOKEN),
    ] {
        env.push((k.into(), v.into()));
    }
    (TestApp::spawn_env(Names::new(), &env).await, provider)
}

pub async fn get(app: &TestApp, path: &str) -> Response {
    reqwest::Client::new()
        .get(format!("{}{path}", app.http))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = get(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Every item of the feedback list for `query`, following `next_cursor` to the end.
pub async fn all_feedback(app: &TestApp, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = get_json(app, &format!("/api/v1/feedback?limit=200&{query}{after}")).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}
