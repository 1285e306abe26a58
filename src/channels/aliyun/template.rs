//! An approved Aliyun template text, checked against Aliyun's review rules before postcall
//! relies on it (`check-config`), and rendered with its parameters.
//!
//! Rules, from 通知短信模板规范 <https://help.aliyun.com/document_detail/463270.htm> (English:
//! <https://help.aliyun.com/en/sms/user-guide/notification-template-specifications>):
//! - the template is 1 to 500 characters, variables included as written (the signature is
//!   not part of it; Aliyun adds 【签名】 in front);
//! - no 【】 anywhere, no `[` or `]` at either end;
//! - no special symbols such as 『』「」〖〗, `m²`, `•`, `①`, `★`, `※`, `→`;
//! - a notification may not carry the marketing opt-out `拒收请回复R`;
//! - variables are `${name}`, the name chosen freely.
//!
//! Values: each variable's length limit is set per variable attribute when the template is
//! applied for (SendSms error `isv.PARAM_LENGTH_LIMIT`), and a value may not be a link
//! (`isv.PARAM_NOT_SUPPORT_URL`), both in 国内消息API错误码
//! <https://help.aliyun.com/zh/sms/developer-reference/api-error-codes>.

use std::collections::BTreeMap;

use crate::channels::templates::{Rendered, Template, TemplateParam, Values};

/// The most characters a template may have, variables as written.
pub const MAX_CHARS: usize = 500;
const FORBIDDEN: &[&str] = &[
    "【",
    "】",
    "『",
    "』",
    "「",
    "」",
    "〖",
    "〗",
    "m²",
    "•",
    "①",
    "★",
    "※",
    "→",
    "拒收请回复R",
];

/// One rule the text breaks, named so that `check-config` can print it next to the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template text is empty")]
    Empty,
    #[error("{chars} characters, more than Aliyun's {max}")]
    TooLong { chars: usize, max: usize },
    #[error("contains {0:?}, which Aliyun refuses in a notification template")]
    Forbidden(String),
    #[error("starts or ends with a square bracket, which Aliyun refuses")]
    BracketAtEdge,
    #[error("{0:?} is not an Aliyun variable: variables are ${{name}}")]
    MalformedPlaceholder(String),
}

/// A variable's value that Aliyun would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("value of {name} has {chars} characters, more than {max}")]
    TooLong {
        name: String,
        chars: usize,
        max: usize,
    },
    #[error("value of {name} contains 【 or 】, which would read as a second signature")]
    SignatureBrackets { name: String },
    #[error("value of {name} is or contains a link, which Aliyun refuses in a variable")]
    Link { name: String },
}

/// Every rule `text` breaks.
pub fn check(text: &str) -> Vec<TemplateError> {
    if text.trim().is_empty() {
        return vec![TemplateError::Empty];
    }
    let mut errors = Vec::new();
    let chars = text.chars().count();
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
    let trimmed = text.trim();
    if trimmed.starts_with(['[', ']']) || trimmed.ends_with(['[', ']']) {
        errors.push(TemplateError::BracketAtEdge);
    }
    errors.extend(split(text).into_iter().filter_map(|piece| match piece {
        Piece::Malformed(raw) => Some(TemplateError::MalformedPlaceholder(raw)),
        _ => None,
    }));
    errors
}

/// The variable names, in order of first use.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for piece in split(text) {
        if let Piece::Placeholder(name) = piece
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

/// The text the customer reads after the signature: each `${name}` replaced by its value.
/// `None` when a variable has no value or a value names no variable, so that a stored text
/// never differs from what Aliyun sends.
pub fn render(text: &str, values: &BTreeMap<String, String>) -> Option<String> {
    let names = placeholders(text);
    if values.keys().any(|key| !names.contains(key)) {
        return None;
    }
    let mut out = String::new();
    for piece in split(text) {
        match piece {
            Piece::Text(s) | Piece::Malformed(s) => out.push_str(&s),
            Piece::Placeholder(name) => out.push_str(values.get(&name)?),
        }
    }
    Some(out)
}

/// Problems with the values about to be sent; `max_chars` is the limit of the variables'
/// attribute, as approved in the console.
pub fn check_params(
    values: &BTreeMap<String, String>,
    max_chars: Option<usize>,
) -> Vec<ParamError> {
    let mut errors = Vec::new();
    for (name, value) in values {
        let chars = value.chars().count();
        if let Some(max) = max_chars.filter(|max| chars > *max) {
            errors.push(ParamError::TooLong {
                name: name.clone(),
                chars,
                max,
            });
        }
        if value.contains('【') || value.contains('】') {
            errors.push(ParamError::SignatureBrackets { name: name.clone() });
        }
        let lower = value.to_lowercase();
        if ["http://", "https://", "www."]
            .iter()
            .any(|p| lower.contains(p))
        {
            errors.push(ParamError::Link { name: name.clone() });
        }
    }
    errors
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(String),
    /// `${` never closed, `${}` or a name with spaces or braces, or a bare `{…}` (another
    /// platform's syntax, which Aliyun would send as is).
    Malformed(String),
}

fn split(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['$', '{']) {
        let after = &rest[open..];
        let opens_variable = after.starts_with("${");
        if !opens_variable && !after.starts_with('{') {
            // A lone `$` is text.
            pieces.push(Piece::Text(rest[..=open].to_owned()));
            rest = &rest[open + 1..];
            continue;
        }
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let Some(close) = after.find('}') else {
            pieces.push(Piece::Malformed(after.to_owned()));
            return pieces;
        };
        let raw = &after[..=close];
        let name = raw.strip_prefix("${").map(|s| &s[..s.len() - 1]);
        pieces.push(match name {
            Some(name) if valid_name(name) => Piece::Placeholder(name.to_owned()),
            _ => Piece::Malformed(raw.to_owned()),
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    pieces
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '$' | '{' | '}'))
}

/// `TemplateSource::render`: `params[i]` names the value of the `i`-th distinct `${name}`.
pub fn render_template(template: &Template, values: &Values) -> Result<Rendered, String> {
    let names = placeholders(&template.text);
    if names.len() != template.params.len() {
        return Err(arity(&names, template));
    }
    let mut by_name = BTreeMap::new();
    let mut params = Vec::with_capacity(names.len());
    for (name, source) in names.iter().zip(&template.params) {
        let value = values
            .get(source.as_str())
            .ok_or_else(|| format!("no value {source:?} for ${{{name}}}"))?;
        by_name.insert(name.clone(), value.clone());
        params.push(TemplateParam {
            name: name.clone(),
            value: value.clone(),
        });
    }
    let text = render(&template.text, &by_name)
        .ok_or_else(|| format!("{:?} does not render", template.text))?;
    Ok(Rendered { text, params })
}

/// `TemplateSource::check`: Aliyun's review rules on the text, and one `params` entry per
/// variable.
pub fn check_template(template: &Template, _sign_name: &str) -> Vec<String> {
    let mut broken: Vec<String> = check(&template.text)
        .iter()
        .map(ToString::to_string)
        .collect();
    let names = placeholders(&template.text);
    if names.len() != template.params.len() {
        broken.push(arity(&names, template));
    }
    broken
}

fn arity(names: &[String], template: &Template) -> String {
    format!(
        "{} variable(s) ({}) but {} params: params names the value of each variable, in order",
        names.len(),
        names.join(", "),
        template.params.len()
    )
}

#[cfg(test)]
mod tests;
