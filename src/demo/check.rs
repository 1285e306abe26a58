//! The demo's own count of what its customers said, made without the worker, and its
//! comparison with what the worker recorded and aggregated.

use std::collections::BTreeMap;

use super::{
    calls::{Call, Expect},
    customers::{COMMENT, Customer, Intent, RECOMMEND, RESOLVED, SATISFACTION},
    results::DemoResults,
};
use crate::domain::{reply::AnswerValue, scores::Tally};

/// What the worker should report, counted from the calls published and the replies played.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    pub agents: BTreeMap<String, Tally>,
    pub decisions: BTreeMap<String, u64>,
    pub replies: BTreeMap<String, u64>,
    /// The worker's SMS by purpose, and its survey events by routing key.
    pub sms: BTreeMap<String, u64>,
    pub events: BTreeMap<String, u64>,
    pub opt_outs: u64,
}

pub fn expected(calls: &[Call], customers: &[Customer], strangers: u64) -> Expected {
    let mut out = Expected::default();
    for call in calls {
        *out.decisions.entry(call.expect.label().into()).or_default() += 1;
    }
    for customer in customers {
        let tally = out
            .agents
            .entry(customer.call.agent.id.to_owned())
            .or_default();
        count_survey(tally, customer);
        *out.sms.entry("question".into()).or_default() += 1;
        if customer.delivered() {
            count_replies(&mut out, customer);
        }
    }
    *out.replies.entry("unsolicited".into()).or_default() += strangers;
    out
}

fn count_survey(t: &mut Tally, customer: &Customer) {
    t.sent += 1;
    t.delivered += u64::from(customer.delivered());
    if let Some(ms) = customer.call.wait_ms() {
        t.wait_n += 1;
        t.wait_seconds_sum += ms as f64 / 1000.0;
    }
    let mut answered = false;
    for step in customer.planned.iter().filter(|_| customer.delivered()) {
        let Intent::Answer(question, value) = &step.intent else {
            continue;
        };
        answered = true;
        match (*question, value) {
            (RESOLVED, AnswerValue::YesNo(yes)) => {
                t.fcr_n += 1;
                t.fcr_yes += u64::from(*yes);
            }
            (SATISFACTION, AnswerValue::Scale(n)) => {
                t.csat_n += 1;
                t.csat_satisfied += u64::from(*n >= 4);
                t.csat_sum += *n as u64;
            }
            (RECOMMEND, AnswerValue::Scale(n)) => {
                t.nps_n += 1;
                match n {
                    9.. => t.promoters += 1,
                    7..=8 => t.passives += 1,
                    _ => t.detractors += 1,
                }
            }
            _ => {}
        }
    }
    t.responses += u64::from(answered);
}

/// What each reply should have done (README, "The conversation"): its outcome, the SMS it
/// brings back, the events it announces.
fn count_replies(out: &mut Expected, customer: &Customer) {
    let add = |map: &mut BTreeMap<String, u64>, key: &str| {
        *map.entry(key.into()).or_default() += 1;
    };
    for step in &customer.planned {
        let (outcome, sms) = match &step.intent {
            // Past the last question: the thank-you, and the survey is complete.
            Intent::Answer(COMMENT, _) => ("answer", "thank_you"),
            // Otherwise the next question, or the one re-prompt: both follow-ups.
            Intent::Answer(..) => ("answer", "follow_up"),
            Intent::Garbage { again: false, .. } => ("reprompt", "follow_up"),
            Intent::Garbage { again: true, .. } => ("skipped", "follow_up"),
            Intent::OptOut => ("keyword", "opt_out_confirmation"),
            Intent::Help => ("keyword", "help"),
        };
        add(&mut out.replies, outcome);
        add(&mut out.sms, sms);
        if matches!(sms, "thank_you" | "opt_out_confirmation") {
            add(&mut out.events, "survey.completed");
        }
        if let Intent::Answer(question, value) = &step.intent
            && detractor(*question, value)
        {
            add(&mut out.events, "survey.detractor");
        }
        out.opt_outs += u64::from(step.intent == Intent::OptOut);
    }
}

/// Not solved, CSAT ≤ 2 or NPS ≤ 6 (DESIGN.md §5).
fn detractor(question: usize, value: &AnswerValue) -> bool {
    match (question, value) {
        (RESOLVED, AnswerValue::YesNo(yes)) => !yes,
        (SATISFACTION, AnswerValue::Scale(n)) => *n <= 2,
        (RECOMMEND, AnswerValue::Scale(n)) => *n <= 6,
        _ => false,
    }
}

