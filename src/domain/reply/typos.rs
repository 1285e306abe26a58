//! Misspellings a person reads past: an input method's homophone (`解绝了`, `非常满以`,
//! `以解决`) or a slip of the thumb (`very satisfed`, `resloved`, `unsubscibe`). A reader who
//! sees `满以` knows `满意` was meant; re-prompting for it only annoys.
//!
//! Corrected only towards the words replies are read by (answers, the shipped labels, the
//! stop words), so a misspelled remark stays a remark. Chinese: a table of the homophones
//! pinyin input produces for those words. English: a word of six letters or more one edit
//! (two from nine letters) from exactly one of those words, that is not itself a word
//! a reply uses (`resolve`, `lively`).

use std::sync::LazyLock;

use regex::Regex;

/// `norm`, a `normalise`d message, with its misspellings of answer words corrected.
pub(super) fn corrected(norm: String) -> String {
    // Twice: two shorthands may share the space between them (`3q 88`).
    let norm = (0..2).fold(norm, |text, _| {
        SHORTHAND
            .replace_all(&text, |c: &regex::Captures| {
                format!("{}{}{}", &c[1], shorthand(&c[2]), &c[3])
            })
            .into_owned()
    });
    let chinese = if norm.is_ascii() {
        norm
    } else {
        chinese(&norm)
    };
    if chinese.bytes().any(|b| b.is_ascii_alphabetic()) {
        english(&chinese)
    } else {
        chinese
    }
}

/// Wrong → right, as pinyin input methods offer them (same syllables, other characters).
#[rustfmt::skip]
const HOMOPHONES: &[(&str, &str)] = &[
    ("解绝", "解决"), ("解诀", "解决"), ("姐决", "解决"), ("接决", "解决"), ("解觉", "解决"),
    ("届决", "解决"), ("以解决", "已解决"), ("己解决", "已解决"), ("以经", "已经"), ("己经", "已经"),
    ("已径", "已经"), ("慢意", "满意"), ("蛮意", "满意"), ("满义", "满意"), ("瞒意", "满意"),
    ("满易", "满意"), ("漫意", "满意"), ("满忆", "满意"), ("非长", "非常"), ("飞常", "非常"),
    ("非偿", "非常"), ("推见", "推荐"), ("推建", "推荐"), ("推件", "推荐"), ("原意推荐", "愿意推荐"),
    ("非常原意", "非常愿意"), ("美有", "没有"),
    ("退定", "退订"), ("推订", "退订"), ("退丁", "退订"), ("借据", "解决"),
    ("解决乐", "解决了"), ("灰常", "非常"), ("巴分", "八分"), ("酒分", "九分"),
];

/// Dialect and slang → the standard words replies are read by: Cantonese 仲未 (还没), 唔使
/// (不用), 唔好 (不要), 俾 (给), 你哋 (你们), 呢啲 (这些), 点样 (怎么), 搵 (找), 打返 (打回),
/// 解决唔到 (解决不了), 唔满意 (不满意), 仲有 (还有), 几多 (多少), 返嚟 (回来), 喇 (啦); 表 for 别 before a verb of sending; 木有 (没有); English intensifiers
/// on a Chinese label (`very 满意`, `super满意`) and `so so` beside Chinese.
#[rustfmt::skip]
const DIALECT: &[(&str, &str)] = &[
    ("仲未", "还没"), ("唔使", "不用"), ("唔好", "不要"), ("表再", "别再"), ("表发", "别发"),
    ("木有", "没有"), ("very 满意", "非常满意"), ("very满意", "非常满意"), ("super 满意", "超满意"),
    ("super满意", "超满意"), ("so so", "一般"), ("soso", "一般"), ("solved了", "解决了"),
    ("resolved了", "解决了"), ("已resolve", "已解决"), ("已solve", "已解决"), ("挺satisfied", "挺满意"),
    ("很satisfied", "很满意"), ("俾", "给"), ("你哋", "你们"), ("我哋", "我们"), ("呢啲", "这些"),
    ("呢个", "这个"), ("点样", "怎么"), ("搵", "找"), ("打返", "打回"), ("唔到", "不了"),
    ("唔满意", "不满意"), ("唔系", "不是"), ("唔知", "不知道"), ("唔得", "不行"), ("唔太", "不太"),
    ("可唔可以", "可不可以"), ("仲有", "还有"), ("仲系", "还是"), ("几多", "多少"), ("返嚟", "回来"),
    ("嚟", "来"), ("喇", "啦"), ("嘢", "东西"),
];

/// 一班 ("one class") as a word of its own is 一般 mistyped: `一班吧`, `没解决 一班`.
static SO_SO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("(^|[\\s,，。])一班(吧|啦|呗)?($|[\\s,，。])").expect("a valid pattern")
});

