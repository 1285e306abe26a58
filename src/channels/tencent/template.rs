//! An approved Tencent template text, checked against Tencent's review rules before
//! postcall relies on it (`check-config`), and rendered with its parameters.
//!
//! Rules, from 正文模板审核标准 <https://cloud.tencent.com/document/product/382/39023>
//! (English: <https://www.tencentcloud.com/document/product/382/40659>):
//! - the whole SMS, signature and variable values included, is at most 500 characters, every
//!   汉字, letter, digit, punctuation mark (full or half width) and space counting one;
//! - no 【】 (they would read as a signature), no `¥`, `★`, `^_^`, `☞`, `✓`, `※`;
//! - variables are `{number}`, numbered from `{1}` without gaps; two variables may not touch
//!   (`{1}{2}`), and a template may not be variables only;
//! - a variable's value may not be a link (also SendSms error
//!   `InvalidParameterValue.ProhibitedUseUrlInTemplateParameter`); for accounts certified as
//!   individuals a value is at most 12 characters (`InvalidParameterValue.TemplateParameterLengthLimit`
//!   in the SendSms error codes), for companies the console states the limit.

/// The most characters one SMS may have, signature and values included.
pub const MAX_CHARS: usize = 500;
/// A variable's longest value for individually certified accounts.
pub const INDIVIDUAL_MAX_PARAM_CHARS: usize = 12;
const FORBIDDEN: &[&str] = &["【", "】", "¥", "★", "^_^", "☞", "✓", "※"];

/// One rule the text breaks, named so that `check-config` can print it next to the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template text is empty")]
    Empty,
    #[error("{chars} characters with the signature, more than Tencent's {max}")]
    TooLong { chars: usize, max: usize },
    #[error("contains {0:?}, which Tencent refuses in a template (【】 is the signature's)")]
    Forbidden(String),
    #[error("{0:?} is not a Tencent variable: variables are {{1}}, {{2}}, …")]
    MalformedPlaceholder(String),
    #[error("variables must be numbered {{1}} to {{n}} without gaps, found {found:?}")]
    PlaceholdersNotConsecutive { found: Vec<u32> },
    #[error("variables {0} touch: Tencent wants text between them")]
    AdjacentPlaceholders(String),
    #[error("the template is variables only")]
    OnlyPlaceholders,
}

/// A variable's value that Tencent would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("value {index} has {chars} characters, more than {max}")]
    TooLong {
        index: usize,
        chars: usize,
        max: usize,
    },
    #[error("value {index} contains 【 or 】, which would read as a second signature")]
    SignatureBrackets { index: usize },
    #[error("value {index} is or contains a link, which Tencent refuses in a variable")]
    Link { index: usize },
}

/// Every rule `text` breaks when sent under `sign_name` (without 【】), the placeholders
/// counted as written: the values' lengths are checked when rendering.
pub fn check(text: &str, sign_name: &str) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    if text.trim().is_empty() {
        return vec![TemplateError::Empty];
    }
    let chars = sms_chars(sign_name, text);
    if chars > MAX_CHARS {
        errors.push(TemplateError::TooLong {
            chars,
            max: MAX_CHARS,
        });
    }
    for forbidden in FORBIDDEN {
        if text.contains(forbidden) {
            errors.push(TemplateError::Forbidden((*forbidden).to_owned()));
        }
    }
    let pieces = split(text);
    errors.extend(pieces.iter().filter_map(|piece| match piece {
        Piece::Malformed(raw) => Some(TemplateError::MalformedPlaceholder(raw.clone())),
        _ => None,
    }));
    errors.extend(numbering_errors(&pieces));
    errors
}

/// The text the customer reads after the signature: `{n}` replaced by `params[n - 1]`.
/// `None` when a variable has no value or a value is left over, so that a stored text
/// never differs from what Tencent sends.
pub fn render(text: &str, params: &[String]) -> Option<String> {
    let mut used = vec![false; params.len()];
    let mut out = String::new();
    for piece in split(text) {
        match piece {
            Piece::Text(s) | Piece::Malformed(s) => out.push_str(&s),
            Piece::Placeholder(n) => {
                let index = usize::try_from(n).ok()?.checked_sub(1)?;
                out.push_str(params.get(index)?);
                used[index] = true;
            }
        }
    }
    used.iter().all(|u| *u).then_some(out)
}

/// Problems with the values about to be sent; `max_chars` is the account's limit
/// (`Some(INDIVIDUAL_MAX_PARAM_CHARS)` for individually certified accounts).
pub fn check_params(params: &[String], max_chars: Option<usize>) -> Vec<ParamError> {
    let mut errors = Vec::new();
    for (index, value) in params.iter().enumerate() {
        let chars = value.chars().count();
        if let Some(max) = max_chars.filter(|max| chars > *max) {
            errors.push(ParamError::TooLong { index, chars, max });
        }
        if value.contains('【') || value.contains('】') {
            errors.push(ParamError::SignatureBrackets { index });
        }
        if looks_like_link(value) {
            errors.push(ParamError::Link { index });
        }
    }
    errors
}

/// The length Tencent counts: 【signature】 plus the text, one per character.
pub fn sms_chars(sign_name: &str, text: &str) -> usize {
    sign_name.chars().count() + 2 + text.chars().count()
}

fn looks_like_link(value: &str) -> bool {
    let lower = value.to_lowercase();
    ["http://", "https://", "www."]
        .iter()
        .any(|prefix| lower.contains(prefix))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(u32),
    /// `{` … `}` that is not `{digits}`, or a `{` never closed.
    Malformed(String),
}

fn split(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            pieces.push(Piece::Malformed(after.to_owned()));
            return pieces;
        };
        let raw = &after[..=close];
        let inner = &raw[1..raw.len() - 1];
        let number = inner
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| inner.parse::<u32>().ok())
            .flatten();
        pieces.push(match number {
            Some(n) => Piece::Placeholder(n),
            None => Piece::Malformed(raw.to_owned()),
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    // `${1}` is Aliyun's syntax: the `$` before a placeholder is a mistake worth naming.
    for i in 1..pieces.len() {
        if let (Piece::Text(before), Piece::Placeholder(n)) = (&pieces[i - 1], &pieces[i])
            && before.ends_with('$')
        {
            pieces[i] = Piece::Malformed(format!("${{{n}}}"));
        }
    }
    pieces
}

fn numbering_errors(pieces: &[Piece]) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    let mut found: Vec<u32> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Placeholder(n) => Some(*n),
            _ => None,
        })
        .collect();
    for pair in pieces.windows(2) {
        if let [Piece::Placeholder(a), Piece::Placeholder(b)] = pair {
            errors.push(TemplateError::AdjacentPlaceholders(format!(
                "{{{a}}}{{{b}}}"
            )));
        }
    }
    let has_text = pieces
        .iter()
        .any(|p| matches!(p, Piece::Text(s) if !s.trim().is_empty()));
    if !found.is_empty() && !has_text {
        errors.push(TemplateError::OnlyPlaceholders);
    }
    found.sort_unstable();
    found.dedup();
    let consecutive = found.iter().zip(1..).all(|(n, expected)| *n == expected);
    if !consecutive {
        errors.push(TemplateError::PlaceholdersNotConsecutive { found });
    }
    errors
}

#[cfg(test)]
mod tests;