/// Every way the worker's figures differ from the demo's own count; empty when they match.
pub fn differences(expected: &Expected, actual: &DemoResults, surprises: &[String]) -> Vec<String> {
    let mut out: Vec<String> = surprises.iter().map(|s| format!("surprise: {s}")).collect();
    let agents = expected.agents.keys().chain(actual.agents.keys());
    for agent in agents.collect::<std::collections::BTreeSet<_>>() {
        let want = expected.agents.get(agent).copied().unwrap_or_default();
        let got = actual.agents.get(agent).copied().unwrap_or_default();
        for ((name, w), (_, g)) in figures(&want).into_iter().zip(figures(&got)) {
            if w != g {
                out.push(format!("{agent} {name}: expected {w}, aggregated {g}"));
            }
        }
    }
    let decisions = buckets(&actual.decisions);
    compare_counts(&mut out, "decision", &expected.decisions, &decisions);
    compare_counts(&mut out, "replies", &expected.replies, &actual.replies);
    compare_counts(&mut out, "SMS", &expected.sms, &actual.sms);
    compare_counts(&mut out, "events", &expected.events, &actual.events);
    if expected.opt_outs != actual.opt_outs {
        out.push(format!(
            "opt-outs: expected {}, recorded {}",
            expected.opt_outs, actual.opt_outs
        ));
    }
    out
}

/// The figures that the replies decide, as integers (the wait in whole milliseconds).
fn figures(t: &Tally) -> [(&'static str, u64); 14] {
    [
        ("sent", t.sent),
        ("delivered", t.delivered),
        ("responses", t.responses),
        ("csat n", t.csat_n),
        ("csat satisfied", t.csat_satisfied),
        ("csat sum", t.csat_sum),
        ("nps n", t.nps_n),
        ("promoters", t.promoters),
        ("passives", t.passives),
        ("detractors", t.detractors),
        ("fcr n", t.fcr_n),
        ("fcr yes", t.fcr_yes),
        ("wait n", t.wait_n),
        ("wait ms", (t.wait_seconds_sum * 1000.0).round() as u64),
    ]
}

fn buckets(decisions: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (decision, n) in decisions {
        *out.entry(Expect::bucket(decision).to_owned()).or_default() += n;
    }
    out
}

fn compare_counts(
    out: &mut Vec<String>,
    what: &str,
    expected: &BTreeMap<String, u64>,
    actual: &BTreeMap<String, u64>,
) {
    let keys: std::collections::BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    for key in keys {
        let (w, g) = (
            expected.get(key).copied().unwrap_or(0),
            actual.get(key).copied().unwrap_or(0),
        );
        if w != g {
            out.push(format!("{what} {key}: expected {w}, recorded {g}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::demo::{calls, customers};

    fn world() -> (Vec<Call>, Vec<Customer>) {
        let calls = calls::generate(400, 5, Utc::now());
        let customers = customers::customers(&calls, 5);
        (calls, customers)
    }

    fn matching(expected: &Expected) -> DemoResults {
        let mut totals = Tally::default();
        expected.agents.values().for_each(|t| totals.add(t));
        DemoResults {
            agents: expected.agents.clone(),
            totals,
            decisions: expected.decisions.clone(),
            replies: expected.replies.clone(),
            sms: expected.sms.clone(),
            events: expected.events.clone(),
            opt_outs: expected.opt_outs,
            ..DemoResults::default()
        }
    }

    #[test]
    fn the_count_covers_every_survey_and_reply() {
        let (calls, customers) = world();
        let e = expected(&calls, &customers, 1);
        let sent: u64 = e.agents.values().map(|t| t.sent).sum();
        assert_eq!(sent as usize, customers.len());
        assert_eq!(e.decisions["scheduled"] as usize, customers.len());
        let replies: u64 = e.replies.values().sum();
        let planned: usize = customers
            .iter()
            .filter(|c| c.delivered())
            .map(|c| c.planned.len())
            .sum();
        assert_eq!(replies as usize, planned + 1);
        assert!(e.opt_outs > 0);
    }

    #[test]
    fn identical_figures_have_no_differences_and_any_change_is_named() {
        let (calls, customers) = world();
        let e = expected(&calls, &customers, 1);
        let mut actual = matching(&e);
        assert_eq!(differences(&e, &actual, &[]), Vec::<String>::new());

        actual.agents.get_mut("agent-li").unwrap().promoters += 1;
        *actual.decisions.entry("open_survey".into()).or_default() += 1;
        let found = differences(&e, &actual, &["demo-0001: oops".into()]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("demo-0001"));
        assert!(found[1].starts_with("agent-li promoters"));
    }

    #[test]
    fn open_survey_and_frequency_cap_both_count_as_a_repeat_call() {
        let (calls, customers) = world();
        let e = expected(&calls, &customers, 1);
        let repeats = e.decisions[Expect::Repeat.label()];
        assert!(repeats > 1);
        let mut actual = matching(&e);
        actual.decisions.remove(Expect::Repeat.label());
        actual
            .decisions
            .insert("open_survey".into(), repeats.saturating_sub(1));
        actual.decisions.insert("frequency_cap".into(), 1);
        assert_eq!(differences(&e, &actual, &[]), Vec::<String>::new());
    }
}
