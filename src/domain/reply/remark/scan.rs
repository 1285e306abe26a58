//! What a reply mentions, left to right: scores (a number with its unit and denominator,
//! a row of stars, 满分), labels, negations, and what puts a reading in doubt. The words of
//! the remark itself are kept only as `Word` (or `Break` at sentence punctuation), which
//! separate a negation from what follows.

use super::super::{
    Keyword, Labels, chinese_digit, chinese_number, is_chinese, is_invisible, is_separator,
    is_star, lookup_keyword,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Piece {
    /// A number as a score, a row of stars, or 满分 (the scale's top).
    Score(i64),
    Label(i32),
    /// A label asked back in scorn (`满意什么`, `满意个屁`, `点会满意`): the customer denies it, which
    /// agrees only with a score at or below the scale's middle (`2分，满意什么`).
    Denied,
    /// 不, 没, 不是, not: negates the score or label right after it.
    Not,
    /// 很, 非常, very: may stand between a negation and what it negates.
    Intensifier,
    /// Any reading would be a guess: two numbers in one (`五六`, `3-4`, `4.5`), another
    /// scale, a condition or bound (`如果`, `至少`, `or`), a question (`吗`), a keyword.
    Doubt,
    /// Sentence punctuation: a negation reaches no further.
    Break,
    Word,
}

/// 本来想给5分 (but did not), 如果…就5分, 至少/最多 4分, 4或5, 满意吗, 满分是几分, and opt-out or opt-in
/// keywords inside a sentence (the customer may want out: the re-prompt says how). Not help:
/// `谢谢你的帮助`, `great help` thank the agent.
const DOUBTS: &[&str] = &[
    "本来",
    "原本",
    "本想",
    "如果",
    "要是",
    "假如",
    "假设",
    "至少",
    "最多",
    "最少",
    "起码",
    "顶多",
    "超过",
    "低于",
    "高于",
    "不到",
    "以上",
    "以下",
    "或",
    "吗",
    "嘛",
    "退订",
    "拒收",
    "订阅",
    "之间",
    "几分",
    "多少分",
    "是几",
    "是多少",
    // sarcasm: 非常满意（才怪）, 呵呵，非常满意, 推荐给我仇人 10分
    "才怪",
    "呵呵",
    "仇人",
];
#[rustfmt::skip]
const DOUBT_WORDS: &[&str] = &[
    "if", "or", "unless", "than", "least", "most", "between", "either", "otherwise",
];
const DOUBT_PHRASES: &[&str] = &["would be", "would have", "would've", "could be"];

/// After a label, asking it back in scorn: `满意什么`, `满意个啥`, `满意个屁`.
const SCORN: &[&str] = &["什么", "个啥", "啥", "个屁", "个鬼", "个毛", "个锤子"];

/// Before a label, asking how it could be: `怎么可能满意`, Cantonese `点会满意`.
const HOW_COULD: &[&str] = &[
    "怎么可能",
    "怎么会",
    "点会",
    "哪会",
    "怎会",
    "咋会",
    "咋可能",
];

/// Checked before `NOTS`: 非常 is not 非.
#[rustfmt::skip]
const INTENSIFIERS: &[&str] = &[
    "非常之", "非常", "特别", "很", "太", "挺", "蛮", "真", "那么", "怎么", "超级", "超", "贼", "好",
    "巨", "特",
];
#[rustfmt::skip]
const INTENSIFIER_WORDS: &[&str] = &[
    "very", "so", "too", "really", "quite", "that", "extremely", "super", "totally",
];
/// "About" before a score softens it and negates nothing (`差不多7分`), though it holds 不;
/// nor do "but", "not bad" or "sorry" (`不过最后处理好了 3分吧`, `服务不错 4分`).
const ABOUT: &[&str] = &["差不多", "不多不少", "不过", "不错", "不好意思"];
const NOTS: &[&str] = &[
    "不是", "不太", "不大", "不算", "不够", "并不", "并非", "没有", "不", "没", "未", "非",
];
const NOT_WORDS: &[&str] = &["not", "never", "isn't", "wasn't", "isn’t", "wasn’t"];

/// What a number may count instead of a score: `等了20分钟`, `打了3次`, `2 days`.
const QUANTITIES: &[&str] = &[
    "分钟", "小时", "个", "次", "天", "遍", "元", "块", "号", "月", "年", "秒", "周", "岁", "通",
    "条", "单", "笔", "位", "人", "多", "倍", "家", "回", "趟", "下", "钟", "成", "折", "万", "千",
    "百", "%",
];
const QUANTITY_WORDS: &[&str] = &[
    "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "day", "days", "time",
    "times", "week", "weeks", "month", "months", "year", "years", "yuan", "rmb", "calls", "call",
    "am", "pm", "x",
];
const UNIT_WORDS: &[&str] = &["point", "points", "pt", "pts", "star", "stars"];
const NUMBER_WORDS: [&str; 11] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];
/// `no one answered`, `the one who…`: a number word that is not a number.
const NOT_BEFORE_A_NUMBER: &[&str] = &["no", "any", "every", "some", "the", "which", "each"];
/// Characters after which a Chinese numeral stands on its own: 给五星, 打八分.
const GIVING: &str = "给打评是就个为";

