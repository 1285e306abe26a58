//! Approved templates, for the platforms that send nothing else (Tencent Cloud, Aliyun):
//! every message postcall can send maps, per language, to the template the platform
//! approved, with the approved text itself so that postcall stores and counts exactly what
//! the customer reads.
//!
//! A message's name: `first` (the first question, with its opt-out hint), `question_<id>`
//! (a later question), `reprompt_<id>`, `reprompt_<id>_<next id>` (both questions of a pair
//! asked together), `thank_you`, `opted_out`, `opted_in`, `help`.
//!
//! A templated channel hands over a [`TemplateSource`]: its signature, its templates and
//! its own placeholder syntax and review rules. [`validate`] checks it against the survey
//! when the config loads, so a message can never find its template missing at send time.

use std::{borrow::Cow, collections::BTreeMap};

use serde::{Deserialize, Serialize};

use super::settings::Invalid;
use crate::domain::{conversation::Outgoing, survey::SurveyDefinition};

/// `provider.<kind>.templates.<language>.<message>`.
pub type Templates = BTreeMap<String, BTreeMap<String, Template>>;

/// One approved template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The platform's template id (Tencent `TemplateId`, Aliyun `TemplateCode`).
    pub id: String,
    /// The approved text, without the signature, with the platform's placeholders.
    pub text: String,
    /// What each placeholder holds, in order (`{1}` is the first): names of the values
    /// postcall fills in.
    #[serde(default)]
    pub params: Vec<String>,
}

/// A template parameter as sent: its name (Aliyun's `${name}`; Tencent's are positional,
/// in this order) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TemplateParam {
    pub name: String,
    pub value: String,
}

/// The template a message goes out as, stored with the message when it was composed.
#[derive(Debug, Clone, Copy)]
pub struct TemplateCall<'a> {
    pub id: &'a str,
    pub params: &'a [TemplateParam],
}

impl TemplateCall<'_> {
    /// The parameters as a `{name: value}` map (Aliyun's `TemplateParam` object).
    pub fn named(&self) -> BTreeMap<&str, &str> {
        self.params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect()
    }
}

/// A template filled in for one message, as `messages.template_id` and
/// `messages.template_params` store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub id: String,
    pub params: Vec<TemplateParam>,
}

impl Filled {
    pub fn call(&self) -> TemplateCall<'_> {
        TemplateCall {
            id: &self.id,
            params: &self.params,
        }
    }
}

/// What a templated channel provides (`channels::Settings::templates`).
#[derive(Clone, Copy)]
pub struct TemplateSource<'a> {
    /// Where the templates are configured: `provider.tencent.templates`.
    pub key: &'static str,
    /// The signature the platform adds, without 【】.
    pub sign_name: &'a str,
    pub templates: &'a Templates,
    /// The channel's own placeholder syntax: the text the customer reads (without the
    /// signature) and the parameters as sent.
    pub render: fn(&Template, &Values) -> Result<Rendered, String>,
    /// The channel's review rules on an approved text sent under `sign_name`: every rule it
    /// breaks.
    pub check: fn(&Template, &str) -> Vec<String>,
}

/// A template rendered with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// What the customer reads after the signature.
    pub text: String,
    pub params: Vec<TemplateParam>,
}

/// The values postcall fills in, by name (`agent_id`, `queue`): those of the survey's call.
pub type Values = BTreeMap<&'static str, String>;

/// Every value a template may name, with the longest it can be (`domain::event` bounds
/// both at 64 characters).
pub const KNOWN_VALUES: [(&str, usize); 2] = [("agent_id", 64), ("queue", 64)];

/// The values of a survey's call.
pub fn values(agent_id: &str, queue: &str) -> Values {
    BTreeMap::from([
        ("agent_id", agent_id.to_owned()),
        ("queue", queue.to_owned()),
    ])
}

/// The most characters one SMS may have on the mainland platforms, signature included.
pub const MAX_SMS_CHARS: usize = 500;

const FIRST: &str = "first";
/// Sent also to a phone that has no survey (a keyword from a stranger), when no value is
/// known: their templates take none.
const WITHOUT_SURVEY: [&str; 3] = ["opted_out", "opted_in", "help"];

