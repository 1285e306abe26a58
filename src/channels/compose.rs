//! What one outbound SMS says, for the dispatcher's first questions and the replies'
//! follow-ups alike: the survey's own text (signed for mainland numbers), or, on a
//! templated channel, `【sign_name】` + the approved template rendered with the call's
//! values. Either way the body is exactly what the customer reads, and its cost is counted
//! as the number's network bills it.

use super::{
    Settings,
    templates::{self, Filled, TemplateSource, Values},
};
use crate::domain::{
    conversation::Outgoing,
    segments::{self, Segments},
    survey::SurveyDefinition,
};

/// What outbound SMS are written from.
#[derive(Clone, Copy)]
pub struct Texts<'a> {
    pub survey: &'a SurveyDefinition,
    /// Set on the channels that send approved templates only.
    pub templates: Option<TemplateSource<'a>>,
}

impl<'a> Texts<'a> {
    /// The chosen channel's way of writing the survey.
    pub fn new(survey: &'a SurveyDefinition, provider: &'a Settings) -> Self {
        Self {
            survey,
            templates: provider.templates(),
        }
    }

    /// The survey's own texts, on a channel that sends free text.
    pub fn free(survey: &'a SurveyDefinition) -> Self {
        Self {
            survey,
            templates: None,
        }
    }
}

/// Who an SMS goes to, as far as its text depends on it.
pub struct Recipient<'a> {
    pub language: &'a str,
    /// A mainland-China number (region `CN`): signed, and counted per character.
    pub mainland_china: bool,
    /// The survey's call's values; empty for a phone without a survey.
    pub values: &'a Values,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// Exactly what the customer reads, signature included.
    pub body: String,
    pub segments: Segments,
    /// The template it goes out as, on a templated channel.
    pub template: Option<Filled>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// Config validation makes this impossible for the languages the survey speaks.
    #[error("no template at {key}")]
    NoTemplate { key: String },
    #[error("template {key} cannot be rendered: {why}")]
    Render { key: String, why: String },
    #[error(transparent)]
    TooLong(#[from] segments::TooLong),
}

impl Texts<'_> {
    /// The SMS `outgoing` is, for `to`. Question 1 is the first message, with its
    /// unsubscribe hint.
    pub fn compose(
        &self,
        outgoing: Outgoing,
        to: &Recipient<'_>,
    ) -> Result<Composed, ComposeError> {
        let (body, template) = match &self.templates {
            None => (self.free_text(outgoing, to), None),
            Some(source) => {
                let (body, filled) = self.templated(source, outgoing, to)?;
                (body, Some(filled))
            }
        };
        let segments = if to.mainland_china {
            segments::mainland(&body)?
        } else {
            segments::count(&body)
        };
        Ok(Composed {
            body,
            segments,
            template,
        })
    }

    fn free_text(&self, outgoing: Outgoing, to: &Recipient<'_>) -> String {
        let def = self.survey;
        let (language, mainland) = (to.language, to.mainland_china);
        let w = def.wording(language);
        let text = match outgoing {
            Outgoing::Question(0) => return def.first_message(language, mainland),
            Outgoing::Question(i) => def.question_text(i, language),
            Outgoing::Reprompt(i) => def.reprompt(i, language),
            Outgoing::RepromptPair(_) => def.reprompt_pair(language),
            Outgoing::ThankYou => w.thank_you.clone(),
            Outgoing::OptOutConfirmation => w.opted_out.clone(),
            Outgoing::OptInConfirmation => w.opted_in.clone(),
            Outgoing::Help => w.help.clone(),
        };
        def.signed(&text, mainland)
    }

    /// The platform adds the signature from `SignName`; the body stores it in front, as
    /// the customer reads it.
    fn templated(
        &self,
        source: &TemplateSource<'_>,
        outgoing: Outgoing,
        to: &Recipient<'_>,
    ) -> Result<(String, Filled), ComposeError> {
        let def = self.survey;
        let name = templates::message_name(def, outgoing);
        let language = def.language_for(to.language);
        let template = [language, def.default_language.as_str()]
            .into_iter()
            .find_map(|l| source.templates.get(l).and_then(|t| t.get(&name)))
            .ok_or_else(|| ComposeError::NoTemplate {
                key: format!("{}.{language}.{name}", source.key),
            })?;
        let rendered =
            (source.render)(template, to.values).map_err(|why| ComposeError::Render {
                key: format!("{}.{language}.{name}", source.key),
                why,
            })?;
        Ok((
            templates::signed(source.sign_name, &rendered.text),
            Filled {
                id: template.id.clone(),
                params: rendered.params,
            },
        ))
    }
}

#[cfg(test)]
mod tests;