/// The pieces of `norm`. `stars_rate`: a row of stars is a score (the 1–5 scale only).
pub(super) fn pieces(norm: &str, max: i64, stars_rate: bool, labels: &Labels) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < norm.len() {
        let (piece, len) = next(&norm[..i], &norm[i..], max, stars_rate, labels);
        pieces.extend(piece);
        i += len;
    }
    pieces
}

fn next(
    before: &str,
    rest: &str,
    max: i64,
    stars_rate: bool,
    labels: &Labels,
) -> (Option<Piece>, usize) {
    let c = rest.chars().next().expect("called on a non-empty rest");
    let prev = before.chars().next_back();
    let word_start =
        !(c.is_ascii_alphanumeric() && prev.is_some_and(|p| p.is_ascii_alphanumeric()));
    if c == ' ' {
        return (None, 1);
    }
    // 点会满意, 怎么可能满意: asked back in scorn before the label.
    if let Some(ask) = starts_with_any(rest, HOW_COULD)
        && let Some((len, _)) = labels.at(&rest[ask..])
    {
        return (Some(Piece::Denied), ask + len);
    }
    if word_start && let Some((len, value)) = labels.at(rest) {
        if let Some(scorn) = starts_with_any(&rest[len..], SCORN) {
            return (Some(Piece::Denied), len + scorn);
        }
        return (Some(Piece::Label(value)), len);
    }
    if let Some(len) = starts_with_any(rest, DOUBTS).or_else(|| phrase_at(rest, DOUBT_PHRASES)) {
        return (Some(Piece::Doubt), len);
    }
    if rest.starts_with("十分") && rest["十分".len()..].starts_with(is_chinese) {
        return (Some(Piece::Intensifier), "十分".len());
    }
    if let Some(len) = starts_with_any(rest, INTENSIFIERS) {
        return (Some(Piece::Intensifier), len);
    }
    if let Some(len) = starts_with_any(rest, ABOUT) {
        return (Some(Piece::Word), len);
    }
    if let Some(len) = starts_with_any(rest, NOTS).or_else(|| phrase_at(rest, NOT_WORDS)) {
        return (Some(Piece::Not), len);
    }
    if rest.starts_with("满分") {
        return full_marks(rest, max);
    }
    if c.is_ascii_digit() {
        return digits(rest, max);
    }
    if chinese_digit(c).is_some() {
        return chinese(rest, prev, max);
    }
    if c.is_ascii_alphabetic() {
        return english(before, rest, max);
    }
    if is_star(c) {
        let row = prefix(rest, |c| is_star(c) || c == ' ' || is_invisible(c));
        let filled = row.chars().filter(|c| is_star(*c) && *c != '☆').count();
        let piece = if stars_rate {
            Piece::Score(filled as i64)
        } else {
            Piece::Doubt
        };
        return (Some(piece), row.len());
    }
    // A sign or a range mark before a digit: `-5`, `3-4`, `~5`.
    if matches!(c, '-' | '+' | '~') && rest[1..].starts_with(|d: char| d.is_ascii_digit()) {
        return (Some(Piece::Doubt), 1);
    }
    // An apostrophe is inside a word ("it's"), not between sentences.
    let piece = if is_separator(c) && !matches!(c, '\'' | '’') {
        Piece::Break
    } else {
        Piece::Word
    };
    (Some(piece), c.len_utf8())
}

