//! Reading one reply to two questions asked in one SMS (the compact survey, README "The
//! compact survey"): was the problem resolved (yes/no) and how satisfied (1–5), as in `1 5`,
//! `15`, `1，5分`, `是 5`, `解决了 5分`. Each part is read by the single-question readers
//! (`yes_no`, `scale`); this module only decides where one part ends and the other begins.
//!
//! The rules, in order:
//! 1. A keyword is a keyword (`TD`, `STOP`, a stop in words); `N` alone is "no", as it is
//!    to any yes/no question.
//! 2. The message is cut in two at every place (between words, or inside a word: `15`,
//!    `是5`); a reading is a cut whose left part is a yes/no answer and right part a score.
//!    The yes/no comes first, as the SMS asks it and its example shows (`2 1` is "no, 1");
//!    a score first is read only when no cut reads the other way (`5 1`, `5分 解决了`).
//!    Two different readings are no reading.
//!    A slash or a `和` at the cut separates (`1/3`, `1和5`).
//! 3. The whole message may answer one of the two: `是`, `没解决` (resolved only), `5`, `4分`,
//!    `五星`, `满分` (satisfaction only). `1` and `2` alone are both a yes/no and a score and
//!    are not read; a lone `3`–`5` can only be a score. A message made only of yes/no words
//!    is the yes/no alone even if it cuts into a pair: `1 是`, `是1`, `1 1` echo "1=是"
//!    rather than give a score of 1. But a yes/no in words with a digit apart after it is
//!    the pair in the order asked: `no 2`, `未解决，2`, `yes 1`.
//! 4. A message that reads both as a pair and as a score alone is not read: `1/5` is "yes, 5"
//!    or "1 out of 5". Nor is anything else: `0 5`, `6`, `是 6`, `1 2 3`, `5 5`.
//!
//! 5. What does not read may read once a remark is set aside (`without_remark`): `1，4分
//!    客服很专业`, `4分吧`, `解决了，给5分`, `对，五星好评`; and a yes/no with a remark and no
//!    score in it is the yes/no alone (`解决了谢谢`, not `是 不太满意`).
//! 6. One part clear, the other said but unsettled, stores the clear one and asks the other
//!    again (`one_part_settled`): `解决了 但不太满意` (yes, after a "but"; `是 不太满意` is
//!    asked again whole), `1 4-5`, `1 8`, `是 6` (yes), `解决了一部分 3分` (3). And a remark
//!    may come first: `不要再扣我钱了，2 1` (`after_remark`).
//! 7. The yes/no and then the score, each with a remark around it, read in the order asked
//!    (`in_order_with_remarks`): `没解决，但是客服态度好，5分` is "no, 5"; a "no" with what
//!    is still wrong and no score is the "no" alone (`2 钱还没到 快处理`).
//!
//! What is not read is re-prompted by the caller, once: a wrong score counts for good.

use super::{
    Keyword, Labels, answer_words, echo, help_intent, is_separator, keyword_of, normalise, remark,
    scale, script_runs, unspaced_chinese, words, yes_no,
};

/// The satisfaction scale of the compact pair.
const MIN: i32 = 1;
const MAX: i32 = 5;

/// Words that join the two answers (`1和5`, `1 and 5`); after a yes/no they cannot be
/// part of it.
const JOINERS: &[char] = &['和', '跟', '&'];

/// Longer replies are not cut in two: a pair answer is a few characters, and cutting a
/// long text at every place would cost the square of its length.
const MAX_PAIR_CHARS: usize = 40;

/// What one reply answered; at least one part is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub resolved: Option<bool>,
    pub satisfaction: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairReply {
    Keyword(Keyword),
    Answer(Pair),
    NotUnderstood,
}

/// Reads `text` as the answer to a yes/no question and a 1–5 scale asked together; the
/// scale's `labels` (`非常满意` = 5) answer it as its digits do.
pub fn parse(text: &str, labels: &Labels) -> PairReply {
    read_pair(text, labels).0
}

