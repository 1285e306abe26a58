//! The reply parser (`domain::reply`) on any text — CJK, emoji, control characters,
//! invisible marks, huge — for every kind of question: never a panic, and the outcome is
//! one the conversation can act on: a keyword (the same one `keyword` sees), an answer of
//! the question's own kind and range, or not understood. The same for the compact pair reader.

use postcall::domain::{
    reply::{
        self, AnswerValue, Keyword, Labels, Reply,
        compact::{self, Pair, PairReply},
    },
    survey::QuestionKind,
};
use proptest::prelude::*;

use super::mutate::{config, nasty_text};

fn kind() -> impl Strategy<Value = QuestionKind> {
    prop_oneof![
        Just(QuestionKind::YesNo),
        Just(QuestionKind::Scale { min: 1, max: 5 }),
        Just(QuestionKind::Scale { min: 0, max: 10 }),
        Just(QuestionKind::Text),
        // Whatever a configuration holds, also degenerate and extreme ranges.
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| QuestionKind::Scale {
            min: a.min(b),
            max: a.max(b)
        }),
    ]
}

/// A reply people might send: a real answer or keyword, wrapped in noise.
fn reply_like() -> impl Strategy<Value = String> {
    let core = prop::sample::select(vec![
        "5",
        "５",
        "五",
        "5分",
        "5星",
        "10",
        "十",
        "10/10",
        "8 out of 10",
        "是",
        "否",
        "1",
        "2",
        "Y",
        "N",
        "yes",
        "no",
        "已解决",
        "未解决",
        "TD",
        "退订",
        "STOP",
        "start",
        "help",
        "帮助",
        "⭐⭐⭐⭐",
        "-5",
        "3-4",
        "0",
        "11",
        "别再发了",
        "T D",
        "stop texting me",
        "扣款停不下来",
        "stop charging me",
        "非常满意",
        "不太满意",
        "8分，挺好的",
        "已經解決",
        "五星好评",
        "没解决，还是扣款失败",
    ]);
    (nasty_text(), core, nasty_text()).prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

/// Stops in words and near misses (the full tables are in `domain::reply::stop_intent`).
const STOPS: [&str; 8] = [
    "别再发了",
    "不要再发短信了",
    "退订，谢谢",
    "T D",
    "退 订",
    "stop texting me",
    "please unsubscribe me",
    "Stop please",
];
const NEAR_MISSES: [&str; 6] = [
    "扣款停不下来",
    "我想取消自动续费",
    "客服说不要再转账了",
    "stop charging me twice",
    "please stop the bug",
    "please stop calling me",
];

/// What surrounds a reply without adding a word: spaces, punctuation, emoji, full width.
fn wordless() -> impl Strategy<Value = String> {
    let mark = prop::sample::select(vec![
        " ", "\u{3000}", "\n", "!", "！", "。", "…", "~", "😡", "🙏", "\u{200B}", "“", "”",
    ]);
    prop::collection::vec(mark, 0..4).prop_map(|marks| marks.concat())
}

/// The shipped satisfaction question's labels and the recommend question's, on whatever
/// scale is drawn: a label outside the scale must never make an answer outside it.
fn labels() -> Labels {
    Labels::new([
        ("非常满意", 5),
        ("满意", 4),
        ("一般", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        ("非常愿意", 10),
        ("very satisfied", 5),
    ])
    .expect("the labels are valid")
}

fn check(text: &str, kind: QuestionKind) -> Result<(), TestCaseError> {
    let keyword = reply::keyword(text);
    match reply::parse(text, &kind, &labels()) {
        Reply::Keyword(Keyword::Help) if keyword.is_none() => {
            prop_assert!(reply::asks_for_help(text, (&kind).into()))
        }
        Reply::Keyword(k) => prop_assert_eq!(keyword, Some(k)),
        Reply::Answer(AnswerValue::YesNo(_)) => prop_assert_eq!(kind, QuestionKind::YesNo),
        Reply::Answer(AnswerValue::Scale(v)) => match kind {
            QuestionKind::Scale { min, max } => {
                prop_assert!((min..=max).contains(&v), "{v} outside {min}..={max}")
            }
            other => prop_assert!(false, "a scale answer to {other:?}"),
        },
        Reply::Answer(AnswerValue::Text(t)) => {
            prop_assert_eq!(kind, QuestionKind::Text);
            prop_assert!(!t.trim().is_empty() && text.contains(t.as_str()));
        }
        Reply::NotUnderstood => {}
    }
    Ok(())
}

/// The compact pair reader (`domain::reply::compact`): a keyword as `keyword` sees it, or
/// at least one part with the score on 1–5, or not understood.
fn check_pair(text: &str) -> Result<(), TestCaseError> {
    match compact::parse(text, &labels()) {
        PairReply::Keyword(Keyword::Help) if reply::keyword(text).is_none() => {
            prop_assert!(reply::asks_for_help(text, reply::Answering::Pair))
        }
        PairReply::Keyword(k) => prop_assert_eq!(reply::keyword(text), Some(k)),
        PairReply::Answer(Pair {
            resolved,
            satisfaction,
        }) => {
            prop_assert!(resolved.is_some() || satisfaction.is_some());
            prop_assert!(satisfaction.is_none_or(|s| (1..=5).contains(&s)));
        }
        PairReply::NotUnderstood => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn any_text_reads_as_a_pair_to_a_defined_outcome(text in nasty_text()) {
        check_pair(&text)?;
    }

    #[test]
    fn a_pair_reply_in_noise_reads_to_a_defined_outcome(text in reply_like()) {
        check_pair(&text)?;
    }

    #[test]
    fn the_pair_as_the_sms_shows_it_reads_whatever_the_separator(
        yes in any::<bool>(), score in 1..=5i32,
        separator in prop::sample::select(vec![" ", "", ",", "，", "、", "  ", "\n"]),
    ) {
        let digit = if yes { 1 } else { 2 };
        // `1 1` and `2 2` are yes/no words only: an echo of "1=是", re-prompted for the score.
        prop_assume!(score != digit || separator.is_empty());
        let text = format!("{digit}{separator}{score}");
        prop_assert_eq!(
            compact::parse(&text, &labels()),
            PairReply::Answer(Pair { resolved: Some(yes), satisfaction: Some(score) }),
            "{:?}", text
        );
    }

    #[test]
    fn a_stop_in_words_is_an_opt_out_to_the_pair_too(
        before in wordless(), stop in prop::sample::select(STOPS.to_vec()), after in wordless(),
    ) {
        let text = format!("{before}{stop}{after}");
        prop_assert_eq!(compact::parse(&text, &labels()), PairReply::Keyword(Keyword::OptOut));
    }

    #[test]
    fn any_text_parses_to_a_defined_outcome(text in nasty_text(), kind in kind()) {
        check(&text, kind)?;
    }

    #[test]
    fn a_reply_in_noise_parses_to_a_defined_outcome(text in reply_like(), kind in kind()) {
        check(&text, kind)?;
    }

    #[test]
    fn a_stop_in_words_is_an_opt_out_whatever_surrounds_it_and_whatever_was_asked(
        before in wordless(), stop in prop::sample::select(STOPS.to_vec()),
        after in wordless(), kind in kind(),
    ) {
        let text = format!("{before}{stop}{after}");
        prop_assert_eq!(reply::keyword(&text), Some(Keyword::OptOut), "{:?}", text);
        prop_assert_eq!(reply::parse(&text, &kind, &labels()), Reply::Keyword(Keyword::OptOut));
    }

    #[test]
    fn a_near_miss_is_never_an_opt_out_whatever_surrounds_it(
        before in wordless(), miss in prop::sample::select(NEAR_MISSES.to_vec()),
        after in wordless(), kind in kind(),
    ) {
        let text = format!("{before}{miss}{after}");
        prop_assert_eq!(reply::keyword(&text), None, "{:?}", text);
        prop_assert_ne!(reply::parse(&text, &kind, &labels()), Reply::Keyword(Keyword::OptOut));
    }

    #[test]
    fn normalising_twice_changes_nothing(text in nasty_text()) {
        let once = reply::normalise(&text);
        prop_assert_eq!(reply::normalise(&once), once);
    }
}