fn digits(rest: &str, max: i64) -> (Option<Piece>, usize) {
    let run = prefix(rest, |c| c.is_ascii_digit());
    let after = &rest[run.len()..];
    if after.starts_with('.') && after[1..].starts_with(|d: char| d.is_ascii_digit()) {
        return (Some(Piece::Doubt), run.len() + 1);
    }
    // Letters stuck to the digits that are no unit: a number mistyped (`1O` for 10, `5t`).
    let stuck = prefix(after, |c| c.is_ascii_alphabetic());
    if !stuck.is_empty() && score_unit(after).is_none() && !QUANTITY_WORDS.contains(&stuck) {
        return (Some(Piece::Doubt), run.len() + stuck.len());
    }
    number(run.parse().ok(), run.len(), rest, max)
}

/// A Chinese numeral is a number where it stands on its own or before a score unit (`五星`,
/// `给八分`, `零分`), not inside a word (`一般`, `一直`, `统一`, `快一点`, `两次`).
fn chinese(rest: &str, prev: Option<char>, max: i64) -> (Option<Piece>, usize) {
    let run = prefix(rest, |c| chinese_digit(c).is_some());
    let after = &rest[run.len()..];
    let alone_before = prev.is_none_or(|p| !is_chinese(p) || GIVING.contains(p));
    let alone_after = score_unit(after).is_some() || !after.starts_with(is_chinese);
    if !(alone_before && alone_after) {
        return (Some(Piece::Word), run.len());
    }
    number(chinese_number(run), run.len(), rest, max)
}

fn english(before: &str, rest: &str, max: i64) -> (Option<Piece>, usize) {
    let word = prefix(rest, |c| c.is_ascii_alphabetic());
    let len = word.len();
    // "wouldn't", "don’t": the apostrophe splits the word, the negation is whole.
    if let Some(t) = ["n't", "n’t"]
        .into_iter()
        .find(|t| word.ends_with('n') && rest[len - 1..].starts_with(t))
    {
        return (Some(Piece::Not), len - 1 + t.len());
    }
    if DOUBT_WORDS.contains(&word) || is_doubtful_keyword(word) {
        return (Some(Piece::Doubt), len);
    }
    if INTENSIFIER_WORDS.contains(&word) {
        return (Some(Piece::Intensifier), len);
    }
    let Some(n) = NUMBER_WORDS.iter().position(|n| *n == word) else {
        return (Some(Piece::Word), len);
    };
    // "no one answered", "one more thing": a number word inside a phrase is not a score.
    let previous_word = ascii_words(before).next_back().unwrap_or("");
    let next_word = prefix(rest[len..].trim_start(), |c| c.is_ascii_alphabetic());
    let in_a_phrase = NOT_BEFORE_A_NUMBER.contains(&previous_word)
        || !(next_word.is_empty()
            || UNIT_WORDS.contains(&next_word)
            || QUANTITY_WORDS.contains(&next_word)
            || matches!(next_word, "out" | "of"));
    if in_a_phrase {
        return (Some(Piece::Word), len);
    }
    number(Some(n as i64), len, rest, max)
}

/// After a number: a quantity instead of a score (`20分钟`), or a score with its unit and
/// its denominator, which must be the scale's top (`8/10`, `8 out of 10`, `10分满分`).
fn number(value: Option<i64>, len: usize, rest: &str, max: i64) -> (Option<Piece>, usize) {
    let Some(value) = value else {
        return (Some(Piece::Doubt), len);
    };
    let after = &rest[len..];
    let gap = after.len() - after.trim_start_matches(' ').len();
    let tail = &after[gap..];
    if let Some(q) = starts_with_any(tail, QUANTITIES).or_else(|| phrase_at(tail, QUANTITY_WORDS)) {
        return (Some(Piece::Word), len + gap + q);
    }
    let mut len = len;
    if let Some(unit) = score_unit(tail) {
        len += gap + unit;
        // `五颗星⭐`, `5分🌟`: a star after a unit in words decorates the score, it is not a
        // second one (`5⭐⭐⭐⭐⭐` still is: the star there is the unit).
        if !tail.starts_with(is_star) {
            len += prefix(&rest[len..], |c| is_star(c) || is_invisible(c)).len();
        }
    }
    match denominator(&rest[len..]) {
        Some((top, d)) if top == Some(max) => (Some(Piece::Score(value)), len + d),
        Some((None, d)) if value == max => (Some(Piece::Score(value)), len + d),
        Some((_, d)) => (Some(Piece::Doubt), len + d),
        None => (Some(Piece::Score(value)), len),
    }
}

