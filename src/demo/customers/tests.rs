//! The customers' scripts: every reply means to the parser what the customer meant.

use chrono::Utc;

use super::*;
use crate::{
    config::Settings,
    demo::calls,
    domain::reply::{self, Keyword, Reply},
};

fn all() -> Vec<Customer> {
    let calls = calls::generate(1000, 11, Utc::now());
    customers(&calls, 11)
}

/// Every scripted reply means to the worker's parser what the customer meant: the
/// demo's independent count and the worker's can then be compared.
#[test]
fn every_scripted_reply_parses_as_meant() {
    let settings = Settings::load_from(None, Some(Default::default())).unwrap();
    let def = settings.runtime().unwrap().survey;
    for customer in all() {
        for step in &customer.planned {
            let question = match (step.on, &step.intent) {
                (_, Intent::Answer(q, _) | Intent::Garbage { question: q, .. }) => *q,
                (Trigger::Question(q), _) => q,
                (Trigger::Help, _) => RESOLVED,
            };
            let parsed = reply::parse(
                &step.text,
                &def.questions[question].kind,
                &def.questions[question].labels,
            );
            let meant = match &step.intent {
                Intent::Answer(_, value) => Reply::Answer(value.clone()),
                Intent::Garbage { .. } => Reply::NotUnderstood,
                Intent::OptOut => Reply::Keyword(Keyword::OptOut),
                Intent::Help => Reply::Keyword(Keyword::Help),
            };
            assert_eq!(parsed, meant, "{:?} to question {question}", step.text);
        }
    }
}

#[test]
fn the_default_survey_is_the_one_scripted() {
    let settings = Settings::load_from(None, Some(Default::default())).unwrap();
    let ids: Vec<String> = settings
        .runtime()
        .unwrap()
        .survey
        .questions
        .iter()
        .map(|q| q.id.clone())
        .collect();
    assert_eq!(ids[RESOLVED], "resolved");
    assert_eq!(ids[SATISFACTION], "satisfaction");
    assert_eq!(ids[RECOMMEND], "recommend");
    assert_eq!(ids[COMMENT], "comment");
}

#[test]
fn better_agents_get_happier_customers() {
    let customers = all();
    let mean_csat = |agent: &str| {
        let scores: Vec<f64> = customers
            .iter()
            .filter(|c| c.call.agent.id == agent)
            .flat_map(|c| &c.planned)
            .filter_map(|s| match s.intent {
                Intent::Answer(SATISFACTION, AnswerValue::Scale(n)) => Some(f64::from(n)),
                _ => None,
            })
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    assert!(mean_csat("agent-li") > mean_csat("agent-wang"));
    assert!(mean_csat("agent-wang") > mean_csat("agent-zhao") + 0.7);
}

#[test]
fn a_customer_follows_the_script_and_notices_what_does_not_fit() {
    let mut garbled = all()
        .into_iter()
        .find(|c| c.persona == Persona::Garbled && c.planned[0].on == Trigger::Question(0))
        .expect("a garbled customer");
    assert_eq!(garbled.receive("thank_you", None), Reaction::default());
    let first = garbled.receive("question", Some(0)).reply.unwrap();
    assert_eq!(first, garbled.planned[0]);
    let surprised = garbled.receive("follow_up", Some(2));
    assert!(surprised.surprise.is_some() && surprised.reply.is_none());
    assert!(garbled.done());

    let mut quitter = all()
        .into_iter()
        .find(|c| c.persona == Persona::OptsOut)
        .expect("a customer who opts out");
    assert_eq!(
        quitter.receive("question", Some(0)).reply.unwrap().intent,
        Intent::OptOut
    );
    assert_eq!(
        quitter.receive("opt_out_confirmation", None),
        Reaction::default()
    );
    assert!(quitter.receive("follow_up", Some(1)).surprise.is_some());
}

#[test]
fn full_width_digits() {
    assert_eq!(full_width(5), "５");
    assert_eq!(full_width(10), "１０");
}
