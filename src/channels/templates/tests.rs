use std::collections::BTreeMap;

use super::*;
use crate::domain::survey::{Question, QuestionKind, Wording};

/// A toy channel: `{1}`, `{2}`… in the order of `params`; 【 and 】 refused.
pub(crate) fn render(template: &Template, values: &Values) -> Result<Rendered, String> {
    let mut text = template.text.clone();
    let mut params = Vec::new();
    for (i, name) in template.params.iter().enumerate() {
        let value = values
            .get(name.as_str())
            .ok_or_else(|| format!("no value for {name}"))?;
        text = text.replace(&format!("{{{}}}", i + 1), value);
        params.push(TemplateParam {
            name: name.clone(),
            value: value.clone(),
        });
    }
    Ok(Rendered { text, params })
}

pub(crate) fn check(template: &Template, _sign_name: &str) -> Vec<String> {
    ["【", "】"]
        .into_iter()
        .filter(|b| template.text.contains(b))
        .map(|b| format!("contains {b}"))
        .collect()
}

pub(crate) fn definition() -> SurveyDefinition {
    let question = |id: &str, kind| Question {
        id: id.into(),
        kind,
        metric: None,
        text: BTreeMap::from([
            ("zh-CN".to_owned(), format!("{id}？")),
            ("en".to_owned(), format!("{id}?")),
        ]),
        with_next: false,
        labels: Default::default(),
    };
    SurveyDefinition {
        questions: vec![
            question("resolved", QuestionKind::YesNo),
            question("satisfaction", QuestionKind::Scale { min: 1, max: 5 }),
        ],
        signature: "【小蓝钱包】".into(),
        wording: BTreeMap::from([
            ("zh-CN".to_owned(), Wording::default()),
            ("en".to_owned(), Wording::default()),
        ]),
        default_language: "zh-CN".into(),
    }
}

pub(crate) fn template(id: &str, text: &str, params: &[&str]) -> Template {
    Template {
        id: id.into(),
        text: text.into(),
        params: params.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// Every message in both languages; `first` names the agent.
pub(crate) fn complete(def: &SurveyDefinition) -> Templates {
    ["zh-CN", "en"]
        .into_iter()
        .map(|lang| {
            let by_name = message_names(def)
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    let t = if name == "first" {
                        template(
                            &format!("{lang}-{i}"),
                            "坐席{1}为您服务，问题解决了吗？回TD退订",
                            &["agent_id"],
                        )
                    } else {
                        template(&format!("{lang}-{i}"), &format!("{name} in {lang}"), &[])
                    };
                    (name, t)
                })
                .collect();
            (lang.to_owned(), by_name)
        })
        .collect()
}

pub(crate) fn source(templates: &Templates) -> TemplateSource<'_> {
    TemplateSource {
        key: "provider.toy.templates",
        sign_name: "小蓝钱包",
        templates,
        render,
        check,
    }
}

fn refused(templates: &Templates) -> Invalid {
    let def = definition();
    validate(&source(templates), &def, &languages(&def)).unwrap_err()
}

#[test]
fn message_names_cover_every_message_the_survey_sends() {
    assert_eq!(
        message_names(&definition()),
        [
            "first",
            "question_satisfaction",
            "reprompt_resolved",
            "reprompt_satisfaction",
            "thank_you",
            "opted_out",
            "opted_in",
            "help",
        ]
    );
}

#[test]
fn a_pair_asked_together_needs_no_question_of_its_own_but_a_re_prompt_for_both() {
    let mut def = definition();
    def.questions[0].with_next = true;
    assert_eq!(
        message_names(&def),
        [
            "first",
            "reprompt_resolved",
            "reprompt_satisfaction",
            "reprompt_resolved_satisfaction",
            "thank_you",
            "opted_out",
            "opted_in",
            "help",
        ]
    );
    // The standard set is more than the compact survey can send: refused by name.
    let err = validate(&source(&complete(&definition())), &def, &languages(&def)).unwrap_err();
    assert_eq!(err.key, "provider.toy.templates.en.question_satisfaction");
}

#[test]
fn question_one_is_the_first_message() {
    let def = definition();
    assert_eq!(message_name(&def, Outgoing::Question(0)), "first");
    assert_eq!(
        message_name(&def, Outgoing::Question(1)),
        "question_satisfaction"
    );
    assert_eq!(
        message_name(&def, Outgoing::Reprompt(0)),
        "reprompt_resolved"
    );
    assert_eq!(message_name(&def, Outgoing::Help), "help");
}

