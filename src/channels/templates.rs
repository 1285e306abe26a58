//! Approved templates, for the platforms that send nothing else (Tencent Cloud, Aliyun):
//! every message postcall can send maps, per language, to the template the platform
//! approved, with the approved text itself so that postcall stores and counts exactly what
//! the customer reads.
//!
//! A message's name: `first` (the first question, with its opt-out hint), `question_<id>`
//! (a later question), `reprompt_<id>`, `thank_you`, `opted_out`, `opted_in`, `help`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
