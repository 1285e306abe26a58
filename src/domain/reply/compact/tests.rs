//! The compact reply table: what customers send to "resolved? (1=yes, 2=no) and satisfaction
//! 1–5, reply both, e.g. 1 5", and what each reply must mean.

use std::sync::LazyLock;

use super::*;
use Expect::*;

/// The compact preset's satisfaction labels.
static LABELS: LazyLock<Labels> = LazyLock::new(|| {
    super::super::corpus::shipped("compact").questions[1]
        .labels
        .clone()
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Both parts: resolved, satisfaction.
    Both(bool, i32),
    /// Resolved only: satisfaction is re-prompted.
    Resolved(bool),
    /// Satisfaction only: resolved is re-prompted.
    Score(i32),
    Stop,
    Start,
    Help,
    /// Not understood: both are re-prompted.
    Again,
}

const TABLE: &[(&str, Expect)] = &[
    // The satisfaction part in the question's own words (its labels).
    ("是 非常满意", Both(true, 5)),
    ("解决了，满意", Both(true, 4)),
    ("没解决 非常不满意", Both(false, 1)),
    ("1 一般", Both(true, 3)),
    ("非常满意", Score(5)),
    ("不满意", Score(2)),
    ("非常滿意", Score(5)),
    ("是 不太满意", Again),
    ("解决了谢谢", Resolved(true)),
    ("没解决，还是扣款失败", Resolved(false)),
    ("已經解決 5分", Both(true, 5)),
    // The two answers joined by "and", or in Chinese numerals.
    ("1和5", Both(true, 5)),
    ("1 和 4分", Both(true, 4)),
    ("是跟5", Both(true, 5)),
    ("一 五", Both(true, 5)),
    ("二 三", Both(false, 3)),
    ("一", Again),
    ("和5", Again),
    // The example the SMS gives, and its spacings.
    ("1 5", Both(true, 5)),
    ("1  5", Both(true, 5)),
    (" 1 5 ", Both(true, 5)),
    ("1\n5", Both(true, 5)),
    ("2 3", Both(false, 3)),
    ("2 1", Both(false, 1)),
    ("1 2", Both(true, 2)),
    ("1 4", Both(true, 4)),
    ("2 5", Both(false, 5)),
    // Without a separator: no score above 5 exists, so the digits are the two answers.
    ("15", Both(true, 5)),
    ("14", Both(true, 4)),
    ("25", Both(false, 5)),
    ("21", Both(false, 1)),
    ("12", Both(true, 2)),
    ("11", Both(true, 1)),
    ("15分", Both(true, 5)),
    ("23分", Both(false, 3)),
    // Separators of every kind.
    ("1,5", Both(true, 5)),
    ("1，5", Both(true, 5)),
    ("1，5分", Both(true, 5)),
    ("1、5", Both(true, 5)),
    ("1。5", Both(true, 5)),
    ("1;5", Both(true, 5)),
    ("1/3", Both(true, 3)),
    ("2/4", Both(false, 4)),
    ("1.5", Both(true, 5)),
    ("1 ,5", Both(true, 5)),
    // Full width.
    ("１ ５", Both(true, 5)),
    ("１５", Both(true, 5)),
    ("２，４分", Both(false, 4)),
    ("1　5", Both(true, 5)),
    // 汉字 numerals and rating words for the score.
    ("1 五分", Both(true, 5)),
    ("是 五星", Both(true, 5)),
    ("1 五", Both(true, 5)),
    ("2 三分", Both(false, 3)),
    ("是，满分", Both(true, 5)),
    ("1 ★★★★", Both(true, 4)),
    ("1 5星", Both(true, 5)),
    ("yes 5 stars", Both(true, 5)),
    ("1 5/5", Both(true, 5)),
    ("1 4 out of 5", Both(true, 4)),
    // Words for the yes/no.
    ("是 5", Both(true, 5)),
    ("是5", Both(true, 5)),
    ("是的 5分", Both(true, 5)),
    ("解决了 5分", Both(true, 5)),
    ("解决了5分", Both(true, 5)),
    ("已解决，4分", Both(true, 4)),
    ("没解决 2分", Both(false, 2)),
    ("没有解决，1分", Both(false, 1)),
    ("没解决，1分", Both(false, 1)),
    ("未解决 3星", Both(false, 3)),
    ("否 3", Both(false, 3)),
    ("不 1", Both(false, 1)),
    ("嗯 5", Both(true, 5)),
    ("yes 5", Both(true, 5)),
    ("Yes, 4", Both(true, 4)),
    ("no, 3", Both(false, 3)),
    ("No 1", Both(false, 1)),
    ("y 5", Both(true, 5)),
    ("n 3", Both(false, 3)),
    ("n 2", Both(false, 2)),
    ("solved 5", Both(true, 5)),
    ("yes five", Both(true, 5)),
    ("是的，5分，谢谢", Both(true, 5)),
    ("谢谢 1 5", Both(true, 5)),
    ("1 5 thanks", Both(true, 5)),
    ("1 5！", Both(true, 5)),
    ("1 5 👍", Both(true, 5)),
    // The score first: read so only when the other order has no reading.
    ("5 1", Both(true, 5)),
    ("4 2", Both(false, 4)),
    ("51", Both(true, 5)),
    ("5分 解决了", Both(true, 5)),
    ("5分，是", Both(true, 5)),
    ("1分 是", Both(true, 1)),
    ("五星 已解决", Both(true, 5)),
    ("3 no", Both(false, 3)),
    // One part only: stored, the other re-prompted.
    ("是", Resolved(true)),
    ("是的", Resolved(true)),
    ("解决了", Resolved(true)),
    ("没解决", Resolved(false)),
    ("还没有", Resolved(false)),
    ("yes", Resolved(true)),
    ("no", Resolved(false)),
    ("N", Resolved(false)),
    ("ｎ", Resolved(false)),
    ("是的，谢谢", Resolved(true)),
    // Only yes/no words: a digit beside one echoes "1=是", it is no score.
    ("1 是", Resolved(true)),
    ("是1", Resolved(true)),
    ("1是的", Resolved(true)),
    // One part clear, the other said but not settled: the clear one (rule 6).
    ("解决了 但不太满意", Resolved(true)),
    ("没解决，但是不太满意", Resolved(false)),
    ("解决了 不是很满意", Again),
    ("解决了一部分 3分", Score(3)),
    ("解决了一点，4分", Score(4)),
    ("解决了一部分 客服很好", Again),
    ("1 1", Resolved(true)),
    ("2 2", Resolved(false)),
    // A yes/no in words, then a digit apart: both answers, in the order asked.
    ("yes 1", Both(true, 1)),
    ("不是 2", Both(false, 2)),
    ("no 2", Both(false, 2)),
    ("未解决，2", Both(false, 2)),
    ("not solved, 2", Both(false, 2)),
    ("5", Score(5)),
    ("３", Score(3)),
    ("4分", Score(4)),
    ("五星", Score(5)),
    ("五分", Score(5)),
    ("满分", Score(5)),
    ("★★★", Score(3)),
    ("1分", Score(1)),
    ("2分", Score(2)),
    ("4/5", Score(4)),
    ("5/5", Score(5)),
    ("ok 5", Score(5)),
    ("five", Score(5)),
    // Not read: both re-prompted.
    ("1", Again),
    ("2", Again),
    ("１", Again),
    ("1/5", Again),
    ("2/5", Again),
    ("6", Again),
    ("0", Again),
    ("0 5", Again),
    // The yes/no clear, the score not one of 1–5: the yes/no (rule 6).
    ("1 6", Resolved(true)),
    ("是 6", Resolved(true)),
    ("1 4-5", Resolved(true)),
    ("2 3.5", Resolved(false)),
    ("1 8", Resolved(true)),
    // Both after a remark that names neither.
    ("不要再扣我钱了，2 1", Both(false, 1)),
    // ── rule 7: the yes/no, then the score, each with a remark (eleventh corpus batch) ─────
    ("没解决，但是客服态度好，5分", Both(false, 5)),
    ("2，1分，钱还没退", Both(false, 1)),
    ("not solved yet, 2", Both(false, 2)),
    ("1, 服务5分 very good", Both(true, 5)),
    ("解决的挺好 5", Both(true, 5)),
    ("没有解决，客服也没用，1", Both(false, 1)),
    ("1 5 但是等太久", Again),
    ("2 钱还没到 快处理", Resolved(false)),
    ("1 钱还没到", Again),
    ("是 5 吗", Again),
    ("是 非常 满意", Both(true, 5)),
    ("莫得解决，打个2分", Both(false, 2)),
    (
        "问题解决了吗（1=是，2=否）？服务满意度1-5分（5=非常满意）？请一起回复，如：1 5。回TD退订 1 4",
        Both(true, 4),
    ),
    ("客服很耐心！1 5", Both(true, 5)),
    ("还是没到账，1 5", Again),
    ("10分", Again),
    ("55", Again),
    ("5 5", Again),
    ("1 2 3", Again),
    ("1-5", Again),
    ("115", Again),
    ("是 否 5", Again),
    ("好的 1", Again),
    ("ok", Again),
    ("一般吧", Score(3)),
    // A closing remark that names no answer is set aside (rule 5); one that might is not.
    ("1，4分 客服很专业", Both(true, 4)),
    ("没解决 1分 太差了", Both(false, 1)),
    ("no, 3 still waiting for refund", Both(false, 3)),
    ("4分吧", Score(4)),
    ("解决了，给5分", Both(true, 5)),
    ("对，五星好评", Both(true, 5)),
    ("解决了 一般吧", Both(true, 3)),
    ("1 5 还是很慢", Again),
    ("1 5 不太好", Again),
    ("1 5 or 4", Again),
    ("还行", Again),
    ("你们是谁", Again),
    ("", Again),
    ("1 5 maybe", Again),
    ("-1 5", Again),
    ("是 -5", Again),
    ("我的问题是5天前提的", Again),
    // Keywords stay keywords, a stop in words included.
    ("TD", Stop),
    ("td", Stop),
    ("退订", Stop),
    ("STOP", Stop),
    ("ＳＴＯＰ", Stop),
    ("TD退订", Stop),
    ("别再发了", Stop),
    ("stop texting me", Stop),
    ("START", Start),
    ("HELP", Help),
    ("帮助", Help),
    // "Not solved" beside a request for a person is why a person is wanted; a score is not.
    ("没解决，麻烦叫人打个电话给我", Help),
    ("没解决 2分，叫人打给我", Both(false, 2)),
    ("1 4 希望以后快一点", Both(true, 4)),
    ("1 4 解决了一点", Again),
];

fn read(reply: PairReply) -> Expect {
    match reply {
        PairReply::Answer(Pair {
            resolved: Some(r),
            satisfaction: Some(s),
        }) => Both(r, s),
        PairReply::Answer(Pair {
            resolved: Some(r),
            satisfaction: None,
        }) => Resolved(r),
        PairReply::Answer(Pair {
            resolved: None,
            satisfaction: Some(s),
        }) => Score(s),
        PairReply::Answer(Pair {
            resolved: None,
            satisfaction: None,
        }) => panic!("an answer with neither part"),
        PairReply::Keyword(Keyword::OptOut) => Stop,
        PairReply::Keyword(Keyword::OptIn) => Start,
        PairReply::Keyword(Keyword::Help) => Help,
        PairReply::NotUnderstood => Again,
    }
}

#[test]
fn the_table_reads_as_expected() {
    assert!(TABLE.len() >= 80, "{} forms", TABLE.len());
    let wrong: Vec<String> = TABLE
        .iter()
        .filter_map(|(text, expected)| {
            let got = read(parse(text, &LABELS));
            (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_long_text_is_not_cut_in_two() {
    let long = format!("1 5 {}", "5".repeat(MAX_PAIR_CHARS));
    assert_eq!(parse(&long, &LABELS), PairReply::NotUnderstood);
    // Unless what makes it long is a remark set aside.
    let remark = format!("1 5 {}", "很".repeat(MAX_PAIR_CHARS));
    assert_eq!(
        parse(&remark, &LABELS),
        PairReply::Answer(Pair {
            resolved: Some(true),
            satisfaction: Some(5)
        })
    );
}
