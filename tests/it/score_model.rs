//! A generated month of surveys for the scores tests: what happens to each (sends, delivery
//! reports, answers, in stages), written to the database the way the worker writes it, and
//! the counts expected from it computed here, independently of the aggregation's SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use postcall::domain::scores::Tally;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::PgPool;
use uuid::Uuid;

/// One thing that happens to a survey; stages apply in order, a few at a time.
#[derive(Debug, Clone)]
pub enum Step {
    /// The call, its survey, and its first question (still `sending`).
    Create,
    /// The provider accepts the first question.
    Accept,
    /// The provider gives up on the first question: never sent.
    Fail,
    Deliver,
    /// A follow-up SMS the provider accepted.
    FollowUp {
        segments: i32,
    },
    Answer {
        question: &'static str,
        value: serde_json::Value,
    },
    /// After expiry: kept, counts for nothing.
    LateAnswer,
}

#[derive(Debug, Clone)]
pub struct Survey {
    pub call_id: String,
    pub phone: String,
    pub agent: String,
    pub queue: String,
    pub ended_at: DateTime<Utc>,
    pub wait_seconds: Option<f64>,
    pub first_segments: i32,
    /// (stage, step), stages non-decreasing.
    pub steps: Vec<(usize, Step)>,
}

pub struct Model {
    pub surveys: Vec<Survey>,
    pub stages: usize,
}

const AGENTS: [&str; 5] = ["a-li", "a-wang", "a-zhang", "a-chen", "a-new"];
const QUEUES: [&str; 3] = ["payment", "refund", "account"];