/// `/10`, `out of 10`, `of 10`, `满分` (with the top it names, if any) and its length.
fn denominator(rest: &str) -> Option<(Option<i64>, usize)> {
    let gap = rest.len() - rest.trim_start_matches(' ').len();
    let tail = &rest[gap..];
    let marker = ["/", "out of", "of", "满分"]
        .into_iter()
        .find(|m| tail.starts_with(m))?;
    let after = &tail[marker.len()..];
    let gap2 = after.len() - after.trim_start_matches(' ').len();
    let top = &after[gap2..];
    let digits = prefix(top, |c| c.is_ascii_digit());
    let numerals = prefix(top, |c| chinese_digit(c).is_some());
    let (value, n) = if !digits.is_empty() {
        (digits.parse().ok(), digits.len())
    } else if !numerals.is_empty() {
        (chinese_number(numerals), numerals.len())
    } else if marker == "满分" {
        return Some((None, gap + marker.len()));
    } else {
        // "one of the agents": not a denominator.
        return None;
    };
    let unit = score_unit(&top[n..]).unwrap_or(0);
    Some((value.or(Some(-1)), gap + marker.len() + gap2 + n + unit))
}

/// `满分` alone is the top of the scale; `满分10分` states the scale (nothing answered) if
/// it is this one, and is another scale's if not.
fn full_marks(rest: &str, max: i64) -> (Option<Piece>, usize) {
    match denominator(rest) {
        Some((None, len)) => (Some(Piece::Score(max)), len),
        Some((Some(top), len)) if top == max => (Some(Piece::Word), len),
        Some((_, len)) => (Some(Piece::Doubt), len),
        None => (Some(Piece::Score(max)), "满分".len()),
    }
}

/// 分 (not 分钟), 星, 颗星, 颗, 点 at the end (`3点打的` is a time), a star, points, stars.
fn score_unit(tail: &str) -> Option<usize> {
    if tail.starts_with("分钟") {
        return None;
    }
    if let Some(len) = starts_with_any(tail, &["颗星", "分", "星", "颗"]) {
        return Some(len);
    }
    if tail.starts_with('点') && !tail['点'.len_utf8()..].starts_with(is_chinese) {
        return Some('点'.len_utf8());
    }
    if let Some(c) = tail.chars().next().filter(|c| is_star(*c)) {
        return Some(c.len_utf8());
    }
    phrase_at(tail, UNIT_WORDS)
}

/// A yes or no that the reply itself calls partial or unsure: `解决了一部分`, `差不多吧`,
/// `maybe`, `not sure`, `应该解决了吧`, or a question (`解决了吗`, `嗯？什么意思`).
pub(super) fn doubts_a_yes_or_no(norm: &str) -> bool {
    #[rustfmt::skip]
    const PARTIAL: &[&str] = &[
        // `一点` of the problem (`解决了一点`), not of a wish (`希望以后快一点`)
        "部分", "解决了一点", "解决一点", "好了一点", "一点点", "一些", "什么", "啥", "?", "一半", "差不多", "基本", "算是", "应该", "好像", "可能",
        "大概", "也许", "或", "吗", "嘛", "不知道", "不清楚", "不确定", "退订", "拒收",
        "订阅", "寂寞", "才怪", "呵呵",
        // a word in quotes is someone else's, or said in scorn (`解决得真"好"`)
        "\"", "“", "”", "「", "」",
    ];
    #[rustfmt::skip]
    const UNSURE: &[&str] = &[
        "maybe", "probably", "bit", "some", "partly", "partially", "mostly", "almost", "sort", "kind", "sure",
        "think", "guess", "or", "if",
    ];
    PARTIAL.iter().any(|p| norm.contains(p))
        || ascii_words(norm).any(|w| UNSURE.contains(&w) || is_doubtful_keyword(w))
}

/// "But" after a yes that takes it back, saying the problem is not over: `是的，但是没解决`,
/// `解决了，但是又出问题了`, `yes but it broke again`. A "but" about something else leaves the
/// yes standing, as a person reads it: `是，但是等了很久`, `解决了，但是客服态度很差`.
pub(super) fn contrasts(remark: &str) -> bool {
    const BUT: &[&str] = &["但是", "但", "不过", "可是", "然而"];
    #[rustfmt::skip]
    const NOT_OVER: &[&str] = &[
        "又", "还是", "还没", "还不", "还在", "仍", "依然", "依旧", "再次", "没", "未", "失败",
        "问题", "只", "部分", "一半", "不能", "不了", "无法", "不行", "退款", "到账",
    ];
    #[rustfmt::skip]
    const NOT_OVER_WORDS: &[&str] = &[
        "again", "still", "not", "no", "broke", "broken", "didn't", "didnt", "doesn't",
        "doesnt", "only", "partly", "partially", "issue", "problem", "fail", "failed", "can't",
        "cant", "refund", "yet",
    ];
    let chinese_after = BUT
        .iter()
        .find_map(|b| remark.find(b).map(|at| &remark[at + b.len()..]));
    let mut english_after = ascii_words(remark)
        .skip_while(|w| !matches!(*w, "but" | "however" | "though" | "although" | "except"))
        .skip(1);
    chinese_after.is_some_and(|after| NOT_OVER.iter().any(|w| after.contains(w)))
        || english_after.any(|w| NOT_OVER_WORDS.contains(&w))
}