/// The name of the message `outgoing` is, as templates are keyed.
pub fn message_name(def: &SurveyDefinition, outgoing: Outgoing) -> String {
    let id = |i: usize| def.questions.get(i).map_or("", |q| q.id.as_str());
    match outgoing {
        Outgoing::Question(0) => FIRST.to_owned(),
        Outgoing::Question(i) => format!("question_{}", id(i)),
        Outgoing::Reprompt(i) => format!("reprompt_{}", id(i)),
        Outgoing::RepromptPair(i) => format!("reprompt_{}_{}", id(i), id(i + 1)),
        Outgoing::ThankYou => "thank_you".to_owned(),
        Outgoing::OptOutConfirmation => "opted_out".to_owned(),
        Outgoing::OptInConfirmation => "opted_in".to_owned(),
        Outgoing::Help => "help".to_owned(),
    }
}

/// Every message the survey can send, by name: the second of a pair is never asked alone,
/// but is re-prompted alone when only the first part was answered.
pub fn message_names(def: &SurveyDefinition) -> Vec<String> {
    let n = def.questions.len();
    let mut sent: Vec<Outgoing> = (0..n)
        .filter(|i| def.sent_alone(*i))
        .map(Outgoing::Question)
        .collect();
    sent.extend((0..n).map(Outgoing::Reprompt));
    sent.extend(
        (0..n)
            .filter(|i| def.questions[*i].with_next)
            .map(Outgoing::RepromptPair),
    );
    sent.extend([
        Outgoing::ThankYou,
        Outgoing::OptOutConfirmation,
        Outgoing::OptInConfirmation,
        Outgoing::Help,
    ]);
    sent.into_iter().map(|o| message_name(def, o)).collect()
}

/// The languages the survey speaks: those of its first question (what
/// `SurveyDefinition::language_for` chooses from) and the default.
pub fn languages(def: &SurveyDefinition) -> Vec<&str> {
    let mut languages: Vec<&str> = def.questions[0].text.keys().map(String::as_str).collect();
    if !languages.contains(&def.default_language.as_str()) {
        languages.push(&def.default_language);
    }
    languages
}

/// Checks that every language × every message has its template, that each passes the
/// channel's rules, names only known values and, with the longest values, fits in one
/// SMS's 500 characters with the signature. The first failure names its key,
/// `<source.key>.<language>.<message>`.
pub fn validate(
    source: &TemplateSource<'_>,
    def: &SurveyDefinition,
    languages: &[&str],
) -> Result<(), Invalid> {
    let names = message_names(def);
    for (language, by_name) in source.templates {
        if let Some(unknown) = by_name.keys().find(|n| !names.contains(n)) {
            return Err(refuse(
                format!("{}.{language}.{unknown}", source.key),
                format!(
                    "names no message postcall sends; the names are {}",
                    names.join(", ")
                ),
            ));
        }
    }
    for language in languages {
        for name in &names {
            let key = format!("{}.{language}.{name}", source.key);
            let Some(template) = source.templates.get(*language).and_then(|t| t.get(name)) else {
                return Err(refuse(
                    key,
                    "missing: every message the survey sends needs its approved template in every language it speaks",
                ));
            };
            check_one(source, name, template).map_err(|why| refuse(key, why))?;
        }
    }
    Ok(())
}

fn check_one(source: &TemplateSource<'_>, name: &str, template: &Template) -> Result<(), String> {
    if template.id.trim().is_empty() {
        return Err("id must not be empty".to_owned());
    }
    let broken = (source.check)(template, source.sign_name);
    if !broken.is_empty() {
        return Err(broken.join("; "));
    }
    let known: Vec<&str> = if WITHOUT_SURVEY.contains(&name) {
        vec![]
    } else {
        KNOWN_VALUES.iter().map(|(v, _)| *v).collect()
    };
    if let Some(unknown) = template
        .params
        .iter()
        .find(|p| !known.contains(&p.as_str()))
    {
        return Err(if known.is_empty() {
            format!(
                "params: {unknown:?}: this message also goes to phones without a survey, so it can take no value"
            )
        } else {
            format!(
                "params: {unknown:?} is no value postcall fills in; it knows {}",
                known.join(", ")
            )
        });
    }
    let longest: Values = KNOWN_VALUES
        .iter()
        .map(|(v, max)| (*v, "x".repeat(*max)))
        .collect();
    let rendered = (source.render)(template, &longest)?;
    let chars = signed(source.sign_name, &rendered.text).chars().count();
    if chars > MAX_SMS_CHARS {
        return Err(format!(
            "{chars} characters with the signature and the longest values, more than {MAX_SMS_CHARS}"
        ));
    }
    Ok(())
}

/// The SMS as the customer reads it: the platform puts the signature in front.
pub fn signed(sign_name: &str, text: &str) -> String {
    format!("【{sign_name}】{text}")
}

fn refuse(key: String, why: impl Into<String>) -> Invalid {
    Invalid {
        key: Cow::Owned(key),
        why: why.into(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
