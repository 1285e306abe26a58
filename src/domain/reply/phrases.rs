//! Phrases in a reply, for the intents read from a customer's own words (`stop_intent`,
//! `help_intent`): the message split into clauses of words, and a clause matched whole
//! against a phrase with the words allowed around it.

use super::is_cjk_punctuation;

/// The message's clauses (split at sentence punctuation), each as its words: letters, digits
/// and apostrophes; anything else (spaces, dashes, quotes, emoji) separates words. Quotes do
/// not end a clause, so `agent kept saying "stop"` stays one clause and is not a stop.
pub(super) fn clauses(norm: &str) -> impl Iterator<Item = Vec<&str>> {
    norm.split(ends_clause)
        .map(|clause| {
            clause
                .split(|c: char| !(c.is_alphanumeric() || is_apostrophe(c)))
                .map(|w| w.trim_matches(is_apostrophe))
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
}

fn ends_clause(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '~'
    ) || (is_cjk_punctuation(c) && !is_quote(c))
}

fn is_quote(c: char) -> bool {
    matches!(c, '\u{2018}'..='\u{201F}' | '\u{300C}'..='\u{300F}' | '\u{301D}'..='\u{301F}')
}

/// `'` and the typographic `’` phones substitute for it ("don’t").
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// `^(pre)*core(post)*$` over words joined by `sep`: the whole clause must be the phrase and
/// the listed words around it, nothing else. `core` is a regex; the word lists are literal.
pub(super) fn phrase(pre: &[&str], core: &str, post: &[&str], sep: &str) -> regex::Regex {
    let sep = regex::escape(sep);
    let pattern = format!(
        "^(?:{pre}{sep})*(?:{core})(?:{sep}{post})*$",
        pre = any_of(pre),
        post = any_of(post),
    );
    regex::Regex::new(&pattern).expect("the phrases are valid patterns")
}

/// A non-capturing alternation of literal words.
pub(super) fn any_of(words: &[&str]) -> String {
    let escaped: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    format!("(?:{})", escaped.join("|"))
}
