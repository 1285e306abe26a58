//! What the conversation asks to send, as SMS rows for the outbox, composed as the channel
//! writes them (`channels::compose`).

use uuid::Uuid;

use crate::{
    channels::{
        compose::{self, ComposeError, Texts},
        templates::Values,
    },
    domain::conversation::Outgoing,
    store::messages,
};

pub struct Recipient<'a> {
    pub survey_id: Option<i64>,
    pub phone: &'a str,
    pub language: &'a str,
    pub mainland_china: bool,
    /// The survey's call's values; empty for a phone without a survey.
    pub values: Values,
}

pub fn message<'a>(
    texts: &Texts<'a>,
    outgoing: Outgoing,
    to: &Recipient<'a>,
) -> Result<messages::New<'a>, ComposeError> {
    let composed = texts.compose(
        outgoing,
        &compose::Recipient {
            language: to.language,
            mainland_china: to.mainland_china,
            values: &to.values,
        },
    )?;
    let question_id = match outgoing {
        Outgoing::Question(i) | Outgoing::Reprompt(i) | Outgoing::RepromptPair(i) => {
            texts.survey.questions.get(i).map(|q| q.id.as_str())
        }
        _ => None,
    };
    Ok(messages::New {
        id: Uuid::now_v7(),
        survey_id: to.survey_id,
        purpose: outgoing.purpose(),
        question_id,
        to_phone: to.phone,
        body: composed.body,
        encoding: composed.segments.encoding.as_str(),
        segments: composed.segments.count as i32,
        template: composed.template,
    })
}
