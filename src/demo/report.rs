//! The demo's printed result: the score table per agent with totals, and the counts that
//! explain it. Plain text with aligned columns; ids are ASCII, so width is char count.

use std::fmt::Write;

use super::results::DemoResults;
use crate::domain::scores::{Scores, Tally, scores};

const HEADER: [&str; 9] = [
    "agent",
    "sent",
    "delivered",
    "responses",
    "rate",
    "CSAT [95% CI]",
    "NPS [95% CI]",
    "FCR [95% CI]",
    "segments",
];

/// One row per agent, best CSAT interval's lower bound first (as the dashboard sorts),
/// then the totals.
pub fn table(results: &DemoResults) -> String {
    let mut agents: Vec<(&String, Scores)> = results
        .agents
        .iter()
        .map(|(agent, tally)| (agent, scores(tally)))
        .collect();
    agents.sort_by(|a, b| {
        let low = |s: &Scores| s.csat.ci95.map_or(-1.0, |[low, _]| low);
        low(&b.1).total_cmp(&low(&a.1)).then(a.0.cmp(b.0))
    });
    let mut rows: Vec<Vec<String>> = agents.iter().map(|(a, s)| row(a, s)).collect();
    let totals = row("total", &scores(&results.totals));
    let widths = widths(rows.iter().chain([&totals]));
    let rule = "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1));
    let mut out = String::new();
    line(&mut out, &HEADER.map(str::to_owned), &widths);
    let _ = writeln!(out, "{rule}");
    for r in rows.drain(..) {
        line(&mut out, &r, &widths);
    }
    let _ = writeln!(out, "{rule}");
    line(&mut out, &totals, &widths);
    out
}

fn row(agent: &str, s: &Scores) -> Vec<String> {
    vec![
        agent.to_owned(),
        s.sent.to_string(),
        s.delivered.to_string(),
        s.responses.to_string(),
        s.response_rate.map_or("-".into(), percent),
        proportion(s.csat.score, s.csat.ci95),
        nps(s.nps.score, s.nps.ci95),
        proportion(s.fcr.rate, s.fcr.ci95),
        s.sms_segments.to_string(),
    ]
}

fn percent(ratio: f64) -> String {
    format!("{:.0}%", 100.0 * ratio)
}

/// `92% [78-97]`; a figure with no answers is `-`, never 0.
fn proportion(score: Option<f64>, ci: Option<[f64; 2]>) -> String {
    match (score, ci) {
        (Some(s), Some([low, high])) => {
            format!("{} [{:.0}-{:.0}]", percent(s), 100.0 * low, 100.0 * high)
        }
        _ => "-".into(),
    }
}

/// `+41 [+18,+64]`.
fn nps(score: Option<f64>, ci: Option<[f64; 2]>) -> String {
    match (score, ci) {
        (Some(s), Some([low, high])) => format!("{s:+.0} [{low:+.0},{high:+.0}]"),
        _ => "-".into(),
    }
}

fn widths<'a>(rows: impl Iterator<Item = &'a Vec<String>>) -> Vec<usize> {
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    widths
}

/// The agent column left-aligned, figures right-aligned.
fn line(out: &mut String, cells: &[String], widths: &[usize]) {
    let text: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, w))| {
            if i == 0 {
                format!("{cell:<w$}")
            } else {
                format!("{cell:>w$}")
            }
        })
        .collect();
    let _ = writeln!(out, "{}", text.join("  ").trim_end());
}

/// The counts behind the table: why calls got no survey, what became of the replies.
pub fn breakdown(results: &DemoResults, events_exchange: &str) -> String {
    let mut out = String::new();
    let mut item = |label: &str, text: String| {
        let _ = writeln!(out, "  {label:<10} {text}");
    };
    item("calls", listing(&results.decisions, &["scheduled"]));
    item(
        "surveys",
        listing(&results.surveys, &["open", "completed", "opted_out"]),
    );
    item(
        "replies",
        listing(
            &results.replies,
            &["answer", "reprompt", "skipped", "keyword"],
        ),
    );
    item(
        "opt-outs",
        format!(
            "{} phones said 退订/TD/STOP and got one confirmation, nothing after it",
            results.opt_outs
        ),
    );
    item(
        "SMS",
        format!(
            "{} ({} segments)",
            listing(&results.sms, &["question", "follow_up", "thank_you"]),
            results.totals.sms_segments
        ),
    );
    let events: Vec<String> = results
        .events
        .iter()
        .map(|(key, n)| format!("{n} {key}"))
        .collect();
    let waiting = (results.events.values().sum::<u64>()).saturating_sub(results.events_published);
    item(
        "events",
        format!(
            "{} to {events_exchange}, {}",
            events.join(", "),
            match waiting {
                0 => "all published".to_owned(),
                n => format!("{n} still in the outbox"),
            }
        ),
    );
    out
}