#[test]
fn languages_are_the_first_questions_and_the_default() {
    let mut def = definition();
    assert_eq!(languages(&def), ["en", "zh-CN"]);
    def.default_language = "fr".into();
    assert_eq!(languages(&def), ["en", "zh-CN", "fr"]);
}

#[test]
fn a_complete_set_passes() {
    let def = definition();
    let templates = complete(&def);
    validate(&source(&templates), &def, &languages(&def)).unwrap();
}

#[test]
fn a_missing_template_is_named_by_language_and_message() {
    let mut templates = complete(&definition());
    templates
        .get_mut("zh-CN")
        .unwrap()
        .remove("reprompt_satisfaction");
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.zh-CN.reprompt_satisfaction");
    assert!(e.why.contains("missing"), "{}", e.why);
    let mut templates = complete(&definition());
    templates.remove("en");
    assert_eq!(refused(&templates).key, "provider.toy.templates.en.first");
}

#[test]
fn the_channels_rules_are_applied_and_quoted() {
    let mut templates = complete(&definition());
    templates
        .get_mut("en")
        .unwrap()
        .insert("thank_you".into(), template("t", "【小蓝钱包】Thanks", &[]));
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.en.thank_you");
    assert!(e.why.contains("contains 【"), "{}", e.why);
}

#[test]
fn params_name_only_known_values() {
    let mut templates = complete(&definition());
    templates.get_mut("en").unwrap().insert(
        "question_satisfaction".into(),
        template("t", "{1}: rate us", &["customer_name"]),
    );
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.en.question_satisfaction");
    assert!(
        e.why.contains("\"customer_name\"") && e.why.contains("agent_id, queue"),
        "{}",
        e.why
    );
}

#[test]
fn messages_to_phones_without_a_survey_take_no_values() {
    let mut templates = complete(&definition());
    templates
        .get_mut("zh-CN")
        .unwrap()
        .insert("help".into(), template("t", "坐席{1}", &["agent_id"]));
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.zh-CN.help");
    assert!(e.why.contains("without a survey"), "{}", e.why);
}

#[test]
fn the_longest_values_must_fit_in_500_characters_with_the_signature() {
    // 【小蓝钱包】 is 6; two values of at most 64 each.
    let fits = "好".repeat(500 - 6 - 128);
    let mut templates = complete(&definition());
    templates.get_mut("en").unwrap().insert(
        "question_satisfaction".into(),
        template("t", &format!("{fits}{{1}}{{2}}"), &["agent_id", "queue"]),
    );
    let def = definition();
    validate(&source(&templates), &def, &languages(&def)).unwrap();
    templates.get_mut("en").unwrap().insert(
        "question_satisfaction".into(),
        template("t", &format!("{fits}好{{1}}{{2}}"), &["agent_id", "queue"]),
    );
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.en.question_satisfaction");
    assert!(e.why.contains("501 characters"), "{}", e.why);
}

#[test]
fn an_unknown_message_name_is_refused() {
    let mut templates = complete(&definition());
    templates
        .get_mut("en")
        .unwrap()
        .insert("question_resolved".into(), template("t", "x", &[]));
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.en.question_resolved");
    assert!(e.why.contains("first, question_satisfaction"), "{}", e.why);
}

#[test]
fn an_empty_id_is_refused() {
    let mut templates = complete(&definition());
    templates
        .get_mut("en")
        .unwrap()
        .insert("opted_in".into(), template(" ", "Welcome back", &[]));
    let e = refused(&templates);
    assert_eq!(e.key, "provider.toy.templates.en.opted_in");
    assert!(e.why.contains("id"), "{}", e.why);
}

#[test]
fn a_call_names_its_params() {
    let params = [
        TemplateParam {
            name: "agent_id".into(),
            value: "a-7".into(),
        },
        TemplateParam {
            name: "queue".into(),
            value: "pay".into(),
        },
    ];
    let call = TemplateCall {
        id: "1",
        params: &params,
    };
    assert_eq!(
        call.named(),
        BTreeMap::from([("agent_id", "a-7"), ("queue", "pay")])
    );
}
