//! What the conversation asks to send, as SMS rows for the outbox.

use uuid::Uuid;

use crate::{
    domain::{conversation::Outgoing, segments, survey::SurveyDefinition},
    store::messages,
};

pub fn text(def: &SurveyDefinition, outgoing: Outgoing, language: &str) -> String {
    let w = def.wording(language);
    match outgoing {
        Outgoing::Question(i) => def.question_text(i, language).to_owned(),
        Outgoing::Reprompt(i) => def.reprompt(i, language),
        Outgoing::ThankYou => w.thank_you.clone(),
        Outgoing::OptOutConfirmation => w.opted_out.clone(),
        Outgoing::OptInConfirmation => w.opted_in.clone(),
        Outgoing::Help => w.help.clone(),
    }
}

pub struct Recipient<'a> {
    pub survey_id: Option<i64>,
    pub phone: &'a str,
    pub language: &'a str,
    pub mainland_china: bool,
}

pub fn message<'a>(
    def: &'a SurveyDefinition,
    outgoing: Outgoing,
    to: &Recipient<'a>,
) -> messages::New<'a> {
    let body = def.signed(&text(def, outgoing, to.language), to.mainland_china);
    let counted = segments::count(&body);
    let question_id = match outgoing {
        Outgoing::Question(i) | Outgoing::Reprompt(i) => {
            def.questions.get(i).map(|q| q.id.as_str())
        }
        _ => None,
    };
    messages::New {
        id: Uuid::new_v4(),
        survey_id: to.survey_id,
        purpose: outgoing.purpose(),
        question_id,
        to_phone: to.phone,
        body,
        encoding: counted.encoding.as_str(),
        segments: counted.count as i32,
    }
}