/// `parse`, and whether the answers came with a remark (rule 5, or a yes/no read past
/// the words after it), as `reply::Read::remark`.
pub fn read_pair(text: &str, labels: &Labels) -> (PairReply, bool) {
    let norm = normalise(text);
    if norm == "n" {
        return (answer(Some(false), None), false);
    }
    if let Some(keyword) = keyword_of(&norm) {
        return (PairReply::Keyword(keyword), false);
    }
    if help_intent::asks_for_help(&norm, help_intent::Answering::Pair) {
        return (PairReply::Keyword(Keyword::Help), false);
    }
    // After a pasted question only answers are taken: a keyword is what `keyword` finds
    // in the whole message.
    if let Some(answer) = echo::answer_after(&norm)
        && let inner @ (PairReply::Answer(_), _) = read_pair(answer, labels)
    {
        return inner;
    }
    let norm = unspaced_chinese(&norm);
    match read(&norm, labels) {
        (PairReply::NotUnderstood, _) => {
            let reading = without_remark(&norm)
                .map(|plain| read(&plain, labels).0)
                .filter(|r| *r != PairReply::NotUnderstood)
                .or_else(|| after_remark(&norm, labels))
                .or_else(|| one_part_settled(&norm, labels).map(PairReply::Answer))
                .or_else(|| in_order_with_remarks(&norm, labels).map(PairReply::Answer))
                .unwrap_or(PairReply::NotUnderstood);
            let remarked = reading != PairReply::NotUnderstood;
            (reading, remarked)
        }
        reading => reading,
    }
}

/// Rules 2–4 on a message that is not a keyword, and whether it was read past a remark.
fn read(norm: &str, labels: &Labels) -> (PairReply, bool) {
    let reading = match (one_of_two(norm, labels), both(norm, labels)) {
        // A yes/no word, then apart from it a digit: the two answers in the order asked
        // (`no 2`, `未解决，2`), as every hand that wrote the corpus read them.
        (
            Some(Pair {
                satisfaction: None, ..
            }),
            Some((resolved, satisfaction)),
        ) if word_then_digit(norm) => answer(Some(resolved), Some(satisfaction)),
        // Otherwise every word a yes/no word: the digit beside one is an echo of "1=是"
        // (`1 是`, `是1`, `1 1`), not a score.
        (
            Some(
                alone @ Pair {
                    satisfaction: None, ..
                },
            ),
            _,
        ) => PairReply::Answer(alone),
        (None, Some((resolved, satisfaction))) => answer(Some(resolved), Some(satisfaction)),
        (Some(alone), None) => PairReply::Answer(alone),
        // `1/5`: "yes, 5" or "1 out of 5".
        (Some(_), Some(_)) => PairReply::NotUnderstood,
        (None, None) => {
            return resolved_with_remark(norm)
                .map_or((PairReply::NotUnderstood, false), |resolved| {
                    (answer(Some(resolved), None), true)
                });
        }
    };
    (reading, false)
}

/// One answer clear and the other said but not settled (rule 6): `解决了 但不太满意` is
/// "yes" with the satisfaction asked again, `解决了一部分 3分` is 3 with the resolution asked
/// again. The message is split at its last space or mark; the unsettled side must speak of
/// its own question (a word of satisfaction; a partial or unsure "solved"), so a remark
/// about something else is not taken for one.
fn one_part_settled(norm: &str, labels: &Labels) -> Option<Pair> {
    let trimmed = norm.trim_end_matches(is_separator);
    // Not at a point: `1 4.5` is "1" and "4.5".
    let (at, mark) = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| is_separator(*c) && *c != '.')?;
    let (left, right) = (&trimmed[..at], &trimmed[at + mark.len_utf8()..]);
    let score = scale(right, MIN, MAX);
    // Only after a "but": `是 不太满意` (no "but") reads, to the people who wrote the
    // corpus, as one half-said answer to both, and is asked again.
    let but_unsatisfied = ["但", "不过", "可是", "but "]
        .iter()
        .any(|b| right.starts_with(b))
        && (right.contains("满意") || right.contains("satisf"))
        && label(right, labels).is_none();
    // `1 4-5`, `1 4.5`, `1 8`, `是 6`: the yes/no is clear, the score is not one.
    // Not a signed number (`是 -5`) nor an "or" (`1 4或5`), which may reach the yes/no too.
    let unsettled_score = names_a_number(right)
        && !right.contains(' ')
        && !right.starts_with(['-', '+'])
        && !["或", "or", "吗", "?"].iter().any(|w| right.contains(w))
        && score.is_none();
    if (but_unsatisfied || unsettled_score)
        && let Some(resolved) = yes_no(left)
    {
        return Some(Pair {
            resolved: Some(resolved),
            satisfaction: None,
        });
    }
    let of_resolving = ["解决", "solved", "resolved", "fixed"]
        .iter()
        .any(|w| left.contains(w));
    if let Some(satisfaction) = score
        && of_resolving
        && remark::doubts_a_yes_or_no(left)
    {
        return Some(Pair {
            resolved: None,
            satisfaction: Some(satisfaction),
        });
    }
    None
}

