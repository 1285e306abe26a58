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
use super::{Keyword, lookup_keyword, only_opt_outs};

/// `norm` is a `normalise`d message.
pub(super) fn asks_to_stop(norm: &str) -> bool {
    let apart = score_apart(norm);
    let clauses: Vec<Vec<&str>> = clauses(&apart).collect();
    spelled_out(norm)
        || clauses.iter().enumerate().any(|(i, words)| {
            chinese::asks_to_stop(words) || english::asks_to_stop(words, &clauses[..i])
        })
}

/// A score written before a request with only a space between (`5分 以后别发了`, `1 5 别再发了`)
/// is a clause of its own: Chinese puts no space inside a sentence, so the space ends the
/// answer, and the request after it is whole. Spaces between Chinese characters alone stay
/// (`别 再 发 了` is spelled out, not two clauses).
fn score_apart(norm: &str) -> String {
    // `normalise` left single spaces between words.
    let words: Vec<&str> = norm.split(' ').collect();
    let mut out = String::with_capacity(norm.len());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let after_score = words[i - 1].contains(|c: char| c.is_ascii_digit());
            let chinese_next = word.starts_with(is_chinese);
            out.push(if after_score && chinese_next {
                '。'
            } else {
                ' '
            });
        }
        out.push_str(word);
    }
    out
}

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
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
