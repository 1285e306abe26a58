//! The customers' phones: every SMS the console provider "sent" is delivered (a carrier's
//! delivery report) and read by its customer, whose reply goes in through
//! `inbound::receive`, the same path a provider's webhook takes after its signature check.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    customers::{Customer, Trigger},
    store::{self, Sent},
};
use crate::{
    channels::compose::Texts,
    domain::{delivery::DeliveryStatus, survey::SurveyDefinition},
    inbound,
    store::{conversation::Inbound, deliveries, wake::Waker},
};

/// Someone who texts the survey number without ever having had a survey.
pub const STRANGER: (&str, &str) = ("+8613712345678", "你好，请问信用卡怎么还款？");

/// The console provider's name, stored with each message it accepted.
const PROVIDER: &str = "console";

/// How many phones act at once: enough to keep the worker busy, few enough for the pool.
const CONCURRENT_PHONES: usize = 8;

/// One thing a phone does, in order.
#[derive(Debug)]
enum Act {
    Delivered(String, DeliveryStatus),
    Reply { id: String, text: String },
}

pub struct Player {
    pool: PgPool,
    wake: Waker,
    survey: Arc<SurveyDefinition>,
    customers: HashMap<String, Customer>,
    seen: HashSet<Uuid>,
    replies: u64,
    surprises: Vec<String>,
}

impl Player {
    pub fn new(pool: PgPool, survey: Arc<SurveyDefinition>, customers: Vec<Customer>) -> Self {
        Self {
            wake: Waker::spawn(pool.clone()),
            pool,
            survey,
            customers: customers
                .into_iter()
                .map(|c| (c.call.phone.clone(), c))
                .collect(),
            seen: HashSet::new(),
            replies: 0,
            surprises: Vec::new(),
        }
    }

    /// Replies the customers mean to send, the stranger's included.
    pub fn planned(&self) -> u64 {
        let scripted: usize = self
            .customers
            .values()
            .filter(|c| c.delivered())
            .map(|c| c.planned.len())
            .sum();
        scripted as u64 + 1
    }

    pub fn played(&self) -> u64 {
        self.replies
    }

    /// What the worker did that a customer did not expect.
    pub fn surprises(&self) -> &[String] {
        &self.surprises
    }

    /// The wrong number: a message from a phone with no survey, which must change nothing.
    pub async fn stranger(&mut self) -> anyhow::Result<()> {
        let (phone, text) = STRANGER;
        let sms = inbound_sms("demo-in-stranger", phone, text);
        inbound::receive(&self.pool, &self.wake, &Texts::free(&self.survey), &sms).await?;
        self.replies += 1;
        Ok(())
    }

    /// Delivers and answers every SMS accepted since the last round; returns how many.
    pub async fn round(&mut self) -> anyhow::Result<usize> {
        let sent = store::sent_by(&self.pool, PROVIDER).await?;
        let fresh: Vec<Sent> = sent
            .into_iter()
            .filter(|m| self.seen.insert(m.id))
            .collect();
        let count = fresh.len();
        let mut by_phone: HashMap<String, Vec<Act>> = HashMap::new();
        for message in fresh {
            let acts = self.react(&message);
            by_phone.entry(message.to_phone).or_default().extend(acts);
        }
        let (pool, wake, survey) = (&self.pool, &self.wake, &self.survey);
        futures_util::stream::iter(by_phone)
            .map(|(phone, acts)| carry_out(pool, wake, survey, phone, acts))
            .buffer_unordered(CONCURRENT_PHONES)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(count)
    }

    /// What the customer does on this SMS: decided here, carried out by `carry_out`.
    fn react(&mut self, message: &Sent) -> Vec<Act> {
        let Some(customer) = self.customers.get_mut(&message.to_phone) else {
            self.surprises.push(format!(
                "a `{}` SMS to a phone that never had a survey",
                message.purpose
            ));
            return Vec::new();
        };
        let first = message.purpose == "question";
        let status = if customer.delivered() || !first {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Undelivered
        };
        let mut acts = vec![Act::Delivered(message.provider_message_id.clone(), status)];
        let question = message
            .question_id
            .as_deref()
            .and_then(|id| self.survey.questions.iter().position(|q| q.id == id));
        let reaction = customer.receive(&message.purpose, question);
        if let Some(surprise) = reaction.surprise {
            self.surprises
                .push(format!("{}: {surprise}", customer.call.call_id));
        }
        if let Some(step) = reaction.reply {
            self.replies += 1;
            acts.push(Act::Reply {
                id: format!("demo-in-{}", self.replies),
                text: step.text,
            });
        }
        acts
    }

    /// Every customer has said all they meant to and nothing is left to send.
    pub async fn finished(&self) -> anyhow::Result<bool> {
        if !self.customers.values().all(Customer::done) {
            return Ok(false);
        }
        Ok(store::unsent(&self.pool).await? == 0)
    }

    /// Who is still waiting, for a message that says where the conversation stalled.
    pub fn waiting(&self) -> String {
        let mut waiting: Vec<(&str, Trigger)> = self
            .customers
            .values()
            .filter_map(|c| c.waiting_for().map(|t| (c.call.call_id.as_str(), t)))
            .collect();
        waiting.sort_by_key(|(id, _)| *id);
        let examples: Vec<String> = waiting
            .iter()
            .take(3)
            .map(|(id, t)| match t {
                Trigger::Question(q) => format!("{id} waits for question {}", q + 1),
                Trigger::Help => format!("{id} waits for the help text"),
            })
            .collect();
        format!(
            "{} customers still wait for an SMS ({})",
            waiting.len(),
            examples.join(", ")
        )
    }
}

async fn carry_out(
    pool: &PgPool,
    wake: &Waker,
    survey: &SurveyDefinition,
    phone: String,
    acts: Vec<Act>,
) -> anyhow::Result<()> {
    for act in acts {
        match act {
            Act::Delivered(id, status) => {
                deliveries::report(pool, PROVIDER, &id, status, None, None).await?;
            }
            Act::Reply { id, text } => {
                inbound::receive(
                    pool,
                    wake,
                    &Texts::free(survey),
                    &inbound_sms(&id, &phone, &text),
                )
                .await?;
            }
        }
    }
    Ok(())
}

fn inbound_sms<'a>(id: &'a str, phone: &'a str, text: &'a str) -> Inbound<'a> {
    Inbound {
        provider: PROVIDER,
        provider_message_id: id,
        from: phone,
        to: None,
        body: text,
        received_at: chrono::Utc::now(),
        other_signature: None,
    }
}