/// `300: scheduled 262, too_short 12, …`: the total, then `first` in that order, then the
/// rest by size.
fn listing(counts: &std::collections::BTreeMap<String, u64>, first: &[&str]) -> String {
    let total: u64 = counts.values().sum();
    let mut rest: Vec<(&String, &u64)> = counts
        .iter()
        .filter(|(k, _)| !first.contains(&k.as_str()))
        .collect();
    rest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = first
        .iter()
        .filter_map(|k| counts.get_key_value(*k))
        .chain(rest)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    format!("{total}: {}", parts.join(", "))
}

/// The totals in one line, for the end of a run.
pub fn headline(t: &Tally) -> String {
    let s = scores(t);
    format!(
        "{} surveys sent, {} answered; CSAT {}, NPS {}, FCR {}",
        s.sent,
        s.responses,
        s.csat.score.map_or("-".into(), percent),
        s.nps.score.map_or("-".into(), |n| format!("{n:+.0}")),
        s.fcr.rate.map_or("-".into(), percent),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn tally(sent: u64, satisfied: u64, csat_n: u64) -> Tally {
        Tally {
            sent,
            delivered: sent,
            responses: csat_n,
            csat_n,
            csat_satisfied: satisfied,
            csat_sum: 4 * csat_n,
            nps_n: csat_n,
            promoters: satisfied,
            detractors: csat_n - satisfied,
            fcr_n: csat_n,
            fcr_yes: satisfied,
            sms_segments: 3 * sent,
            ..Tally::default()
        }
    }

    fn results() -> DemoResults {
        let agents: BTreeMap<String, Tally> = [
            ("agent-a".to_owned(), tally(10, 2, 5)),
            ("agent-b".to_owned(), tally(40, 30, 32)),
            ("agent-c".to_owned(), tally(3, 0, 0)),
        ]
        .into();
        let mut totals = Tally::default();
        agents.values().for_each(|t| totals.add(t));
        DemoResults {
            agents,
            totals,
            ..DemoResults::default()
        }
    }

    #[test]
    fn rows_are_ranked_by_the_csat_interval_and_aligned() {
        let text = table(&results());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("agent") && lines[0].ends_with("segments"));
        assert!(lines[2].starts_with("agent-b"), "{text}");
        assert!(lines[3].starts_with("agent-a"));
        assert!(lines[4].starts_with("agent-c"));
        assert!(lines[6].starts_with("total"));
        // Right-aligned: every row ends where the header ends.
        let width = lines[0].chars().count();
        for l in [lines[2], lines[3], lines[4], lines[6]] {
            assert_eq!(l.chars().count(), width, "{l:?}");
        }
        assert!(lines[2].contains("94% [80-98]"), "{}", lines[2]);
        // NPS 30 promoters, 2 detractors of 32 → +88; adjusted Wald: n′ = 35,
        // p′ − d′ = (30.75 − 2.75) / 35 = 0.8, half = 1.96 · √((0.957143 − 0.64) / 35) = 0.1866
        assert!(lines[2].contains("+88 [+61,+99]"), "{}", lines[2]);
    }

    #[test]
    fn no_answers_is_a_dash_not_zero() {
        let text = table(&results());
        let c = text.lines().find(|l| l.starts_with("agent-c")).unwrap();
        assert_eq!(c.matches(" -").count(), 3, "{c}");
        assert!(c.contains(" 0% "), "a response rate of 0 is a rate: {c}");
    }

    #[test]
    fn a_listing_puts_the_named_counts_first() {
        let counts: BTreeMap<String, u64> = [
            ("too_short".to_owned(), 4),
            ("scheduled".to_owned(), 20),
            ("disposition".to_owned(), 6),
        ]
        .into();
        assert_eq!(
            listing(&counts, &["scheduled"]),
            "30: scheduled 20, disposition 6, too_short 4"
        );
    }
}