/// The yes/no, then the score, each with words around it (rule 7): `没解决，但是客服态度好，
/// 5分`, `2，1分，钱还没退`, `1, 服务5分 very good`, `解决的挺好 5`. The message is cut at the
/// first place where what comes before reads as a yes/no alone (a digit there only as the
/// yes/no itself) and what comes after holds one score. After a "no" the remark may say
/// anything but doubt; after a "yes" it may not say the problem goes on either (`1 5 还是很慢`
/// and `1 5 maybe` are asked again, as rule 4 keeps them).
fn in_order_with_remarks(norm: &str, labels: &Labels) -> Option<Pair> {
    const GOES_ON: &[&str] = &[
        "还是", "还没", "还不", "又", "仍", "依然", "依旧", "没", "不", "但", "不过", "可是",
        "still", "again", "not", "but",
    ];
    norm.char_indices()
        .filter(|(_, c)| is_separator(*c))
        .find_map(|(at, c)| {
            let (head, rest) = (norm[..at].trim(), norm[at + c.len_utf8()..].trim());
            let resolved = match yes_no(head) {
                Some(answer) => answer,
                None if names_a_number(head) => return None,
                None => remark::yes_no(head)?,
            };
            let goes_on = GOES_ON.iter().any(|w| rest.contains(w));
            let doubted = remark::doubts_a_yes_or_no(rest) || (resolved && goes_on);
            if rest.is_empty() || doubted {
                return None;
            }
            // A "no" and what is still wrong, no score (`2 钱还没到 快处理`): the "no" alone.
            if !resolved && goes_on && !names_a_number(rest) && !rest.contains("满意") {
                return Some(Pair {
                    resolved: Some(false),
                    satisfaction: None,
                });
            }
            let satisfaction = remark::scale(rest, MIN, MAX, labels)?;
            Some(Pair {
                resolved: Some(resolved),
                satisfaction: Some(satisfaction),
            })
        })
}

/// Both answers in the last clause after a remark that names neither (`不要再扣我钱了，2 1`):
/// the remark may come first, as it may to a single question.
fn after_remark(norm: &str, labels: &Labels) -> Option<PairReply> {
    let (at, mark) = norm
        .char_indices()
        .rev()
        .find(|(_, c)| is_separator(*c) && *c != ' ')?;
    let (remark, last) = (&norm[..at], &norm[at + mark.len_utf8()..]);
    // Stricter than `says_nothing_of_answers` on what may answer (`还是没到账，1 5` is asked
    // again), looser on a demand (`不要…`, `别…`): it stands before the answers, not after.
    const BEARS: &[&str] = &[
        "是",
        "对",
        "嗯",
        "解决",
        "处理",
        "好了",
        "没",
        "未",
        "否",
        "满意",
        "吗",
        "?",
        "或",
        "可能",
        "应该",
        "大概",
        "也许",
        "差不多",
        "yes",
        "no",
        "not",
        "solved",
        "satisf",
        "maybe",
    ];
    if names_a_number(remark) || BEARS.iter().any(|w| remark.contains(w)) {
        return None;
    }
    match read(last, labels).0 {
        both @ PairReply::Answer(Pair {
            resolved: Some(_),
            satisfaction: Some(_),
        }) => Some(both),
        _ => None,
    }
}

