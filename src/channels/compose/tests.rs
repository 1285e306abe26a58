use super::*;
use crate::{
    channels::templates::{
        TemplateParam, Templates,
        tests::{complete, definition, source},
    },
    domain::segments::Encoding,
};

fn values() -> Values {
    templates::values("agent-7", "payment")
}

fn to<'a>(language: &'a str, mainland_china: bool, values: &'a Values) -> Recipient<'a> {
    Recipient {
        language,
        mainland_china,
        values,
    }
}

fn templated<'a>(def: &'a SurveyDefinition, templates: &'a Templates) -> Texts<'a> {
    Texts {
        survey: def,
        templates: Some(source(templates)),
    }
}

#[test]
fn a_templated_first_message_is_the_signature_and_the_rendered_template() {
    let def = definition();
    let templates = complete(&def);
    let values = values();
    let composed = templated(&def, &templates)
        .compose(Outgoing::Question(0), &to("zh-CN", true, &values))
        .unwrap();
    assert_eq!(
        composed.body,
        "【小蓝钱包】坐席agent-7为您服务，问题解决了吗？回TD退订"
    );
    let filled = composed.template.unwrap();
    assert_eq!(filled.id, "zh-CN-0");
    assert_eq!(
        filled.params,
        [TemplateParam {
            name: "agent_id".into(),
            value: "agent-7".into()
        }]
    );
    assert_eq!(composed.segments.encoding, Encoding::Ucs2);
    assert_eq!(composed.segments.count, 1);
    assert_eq!(composed.segments.units, 32);
}

#[test]
fn a_templated_message_takes_the_language_the_survey_serves() {
    let def = definition();
    let templates = complete(&def);
    let values = values();
    let texts = templated(&def, &templates);
    let en = texts
        .compose(Outgoing::ThankYou, &to("en-GB", true, &values))
        .unwrap();
    assert_eq!(en.body, "【小蓝钱包】thank_you in en");
    // A language the survey does not speak gets the default's.
    let fr = texts
        .compose(Outgoing::Reprompt(1), &to("fr", false, &values))
        .unwrap();
    assert_eq!(fr.body, "【小蓝钱包】reprompt_satisfaction in zh-CN");
    assert_eq!(fr.template.unwrap().params, []);
}

#[test]
fn a_missing_value_or_template_is_an_error_naming_the_key() {
    let def = definition();
    let mut templates = complete(&def);
    let none = Values::new();
    let texts = templated(&def, &templates);
    let e = texts
        .compose(Outgoing::Question(0), &to("en", true, &none))
        .unwrap_err();
    assert!(
        matches!(&e, ComposeError::Render { key, .. } if key == "provider.toy.templates.en.first"),
        "{e}"
    );
    templates.get_mut("zh-CN").unwrap().remove("help");
    let texts = templated(&def, &templates);
    let e = texts
        .compose(Outgoing::Help, &to("zh-CN", true, &none))
        .unwrap_err();
    assert_eq!(
        e,
        ComposeError::NoTemplate {
            key: "provider.toy.templates.zh-CN.help".into()
        }
    );
}

#[test]
fn free_text_is_the_survey_signed_for_mainland_numbers() {
    let mut def = definition();
    def.wording.get_mut("zh-CN").unwrap().unsubscribe_hint = "回TD退订".into();
    def.wording.get_mut("en").unwrap().thank_you = "Thanks!".into();
    let values = Values::new();
    let texts = Texts::free(&def);
    let first = texts
        .compose(Outgoing::Question(0), &to("zh-CN", true, &values))
        .unwrap();
    assert_eq!(first.body, "【小蓝钱包】resolved？回TD退订");
    assert_eq!(first.template, None);
    let abroad = texts
        .compose(Outgoing::ThankYou, &to("en", false, &values))
        .unwrap();
    assert_eq!(abroad.body, "Thanks!");
    assert_eq!(abroad.segments.encoding, Encoding::Gsm7);
    let later = texts
        .compose(Outgoing::Question(1), &to("en", true, &values))
        .unwrap();
    assert_eq!(later.body, "【小蓝钱包】satisfaction?");
}

#[test]
fn mainland_numbers_are_counted_per_character_and_capped_at_500() {
    let mut def = definition();
    // 100 GSM characters: one SMS abroad, two on the mainland.
    def.wording.get_mut("en").unwrap().thank_you = "a".repeat(94);
    let values = Values::new();
    let texts = Texts::free(&def);
    let abroad = texts
        .compose(Outgoing::ThankYou, &to("en", false, &values))
        .unwrap();
    assert_eq!(
        (abroad.segments.encoding, abroad.segments.count),
        (Encoding::Gsm7, 1)
    );
    let mainland = texts
        .compose(Outgoing::ThankYou, &to("en", true, &values))
        .unwrap();
    assert_eq!(mainland.body.chars().count(), 100);
    assert_eq!(
        (mainland.segments.encoding, mainland.segments.count),
        (Encoding::Ucs2, 2)
    );
    def.wording.get_mut("en").unwrap().thank_you = "a".repeat(495);
    let e = Texts::free(&def)
        .compose(Outgoing::ThankYou, &to("en", true, &values))
        .unwrap_err();
    assert!(matches!(e, ComposeError::TooLong(_)), "{e}");
    // Abroad, length is only a cost.
    assert!(
        Texts::free(&def)
            .compose(Outgoing::ThankYou, &to("en", false, &values))
            .is_ok()
    );
}