impl Model {
    /// `n` surveys over the 30 days from `first_day` (Shanghai), their steps spread over
    /// `stages` stages. One agent ("a-new") gets only a handful.
    pub fn month(n: usize, first_day: NaiveDate, stages: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let start = Shanghai
            .from_local_datetime(&first_day.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        let surveys = (0..n)
            .map(|i| {
                let agent = if i % 97 == 0 {
                    AGENTS[4]
                } else {
                    AGENTS[rng.random_range(0..4)]
                };
                let queue = QUEUES[rng.random_range(0..QUEUES.len())];
                // Any second of the month, so calls near midnight test the day boundary.
                let ended_at = start + Duration::seconds(rng.random_range(0..30 * 86_400));
                let wait_seconds = rng
                    .random_bool(0.9)
                    .then(|| f64::from(rng.random_range(0..600_000)) / 1000.0);
                Survey {
                    call_id: format!("score-call-{i}"),
                    phone: format!("+86138{i:08}"),
                    agent: agent.into(),
                    queue: queue.into(),
                    ended_at,
                    wait_seconds,
                    first_segments: rng.random_range(1..=2),
                    steps: steps(&mut rng, stages),
                }
            })
            .collect();
        Self { surveys, stages }
    }

    /// Applies one stage's steps to the database.
    pub async fn apply(&self, pool: &PgPool, stage: usize) {
        for s in &self.surveys {
            for (_, step) in s.steps.iter().filter(|(at, _)| *at == stage) {
                apply(pool, s, step).await;
            }
        }
    }

    /// The counts per (day, agent, queue) once every stage has been applied.
    pub fn expected(&self) -> BTreeMap<(NaiveDate, String, String), Tally> {
        let mut cells: BTreeMap<(NaiveDate, String, String), Tally> = BTreeMap::new();
        for s in &self.surveys {
            let steps = || s.steps.iter().map(|(_, step)| step);
            if !steps().any(|st| matches!(st, Step::Accept)) {
                continue;
            }
            let day = s.ended_at.with_timezone(&Shanghai).date_naive();
            let t = cells
                .entry((day, s.agent.clone(), s.queue.clone()))
                .or_default();
            t.sent += 1;
            t.delivered += u64::from(steps().any(|st| matches!(st, Step::Deliver)));
            let answers: Vec<_> = steps()
                .filter_map(|st| match st {
                    Step::Answer { question, value } => Some((*question, value)),
                    _ => None,
                })
                .collect();
            t.responses += u64::from(!answers.is_empty());
            for (question, value) in answers {
                match question {
                    "satisfaction" => {
                        let v = value.as_u64().unwrap();
                        t.csat_n += 1;
                        t.csat_sum += v;
                        t.csat_satisfied += u64::from(v >= 4);
                    }
                    "recommend" => {
                        let v = value.as_u64().unwrap();
                        t.nps_n += 1;
                        match v {
                            9..=10 => t.promoters += 1,
                            7..=8 => t.passives += 1,
                            _ => t.detractors += 1,
                        }
                    }
                    "resolved" => {
                        t.fcr_n += 1;
                        t.fcr_yes += u64::from(value.as_bool().unwrap());
                    }
                    _ => {}
                }
            }
            if let Some(w) = s.wait_seconds {
                t.wait_n += 1;
                t.wait_seconds_sum += w;
            }
            t.sms_segments += s.first_segments as u64
                + steps()
                    .map(|st| match st {
                        Step::FollowUp { segments } => *segments as u64,
                        _ => 0,
                    })
                    .sum::<u64>();
        }
        cells
    }
}

/// A survey's life: created, then sent (or failed), maybe delivered, answered in part,
/// sometimes late; stages only move forward.
fn steps(rng: &mut StdRng, stages: usize) -> Vec<(usize, Step)> {
    let created = rng.random_range(0..stages);
    let mut stage = created;
    let mut next = move |rng: &mut StdRng| {
        stage = (stage + usize::from(rng.random_bool(0.4))).min(stages - 1);
        stage
    };
    let mut out = vec![(created, Step::Create)];
    if rng.random_bool(0.07) {
        out.push((next(rng), Step::Fail));
        return out;
    }
    out.push((next(rng), Step::Accept));
    if rng.random_bool(0.85) {
        out.push((next(rng), Step::Deliver));
    }
    let answered = rng.random_range(0..=3);
    let questions: [(&str, Draw); 3] = [
        ("resolved", |r| r.random_bool(0.7).into()),
        ("satisfaction", |r| r.random_range(1..=5).into()),
        ("recommend", |r| r.random_range(0..=10).into()),
    ];
    for (question, value) in questions.iter().take(answered) {
        out.push((
            next(rng),
            Step::FollowUp {
                segments: rng.random_range(1..=3),
            },
        ));
        out.push((
            next(rng),
            Step::Answer {
                question,
                value: value(rng),
            },
        ));
    }
    if rng.random_bool(0.05) {
        out.push((next(rng), Step::LateAnswer));
    }
    out
}

/// Draws an answer's value.
type Draw = fn(&mut StdRng) -> serde_json::Value;

async fn apply(pool: &PgPool, s: &Survey, step: &Step) {
    let exec = |sql: &'static str| sqlx::query(sql);
    match step {
        Step::Create => {
            exec(
                "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at,
                                    ended_at, disposition, wait_seconds, talk_seconds,
                                    decision, event)
                 VALUES ($1, $2, $3, $4, $5 - interval '5 minutes', $5, 'completed', $6, 240,
                         'scheduled', '{}')",
            )
            .bind(&s.call_id)
            .bind(&s.phone)
            .bind(&s.agent)
            .bind(&s.queue)
            .bind(s.ended_at)
            .bind(s.wait_seconds)
            .execute(pool)
            .await
            .unwrap();
            exec(
                "WITH s AS (
                    INSERT INTO surveys (call_id, customer_phone, language, timezone, state,
                                         send_at)
                    VALUES ($1, $2, 'zh-CN', 'Asia/Shanghai', 'sending', $3) RETURNING id)
                 INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body,
                                       encoding, segments, status)
                 SELECT $4, id, 'question', 'resolved', $2, 'q1', 'ucs2', $5, 'sending' FROM s",
            )
            .bind(&s.call_id)
            .bind(&s.phone)
            .bind(s.ended_at)
            .bind(Uuid::new_v4())
            .bind(s.first_segments)
            .execute(pool)
            .await
            .unwrap();
        }
        Step::Accept | Step::Fail => {
            let (status, state) = match step {
                Step::Accept => ("sent", "open"),
                _ => ("failed", "failed"),
            };
            exec(
                "WITH s AS (
                    UPDATE surveys SET state = $2,
                           sent_at = CASE WHEN $2 = 'open' THEN now() END
                     WHERE call_id = $1 RETURNING id)
                 UPDATE messages m SET status = $3 FROM s
                  WHERE m.survey_id = s.id AND m.purpose = 'question' AND m.question_id = 'resolved'",
            )
            .bind(&s.call_id)
            .bind(state)
            .bind(status)
            .execute(pool)
            .await
            .unwrap();
        }
        Step::Deliver => {
            exec(
                "UPDATE messages m SET status = 'delivered' FROM surveys s
                  WHERE s.call_id = $1 AND m.survey_id = s.id AND m.question_id = 'resolved'",
            )
            .bind(&s.call_id)
            .execute(pool)
            .await
            .unwrap();
        }
        Step::FollowUp { segments } => {
            exec(
                "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body,
                                       encoding, segments, status)
                 SELECT $2, id, 'follow_up', 'next', customer_phone, 'qn', 'ucs2', $3, 'sending'
                   FROM surveys WHERE call_id = $1",
            )
            .bind(&s.call_id)
            .bind(Uuid::new_v4())
            .bind(segments)
            .execute(pool)
            .await
            .unwrap();
            exec("UPDATE messages SET status = 'sent' WHERE question_id = 'next' AND status = 'sending'")
                .execute(pool)
                .await
                .unwrap();
        }
        Step::Answer { question, value } => {
            exec(
                "INSERT INTO answers (survey_id, question_id, value, raw, received_at)
                 SELECT id, $2, $3, $3::text, now() FROM surveys WHERE call_id = $1",
            )
            .bind(&s.call_id)
            .bind(question)
            .bind(value)
            .execute(pool)
            .await
            .unwrap();
        }
        Step::LateAnswer => {
            exec(
                "INSERT INTO answers (survey_id, question_id, value, raw, received_at, late)
                 SELECT id, 'recommend', '0', '0', now(), true FROM surveys WHERE call_id = $1",
            )
            .bind(&s.call_id)
            .execute(pool)
            .await
            .unwrap();
        }
    }
}
