//! A stop asked for in the customer's own words, not only as a keyword alone: `别再发了`,
//! `不要打扰我`, `退订，谢谢`, `T D`, `stop texting me`, `please unsubscribe me`.
//!
//! Narrow on purpose: a message is a stop only when one of its clauses is made entirely of a
//! stop phrase (a verb of messaging, not of paying, calling or transferring) and words that
//! cannot change what it stops (politeness, "me", "again", "these texts"). So `扣款停不下来`,
//! `我想取消自动续费`, `stop charging me twice` and `客服说不要再转账了` stay comments: a wrong
//! opt-out silently drops a customer's comment and every future survey, while a missed one
//! costs a re-prompt after which the customer can still send `TD`.

mod chinese;
mod english;

use super::phrases::{any_of, clauses, phrase};
use super::{Keyword, is_chinese, lookup_keyword, only_opt_outs};

/// `norm` is a `normalise`d message.
pub(super) fn asks_to_stop(norm: &str) -> bool {
    let apart = score_apart(norm);
    let clauses: Vec<Vec<&str>> = clauses(&apart).collect();
    spelled_out(norm)
        || chinese::nags(norm)
        || clauses.iter().enumerate().any(|(i, words)| {
            chinese::asks_to_stop(words) || english::asks_to_stop(words, &clauses[..i])
        })
}

/// A space that ends a sentence, made a clause break: after a score, before words (`5分
/// 以后别发了`, `1 5 别再发了`, `5分 but pls no more surveys`), and between two Chinese words of two characters or more when the second opens
/// a sentence of its own (`2 没解决 我要退订`, `服务一般 别再发了`): Chinese puts no space inside
/// a sentence, so the request after it is whole. Not between characters written one by one
/// (`别 再 发 了` is spelled out), after a word that leaves its verb for the next one (`我不要
/// 退订` does not ask to stop), or before a request that may be about the word before it
/// (`会员 怎么退订` asks how to cancel a membership).
fn score_apart(norm: &str) -> String {
    const OPEN: &[char] = &['不', '别', '要', '没', '勿', '莫', '想', '甭', '用'];
    #[rustfmt::skip]
    const SENTENCE_STARTS: &[&str] = &[
        "我", "请", "麻烦", "拜托", "求", "以后", "今后", "别", "不要", "勿", "再", "你们", "停止",
        "取消",
    ];
    let chinese_word = |w: &str| w.chars().count() >= 2 && w.chars().all(is_chinese);
    // `normalise` left single spaces between words.
    let words: Vec<&str> = norm.split(' ').collect();
    let mut out = String::with_capacity(norm.len());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let left = words[i - 1];
            let after_score = left.contains(|c: char| c.is_ascii_digit())
                && !word.contains(|c: char| c.is_ascii_digit());
            let sentences = chinese_word(left)
                && !left.ends_with(OPEN)
                && chinese_word(word)
                && SENTENCE_STARTS.iter().any(|s| word.starts_with(s));
            // A keyword alone after a score (`5 stop`) stays doubtful: which one is meant?
            let sentence_after = word.starts_with(is_chinese) || i + 1 < words.len();
            let breaks = (after_score && sentence_after) || sentences;
            out.push(if breaks { '。' } else { ' ' });
        }
        out.push_str(word);
    }
    out
}

/// A multi-letter opt-out keyword with spaces or marks between its letters: "t d", "t.d",
/// "退 订", "s-t-o-p", "opt-out". Single letters never combine, so "t t" and "t_t" (faces)
/// and "n/a" stay text.
fn spelled_out(norm: &str) -> bool {
    let letters: String = norm.chars().filter(|c| c.is_alphanumeric()).collect();
    letters.chars().count() >= 2
        && (lookup_keyword(&letters) == Some(Keyword::OptOut) || only_opt_outs(&letters))
}

#[cfg(test)]
mod tests;
