//! The held-out corpus (`corpus/replies.tsv`): replies as hotline customers write them, each
//! with the reading a person makes of it, judged against the parser with the shipped
//! configuration. Written before the parser was improved against it, so it measures rather
//! than restates the rules.

use std::collections::HashMap;

use super::{
    AnswerValue, Keyword, Reply,
    compact::{self, Pair, PairReply},
    parse,
};
use crate::{config::Settings, domain::survey::SurveyDefinition};

const CORPUS: &str = include_str!("corpus/replies.tsv");

/// The agreement the parser must keep: today's parser, measured before it changes (65.2 %:
/// every misread is a needless re-prompt, none a wrong answer). Issue 18 raises it to 98 %.
const TARGET: f64 = 0.65;

struct Case<'a> {
    line: usize,
    question: &'a str,
    text: &'a str,
    reading: &'a str,
}

fn cases() -> Vec<Case<'static>> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                cols.len(),
                3,
                "line {}: want 3 tab-separated columns",
                i + 1
            );
            Case {
                line: i + 1,
                question: cols[0],
                text: cols[1],
                reading: cols[2],
            }
        })
        .collect()
}

fn shipped(preset: &str) -> SurveyDefinition {
    let env = HashMap::from([("POSTCALL__SURVEY__PRESET".to_owned(), preset.to_owned())]);
    let settings = Settings::load_from(None, Some(env)).expect("the shipped config loads");
    let runtime = settings.runtime().expect("the shipped config parses");
    (*runtime.survey).clone()
}

/// What the parser makes of a case, written as the corpus writes a reading.
fn reading(standard: &SurveyDefinition, case: &Case<'_>) -> String {
    if case.question == "pair" {
        return pair_reading(compact::parse(case.text));
    }
    let question = standard
        .questions
        .iter()
        .find(|q| q.id == case.question)
        .unwrap_or_else(|| panic!("line {}: no question {:?}", case.line, case.question));
    match parse(case.text, &question.kind) {
        Reply::Answer(AnswerValue::YesNo(true)) => "yes".into(),
        Reply::Answer(AnswerValue::YesNo(false)) => "no".into(),
        Reply::Answer(AnswerValue::Scale(n)) => n.to_string(),
        Reply::Answer(AnswerValue::Text(t)) if t == case.text.trim() => "text".into(),
        Reply::Answer(AnswerValue::Text(t)) => format!("text {t:?}"),
        Reply::Keyword(k) => keyword(k).into(),
        Reply::NotUnderstood => "again".into(),
    }
}

fn pair_reading(reply: PairReply) -> String {
    match reply {
        PairReply::Answer(Pair {
            resolved,
            satisfaction,
        }) => {
            let r = resolved.map_or("-", |r| if r { "yes" } else { "no" });
            let s = satisfaction.map_or("-".to_owned(), |s| s.to_string());
            format!("{r} {s}")
        }
        PairReply::Keyword(k) => keyword(k).into(),
        PairReply::NotUnderstood => "again".into(),
    }
}

fn keyword(k: Keyword) -> &'static str {
    match k {
        Keyword::OptOut => "stop",
        Keyword::OptIn => "start",
        Keyword::Help => "help",
    }
}

#[test]
fn the_corpus_is_read_as_a_person_reads_it() {
    let standard = shipped("standard");
    let cases = cases();
    assert!(cases.len() >= 400, "{} cases", cases.len());
    let misreads: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let got = reading(&standard, c);
            (got != c.reading).then(|| {
                format!(
                    "line {}: {} {:?}: read {got}, a person reads {}",
                    c.line, c.question, c.text, c.reading
                )
            })
        })
        .collect();
    let agreement = 1.0 - misreads.len() as f64 / cases.len() as f64;
    println!(
        "corpus agreement {:.1} % ({} of {} misread)",
        agreement * 100.0,
        misreads.len(),
        cases.len()
    );
    assert!(
        agreement >= TARGET,
        "agreement {:.1} % is below {:.0} %; misread:\n{}",
        agreement * 100.0,
        TARGET * 100.0,
        misreads.join("\n")
    );
}
