use super::*;

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_survey_question_passes() {
    assert_eq!(check("您好，请为本次${service}服务打分，回复1-5分"), vec![]);
}

#[test]
fn the_documents_example_passes() {
    // TemplateRule&TemplateContent 参数填写示例, 通知短信.
    assert_eq!(
        check("尊敬的${username},你的订单${order},需要尽快付款。"),
        vec![]
    );
}

#[test]
fn each_broken_rule_is_named() {
    let cases: Vec<(String, TemplateError)> = vec![
        (String::new(), TemplateError::Empty),
        (
            "【阿里云】请打分".to_owned(),
            TemplateError::Forbidden("【".to_owned()),
        ),
        (
            "请打分★".to_owned(),
            TemplateError::Forbidden("★".to_owned()),
        ),
        (
            "请打分→回复".to_owned(),
            TemplateError::Forbidden("→".to_owned()),
        ),
        (
            "请打分，拒收请回复R".to_owned(),
            TemplateError::Forbidden("拒收请回复R".to_owned()),
        ),
        ("[通知]请打分".to_owned(), TemplateError::BracketAtEdge),
        ("请打分[通知]".to_owned(), TemplateError::BracketAtEdge),
        (
            "请为{1}打分".to_owned(),
            TemplateError::MalformedPlaceholder("{1}".to_owned()),
        ),
        (
            "请为${}打分".to_owned(),
            TemplateError::MalformedPlaceholder("${}".to_owned()),
        ),
        (
            "请为${my name}打分".to_owned(),
            TemplateError::MalformedPlaceholder("${my name}".to_owned()),
        ),
        (
            "请为${name打分".to_owned(),
            TemplateError::MalformedPlaceholder("${name打分".to_owned()),
        ),
    ];
    for (text, expected) in cases {
        let errors = check(&text);
        assert!(errors.contains(&expected), "{text}: {errors:?}");
    }
}

#[test]
fn square_brackets_inside_are_allowed_and_a_lone_dollar_is_text() {
    assert_eq!(check("请按[1]到[5]打分，费用$0"), vec![]);
}

#[test]
fn the_500_limit_counts_the_variables_as_written_and_not_the_signature() {
    let fits = "好".repeat(MAX_CHARS);
    assert_eq!(check(&fits), vec![]);
    let over = format!("{}${{a}}", "好".repeat(MAX_CHARS - 3));
    assert_eq!(
        check(&over),
        vec![TemplateError::TooLong {
            chars: MAX_CHARS + 1,
            max: MAX_CHARS
        }]
    );
}

#[test]
fn placeholders_are_listed_once_in_order() {
    assert_eq!(
        placeholders("${b}和${a}，再次${b}"),
        vec!["b".to_owned(), "a".to_owned()]
    );
}

#[test]
fn render_fills_each_variable_by_name() {
    assert_eq!(
        render(
            "尊敬的${username},你的订单${order}",
            &values(&[("username", "张三"), ("order", "A1")])
        )
        .as_deref(),
        Some("尊敬的张三,你的订单A1")
    );
}

#[test]
fn render_refuses_a_missing_or_an_extra_value() {
    let text = "尊敬的${username}";
    assert_eq!(render(text, &values(&[])), None);
    assert_eq!(
        render(text, &values(&[("username", "张三"), ("other", "x")])),
        None
    );
}

#[test]
fn params_are_checked_against_the_documented_limits() {
    let checked = check_params(
        &values(&[
            ("a", "12345678901"),
            ("b", "【签名】"),
            ("c", "www.x.cn"),
            ("d", "5"),
        ]),
        Some(10),
    );
    assert_eq!(
        checked,
        vec![
            ParamError::TooLong {
                name: "a".to_owned(),
                chars: 11,
                max: 10
            },
            ParamError::SignatureBrackets {
                name: "b".to_owned()
            },
            ParamError::Link {
                name: "c".to_owned()
            },
        ]
    );
}

fn approved(text: &str, params: &[&str]) -> Template {
    Template {
        id: "SMS_1".into(),
        text: text.into(),
        params: params.iter().map(|p| (*p).to_owned()).collect(),
    }
}

#[test]
fn a_template_renders_each_variable_from_the_value_its_param_names() {
    let values = crate::channels::templates::values("1024", "payment");
    let rendered = render_template(
        &approved("工号${agent}为您服务，${q}组", &["agent_id", "queue"]),
        &values,
    )
    .unwrap();
    assert_eq!(rendered.text, "工号1024为您服务，payment组");
    assert_eq!(
        rendered.params,
        [
            TemplateParam {
                name: "agent".into(),
                value: "1024".into()
            },
            TemplateParam {
                name: "q".into(),
                value: "payment".into()
            },
        ]
    );
    let fixed = render_template(&approved("感谢您的反馈！", &[]), &Values::new()).unwrap();
    assert_eq!(fixed.text, "感谢您的反馈！");
    assert!(fixed.params.is_empty());
    // A value the message does not have (a stranger's help text) is an error, not a blank.
    assert!(render_template(&approved("工号${agent}", &["agent_id"]), &Values::new()).is_err());
}

#[test]
fn a_template_needs_one_param_per_variable_and_aliyuns_rules() {
    assert!(
        check_template(&approved("工号${agent}为您服务", &["agent_id"]), "小蓝钱包").is_empty()
    );
    let broken = check_template(&approved("工号${agent}为您服务", &[]), "小蓝钱包");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(broken[0].contains("params"), "{broken:?}");
    assert!(render_template(&approved("工号${agent}", &[]), &Values::new()).is_err());
    let broken = check_template(&approved("【小蓝钱包】您好", &[]), "小蓝钱包");
    assert!(!broken.is_empty());
}
