//! The held-out corpus (`corpus/replies.tsv`): replies as hotline customers write them, each
//! with the reading a person makes of it, judged against the parser with the shipped
//! configuration. Written before the parser was improved against it, so it measures rather
//! than restates the rules.

use std::collections::HashMap;

use super::{
    AnswerValue, Keyword, Labels, Reply,
    compact::{self, Pair, PairReply},
    parse,
};
use crate::{
    config::Settings,
    domain::survey::{QuestionKind, SurveyDefinition},
};

const CORPUS: &str = include_str!("corpus/replies.tsv");

/// The agreement the parser must reach (issue 18). Before labels, remarks, traditional
/// characters and star phrases it was 65.2 %, every misread a needless re-prompt.
const TARGET: f64 = 0.98;

struct Case<'a> {
    line: usize,
    question: &'a str,
    text: &'a str,
    reading: &'a str,
}

fn cases(corpus: &'static str) -> Vec<Case<'static>> {
    corpus
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

/// The survey as shipped, `standard` or `compact`: the reply tables read with its labels.
pub(super) fn shipped(preset: &str) -> SurveyDefinition {
    let env = HashMap::from([("POSTCALL__SURVEY__PRESET".to_owned(), preset.to_owned())]);
    let settings = Settings::load_from(None, Some(env)).expect("the shipped config loads");
    let runtime = settings.runtime().expect("the shipped config parses");
    (*runtime.survey).clone()
}

/// What the parser makes of a case, written as the corpus writes a reading.
fn reading(standard: &SurveyDefinition, compact: &SurveyDefinition, case: &Case<'_>) -> String {
    if case.question == "pair" {
        return pair_reading(compact::parse(case.text, &compact.questions[1].labels));
    }
    let question = standard
        .questions
        .iter()
        .find(|q| q.id == case.question)
        .unwrap_or_else(|| panic!("line {}: no question {:?}", case.line, case.question));
    match parse(case.text, &question.kind, &question.labels) {
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

/// The cases of `corpus` the parser reads otherwise than the person who wrote them.
fn misreads(cases: &[Case<'_>]) -> Vec<String> {
    let (standard, compact) = (shipped("standard"), shipped("compact"));
    cases
        .iter()
        .filter_map(|c| {
            let got = reading(&standard, &compact, c);
            (got != c.reading).then(|| {
                format!(
                    "line {}: {} {:?}: read {got}, a person reads {}",
                    c.line, c.question, c.text, c.reading
                )
            })
        })
        .collect()
}

#[test]
fn the_corpus_is_read_as_a_person_reads_it() {
    let cases = cases(CORPUS);
    assert!(cases.len() >= 400, "{} cases", cases.len());
    let misreads = misreads(&cases);
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

/// Every reply form DESIGN.md §3 names, read as it names it (on the shipped questions).
#[rustfmt::skip]
const CONTRACT: &[(&str, &str, &str)] = &[
    ("satisfaction", "5", "5"), ("satisfaction", "５", "5"), ("satisfaction", "五", "5"),
    ("satisfaction", "5分", "5"), ("satisfaction", "5星", "5"), ("satisfaction", "5⭐", "5"),
    ("satisfaction", "五星", "5"), ("satisfaction", "5 points", "5"), ("recommend", "10", "10"),
    ("recommend", "十", "10"), ("recommend", "two", "2"), ("recommend", "ten", "10"),
    ("satisfaction", "①", "1"), ("recommend", "⑩", "10"), ("recommend", "10/10", "10"),
    ("recommend", "8 out of 10", "8"), ("recommend", "8分（满分10分）", "8"),
    ("recommend", "满分", "10"), ("satisfaction", "满分", "5"),
    ("satisfaction", "⭐⭐⭐⭐⭐", "5"), ("satisfaction", "★★★☆☆", "3"),
    ("satisfaction", "5, thanks", "5"), ("satisfaction", "5分谢谢", "5"),
    ("resolved", "1", "yes"), ("resolved", "y", "yes"), ("resolved", "yes", "yes"),
    ("resolved", "yep", "yes"), ("resolved", "yeah", "yes"), ("resolved", "solved", "yes"),
    ("resolved", "是", "yes"), ("resolved", "是的", "yes"), ("resolved", "对", "yes"),
    ("resolved", "嗯", "yes"), ("resolved", "解决了", "yes"), ("resolved", "已解决", "yes"),
    ("resolved", "是的，已经解决了，谢谢", "yes"),
    ("resolved", "2", "no"), ("resolved", "n", "no"), ("resolved", "no", "no"),
    ("resolved", "nope", "no"), ("resolved", "否", "no"), ("resolved", "不", "no"),
    ("resolved", "不是", "no"), ("resolved", "没有", "no"), ("resolved", "没解决", "no"),
    ("resolved", "未解决", "no"), ("resolved", "还没", "no"),
    ("comment", " 客服很好 ", "text"),
    ("satisfaction", "4或5", "again"), ("satisfaction", "3-4", "again"),
    ("recommend", "五六", "again"), ("satisfaction", "4.5", "again"),
    ("satisfaction", "not 5", "again"), ("satisfaction", "8/10", "again"),
    ("satisfaction", "6", "again"), ("resolved", "ok", "again"), ("resolved", "好的", "again"),
    ("resolved", "TD", "stop"), ("satisfaction", "T", "stop"), ("recommend", "R", "stop"),
    ("satisfaction", "N", "stop"), ("resolved", "N", "no"), ("comment", "退订", "stop"),
    ("comment", "拒收", "stop"), ("comment", "STOP", "stop"), ("comment", "STOPALL", "stop"),
    ("comment", "UNSUBSCRIBE", "stop"), ("comment", "CANCEL", "stop"),
    ("comment", "END", "stop"), ("comment", "QUIT", "stop"), ("comment", "REVOKE", "stop"),
    ("comment", "OPTOUT", "stop"), ("comment", "START", "start"),
    ("comment", "UNSTOP", "start"), ("comment", "订阅", "start"), ("comment", "HELP", "help"),
    ("comment", "INFO", "help"), ("comment", "帮助", "help"), ("comment", "TD退订", "stop"),
    ("comment", "退订 TD", "stop"), ("comment", "stop stop", "stop"),
    ("comment", "T T", "text"), ("comment", "T_T", "text"),
    ("comment", "please stop calling me", "text"), ("comment", "别再发了", "stop"),
    ("comment", "不要再发短信了", "stop"), ("comment", "请勿打扰", "stop"),
    ("comment", "取消订阅", "stop"), ("comment", "退订，谢谢", "stop"), ("comment", "T D", "stop"),
    ("comment", "t.d", "stop"), ("comment", "退 订", "stop"),
    ("comment", "stop texting me", "stop"), ("comment", "please unsubscribe me", "stop"),
    ("comment", "no more texts", "stop"), ("comment", "remove me from this list", "stop"),
    ("comment", "扣款停不下来", "text"), ("comment", "我想取消自动续费", "text"),
    ("comment", "stop charging me twice", "text"),
    ("pair", "1 5", "yes 5"), ("pair", "15", "yes 5"), ("pair", "1，5分", "yes 5"),
    ("pair", "是 5", "yes 5"), ("pair", "解决了 5分", "yes 5"), ("pair", "5 1", "yes 5"),
    ("pair", "是", "yes -"), ("pair", "5", "- 5"), ("pair", "4分", "- 4"),
    ("pair", "1", "again"), ("pair", "1/5", "again"), ("pair", "6", "again"),
    ("pair", "0 5", "again"),
];

#[test]
fn every_design_contract_form_reads_as_before() {
    let (standard, compact) = (shipped("standard"), shipped("compact"));
    let misread: Vec<String> = CONTRACT
        .iter()
        .enumerate()
        .filter_map(|(line, &(question, text, want))| {
            let case = Case {
                line,
                question,
                text,
                reading: want,
            };
            let got = reading(&standard, &compact, &case);
            (got != want).then(|| format!("{question} {text:?}: read {got}, DESIGN says {want}"))
        })
        .collect();
    assert!(misread.is_empty(), "{}", misread.join("\n"));
}

/// Words without a number re-prompt where the question has no label for them (DESIGN §3),
/// and numerals up to 99 read on a scale that reaches them.
#[test]
fn without_labels_words_re_prompt_and_numerals_reach_99() {
    let one_to_five = QuestionKind::Scale { min: 1, max: 5 };
    let none = Labels::default();
    assert_eq!(parse("满意", &one_to_five, &none), Reply::NotUnderstood);
    assert_eq!(parse("非常满意", &one_to_five, &none), Reply::NotUnderstood);
    let to_99 = QuestionKind::Scale { min: 0, max: 99 };
    assert_eq!(
        parse("二十", &to_99, &none),
        Reply::Answer(AnswerValue::Scale(20))
    );
}