/// A yes/no in words first, and a lone digit as the last word, apart from it: `no 2`,
/// `not solved, 2`, `是 1`; not `是1` (stuck to the word), `1 是` or `1 1`.
fn word_then_digit(norm: &str) -> bool {
    let all: Vec<&str> = words(norm).collect();
    match all.as_slice() {
        [first, .., last] => {
            !first.contains(|c: char| c.is_ascii_digit())
                && last.len() == 1
                && last.starts_with(|c: char| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// A yes/no with a remark and no score in it, read as the yes/no question alone reads it
/// (`解决了谢谢`, `没解决，还是扣款失败`): the satisfaction is then asked again. A number
/// might be a score (`是 6`) and a word of satisfaction a half-said one (`是 不太满意`), so
/// with either both are asked again.
fn resolved_with_remark(norm: &str) -> Option<bool> {
    if names_a_number(norm) || norm.contains("满意") || norm.contains("satisf") {
        return None;
    }
    remark::yes_no(norm)
}

/// The message without what a person skips to find the answers (rule 5), if anything: a
/// closing remark that names no answer (`1，4分 客服很专业`), a softener or 的 at the end
/// (`4分吧`, `挺满意的`), 给 or 打个 before a score (`给5分`, `打个2分`) and 好评 after one
/// (`五星好评`). A remark that could say
/// anything about the answers (a digit, a numeral, a yes/no or negating word, a doubt) stays,
/// and with it the re-prompt.
fn without_remark(norm: &str) -> Option<String> {
    let mut kept: Vec<&str> = words(norm).collect();
    while kept.len() > 1 && kept.last().is_some_and(|w| says_nothing_of_answers(w)) {
        kept.pop();
    }
    let plain: Vec<&str> = kept
        .iter()
        .map(|w| {
            let w = ["打个", "给个", "给"]
                .iter()
                .find_map(|p| w.strip_prefix(p))
                .unwrap_or(w);
            let w = w.strip_suffix("好评").unwrap_or(w);
            w.trim_end_matches(['吧', '呗', '啦', '的'])
        })
        .filter(|w| !w.is_empty())
        .collect();
    let plain = plain.join(" ");
    (plain != norm && !plain.is_empty()).then_some(plain)
}

/// A word of a remark that cannot bear on either answer: `客服很专业`, `太差了`, `thanks`.
fn says_nothing_of_answers(word: &str) -> bool {
    #[rustfmt::skip]
    const BEARS: &[&str] = &[
        "是", "对", "嗯", "解决", "处理", "好了", "不", "没", "未", "非", "否", "别", "满意", "星",
        "分", "吗", "?", "或", "还", "又", "可能", "应该", "大概", "也许", "差不多",
    ];
    #[rustfmt::skip]
    const ENGLISH_BEARS: &[&str] = &[
        "yes", "y", "yep", "yeah", "no", "n", "nope", "not", "never", "maybe", "probably", "or",
        "if", "solved", "resolved", "fixed", "unsolved", "ok", "okay", "one", "two", "three",
        "four", "five", "star", "stars", "point", "points", "out", "of", "but", "very",
        "satisfied", "dissatisfied",
    ];
    !names_a_number(word)
        && !BEARS.iter().any(|b| word.contains(b))
        && !ENGLISH_BEARS.contains(&word)
        && keyword_of(word).is_none()
}

/// A digit, a Chinese numeral or a star: something that may be a score.
fn names_a_number(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_digit() || super::chinese_digit(c).is_some() || super::is_star(c))
}

fn answer(resolved: Option<bool>, satisfaction: Option<i32>) -> PairReply {
    PairReply::Answer(Pair {
        resolved,
        satisfaction,
    })
}

/// A part as the score: its digits, or a label if the part stands apart from the other
/// (`是 满意`, `解决了，非常满意`); inside a word a label is not cut out, or `不满意` would
/// read as `不` and `满意`.
fn score(part: &str, apart: bool, labels: &Labels) -> Option<i32> {
    scale(part, MIN, MAX).or_else(|| apart.then(|| label(part, labels)).flatten())
}

fn label(part: &str, labels: &Labels) -> Option<i32> {
    labels
        .exactly(&answer_words(part).join(" "))
        .filter(|v| (MIN..=MAX).contains(v))
}

/// The one reading of the message as both answers, yes/no first unless only the other
/// order reads (rule 2).
fn both(norm: &str, labels: &Labels) -> Option<(bool, i32)> {
    if norm.chars().count() > MAX_PAIR_CHARS {
        return None;
    }
    let cuts: Vec<(&str, &str, bool)> = norm
        .char_indices()
        .skip(1)
        .map(|(i, _)| {
            let (left, right) = norm.split_at(i);
            let apart = left.ends_with(is_separator) || right.starts_with(is_separator);
            // A slash or an "and" between the two parts separates them: `1/3`, `1和5`.
            let (left, joined) = match left.trim_end().strip_suffix(JOINERS) {
                Some(rest) => (rest.trim_end(), true),
                None => (left.trim_end_matches('/'), false),
            };
            (left, right.trim_start_matches('/'), apart || joined)
        })
        .collect();
    let forward = cuts
        .iter()
        .filter_map(|(left, right, apart)| Some((yes_no(left)?, score(right, *apart, labels)?)));
    let backward = cuts
        .iter()
        .filter_map(|(left, right, apart)| Some((yes_no(right)?, score(left, *apart, labels)?)));
    only_reading(forward).or_else(|| only_reading(backward))
}

/// The reading if every cut that reads agrees on it; none if none reads or two disagree.
fn only_reading(mut readings: impl Iterator<Item = (bool, i32)>) -> Option<(bool, i32)> {
    let first = readings.next()?;
    readings.all(|r| r == first).then_some(first)
}

/// The whole message as the answer to exactly one of the two (rule 3).
fn one_of_two(norm: &str, labels: &Labels) -> Option<Pair> {
    // "是1" is the words "是" and "1", as "1 是" is.
    let apart: Vec<&str> = words(norm).flat_map(script_runs).collect();
    let score = scale(norm, MIN, MAX).or_else(|| label(norm, labels));
    match (yes_no(&apart.join(" ")), score) {
        (Some(resolved), None) => Some(Pair {
            resolved: Some(resolved),
            satisfaction: None,
        }),
        (None, Some(satisfaction)) => Some(Pair {
            resolved: None,
            satisfaction: Some(satisfaction),
        }),
        // `1` and `2`: a yes/no and a score at once.
        _ => None,
    }
}

#[cfg(test)]
mod tests;