/// The remark with its "not resolved" phrases blanked out, and whether it had any.
pub(super) fn take_no_phrases(remark: &str) -> (String, bool) {
    #[rustfmt::skip]
    const NO: &[&str] = &[
        "还没有解决", "还没解决", "没有解决", "没解决", "未解决", "没能解决", "未能解决",
        "解决不了", "没有好", "没好", "还没", "not solved", "not resolved", "not fixed",
        "not yet", "still not",
    ];
    let mut rest = remark.to_owned();
    let mut found = false;
    for phrase in NO {
        if rest.contains(phrase) {
            found = true;
            rest = rest.replace(phrase, " ");
        }
    }
    (rest, found)
}

pub(super) fn has_yes_phrase(remark: &str) -> bool {
    #[rustfmt::skip]
    const YES: &[&str] = &[
        "解决了", "已解决", "已经解决", "搞定了", "处理好了", "已处理",
    ];
    YES.iter().any(|p| remark.contains(p))
        || ascii_words(remark).any(|w| matches!(w, "solved" | "resolved" | "fixed"))
}

/// The answer an unspaced clause starts with, if nothing else could start that way:
/// `解决了谢谢`, `已经解决了哦`, `是的解决了`, `没解决还是扣款失败`.
pub(super) fn unmistakable_start(clause: &str) -> Option<(usize, bool)> {
    const STARTS: &[(&str, bool)] = &[
        ("已经解决了", true),
        ("已经解决", true),
        ("还没有解决", false),
        ("还没解决", false),
        ("没有解决", false),
        ("已解决", true),
        ("解决了", true),
        ("解决啦", true),
        // 的 for 得, as voice input writes it: 解决的很及时
        ("解决得", true),
        ("解决的很", true),
        ("解决的挺", true),
        ("没解决", false),
        ("未解决", false),
        ("冇搞掂", false),
        ("冇解决", false),
        ("莫得解决", false),
        ("没得解决", false),
        ("已经处理好了", true),
        ("处理好了", true),
        ("还没呢", false),
        ("还是没", false),
        ("还是不行", false),
        ("还没弄好", false),
        ("没弄好", false),
        ("是的", true),
        ("对的", true),
    ];
    // `嗯嗯解决啦`, `哦已经解决了`: a murmur before the answer.
    let murmur = prefix(clause, |c| {
        matches!(c, '嗯' | '哦' | '噢' | '喔' | '额' | '呃')
    })
    .len();
    let clause = &clause[murmur..];
    STARTS
        .iter()
        .find(|(s, _)| clause.starts_with(s))
        .map(|(s, answer)| (murmur + s.len(), *answer))
}

/// An opt-out or opt-in keyword inside a sentence (`stop 5`); `help` there thanks the agent.
fn is_doubtful_keyword(word: &str) -> bool {
    word.len() >= 2 && matches!(lookup_keyword(word), Some(k) if k != Keyword::Help)
}

fn ascii_words(text: &str) -> impl DoubleEndedIterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
}

fn starts_with_any(rest: &str, prefixes: &[&str]) -> Option<usize> {
    prefixes
        .iter()
        .find(|p| rest.starts_with(*p))
        .map(|p| p.len())
}

/// An English word or phrase at the start of `rest`, ending at a word's end.
fn phrase_at(rest: &str, phrases: &[&str]) -> Option<usize> {
    phrases
        .iter()
        .find(|p| {
            rest.starts_with(*p)
                && !rest[p.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        })
        .map(|p| p.len())
}

fn prefix(text: &str, keep: impl Fn(char) -> bool) -> &str {
    let end = text.find(|c: char| !keep(c)).unwrap_or(text.len());
    &text[..end]
}