/// Chat shorthand written with digits, as whole words: not numbers a reply means.
static SHORTHAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[\s,.!?])(3q|tq|u1s1|886|88|xx)([\s,.!?]|$)").expect("a valid pattern")
});

fn shorthand(word: &str) -> &'static str {
    match word {
        "3q" | "tq" | "xx" => "thanks",
        "u1s1" => "honestly",
        _ => "bye",
    }
}

/// 满以 is 满意 mistyped, except in 满以为 ("had firmly believed").
static SATISFIED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("满以([^为]|$)").expect("a valid pattern"));

/// 为解决 is 未解决 mistyped, except after a word that makes 为 "as" or "thought"
/// (以为解决了, 认为, 因为, 作为, 成为).
static UNSOLVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("(^|[^以认因作成])为解决").expect("a valid pattern"));

fn chinese(norm: &str) -> String {
    let fixed = HOMOPHONES
        .iter()
        .chain(DIALECT)
        .fold(norm.to_owned(), |text, (wrong, right)| {
            if text.contains(wrong) {
                text.replace(wrong, right)
            } else {
                text
            }
        });
    let fixed = SATISFIED.replace_all(&fixed, "满意$1");
    let fixed = SO_SO.replace_all(&fixed, "${1}一般$2$3");
    UNSOLVED.replace_all(&fixed, "${1}未解决").into_owned()
}

/// The English words replies are read by, long enough that one slip does not make another.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "satisfied", "dissatisfied", "unsatisfied", "resolved", "unresolved", "solved", "unsolved",
    "neutral", "likely", "unlikely", "recommend", "definitely", "absolutely", "unsubscribe",
    "unsubscribed", "thanks", "texting", "messaging",
];

/// Real words within one edit of those above, which a reply may mean as written.
#[rustfmt::skip]
const REAL: &[&str] = &[
    "resolve", "resolves", "solves", "solver", "lively", "satisfies", "unsolvable", "texted",
    "testing", "tenting", "thank", "thanked", "mentally",
];

fn english(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        out.push_str(meant(word).unwrap_or(word));
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    out
}

/// The answer word `word` is a slip for: the nearest, if no other is as near.
fn meant(word: &str) -> Option<&'static str> {
    if word.len() < 6 || WORDS.contains(&word) || REAL.contains(&word) {
        return None;
    }
    let allowed = if word.len() >= 9 { 2 } else { 1 };
    let distances: Vec<(usize, &'static str)> = WORDS
        .iter()
        .map(|w| (strsim::damerau_levenshtein(word, w), *w))
        .filter(|(d, _)| *d <= allowed)
        .collect();
    let nearest = distances.iter().map(|(d, _)| *d).min()?;
    let mut at_nearest = distances.iter().filter(|(d, _)| *d == nearest);
    let (_, first) = at_nearest.next()?;
    at_nearest.next().is_none().then_some(*first)
}

#[cfg(test)]
mod tests {
    use super::corrected;

    #[test]
    fn slips_are_read_as_the_word_meant() {
        for (typed, meant) in [
            ("解绝了", "解决了"),
            ("非常满以", "非常满意"),
            ("满以", "满意"),
            ("以解决", "已解决"),
            ("没有解绝", "没有解决"),
            ("非长满意", "非常满意"),
            ("very satisfed", "very satisfied"),
            ("satisifed", "satisfied"),
            ("resloved", "resolved"),
            ("sloved", "solved"),
            ("dissatisfid", "dissatisfied"),
            ("unsubscibe me", "unsubscribe me"),
            ("very likley", "very likely"),
            ("借据了", "解决了"),
            ("为解决 2分", "未解决 2分"),
            ("一班吧", "一般吧"),
            ("没解决 一班", "没解决 一般"),
            ("super满意", "超满意"),
            ("灰常满意", "非常满意"),
            ("問題仲未解決", "問題还没解決"),
            ("唔使再发啦", "不用再发啦"),
            ("5 886", "5 bye"),
            ("u1s1 1 4", "honestly 1 4"),
            ("1 5 3q", "1 5 thanks"),
        ] {
            assert_eq!(corrected(typed.to_owned()), meant, "{typed:?}");
        }
    }

    #[test]
    fn words_that_are_not_slips_stay() {
        for text in [
            "我满以为解决了",
            "可以",
            "resolve",
            "the agent was lively",
            "testing",
            "5 stars",
            "not satisfied",
            "satisfied",
            "help",
            "salary",
            "88分",
            "1 5 88分",
            "表格",
            "上一班的客服",
        ] {
            assert_eq!(corrected(text.to_owned()), text, "{text:?}");
        }
    }
}
