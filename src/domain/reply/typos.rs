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
    ("退定", "退订"), ("推订", "退订"), ("退丁", "退订"),
];

/// 满以 is 满意 mistyped, except in 满以为 ("had firmly believed").
static SATISFIED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("满以([^为]|$)").expect("a valid pattern"));

fn chinese(norm: &str) -> String {
    let fixed = HOMOPHONES
        .iter()
        .fold(norm.to_owned(), |text, (wrong, right)| {
            if text.contains(wrong) {
                text.replace(wrong, right)
            } else {
                text
            }
        });
    SATISFIED.replace_all(&fixed, "满意$1").into_owned()
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
        ] {
            assert_eq!(corrected(text.to_owned()), text, "{text:?}");
        }
    }
}
