use super::*;

const SIGN: &str = "小蓝钱包";

fn params(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn a_survey_question_passes() {
    let text = "您好，请为本次{1}服务打分，回复1-5分，回TD退订";
    assert_eq!(check(text, SIGN), vec![]);
}

#[test]
fn the_documents_correct_example_passes() {
    // 正文模板审核标准, 变量规范, 正确示例.
    let text = "{1}为您的登录验证码，请于{2}分钟内填写，如非本人操作，请忽略本短信。";
    assert_eq!(check(text, SIGN), vec![]);
}

#[test]
fn each_broken_rule_is_named() {
    let cases: Vec<(String, TemplateError)> = vec![
        ("   ".to_owned(), TemplateError::Empty),
        (
            "【小蓝钱包】请为服务打分".to_owned(),
            TemplateError::Forbidden("【".to_owned()),
        ),
        (
            "价格¥{1}元".to_owned(),
            TemplateError::Forbidden("¥".to_owned()),
        ),
        (
            "好评★请回复".to_owned(),
            TemplateError::Forbidden("★".to_owned()),
        ),
        (
            "请为${1}打分".to_owned(),
            TemplateError::MalformedPlaceholder("${1}".to_owned()),
        ),
        (
            "请为{name}打分".to_owned(),
            TemplateError::MalformedPlaceholder("{name}".to_owned()),
        ),
        (
            "请为{1打分".to_owned(),
            TemplateError::MalformedPlaceholder("{1打分".to_owned()),
        ),
        (
            "请为{1}和{3}打分".to_owned(),
            TemplateError::PlaceholdersNotConsecutive { found: vec![1, 3] },
        ),
        (
            "请为{2}打分".to_owned(),
            TemplateError::PlaceholdersNotConsecutive { found: vec![2] },
        ),
        (
            "请为{1}{2}打分".to_owned(),
            TemplateError::AdjacentPlaceholders("{1}{2}".to_owned()),
        ),
        ("{1}".to_owned(), TemplateError::OnlyPlaceholders),
    ];
    for (text, expected) in cases {
        let errors = check(&text, SIGN);
        assert!(errors.contains(&expected), "{text}: {errors:?}");
    }
}

#[test]
fn the_500_limit_counts_the_signature_and_its_brackets() {
    // 【小蓝钱包】 is 6 characters.
    let fits = "好".repeat(MAX_CHARS - 6);
    assert_eq!(check(&fits, SIGN), vec![]);
    let over = "好".repeat(MAX_CHARS - 5);
    assert_eq!(
        check(&over, SIGN),
        vec![TemplateError::TooLong {
            chars: MAX_CHARS + 1,
            max: MAX_CHARS
        }]
    );
}

#[test]
fn every_character_counts_one_whatever_its_width() {
    assert_eq!(sms_chars("腾讯云", "a 1，,５"), 3 + 2 + 6);
}

#[test]
fn render_fills_each_variable_by_its_number() {
    let text = "{1}为您的登录验证码，请于{2}分钟内填写";
    assert_eq!(
        render(text, &params(&["4370", "5"])).as_deref(),
        Some("4370为您的登录验证码，请于5分钟内填写")
    );
}

#[test]
fn render_refuses_a_missing_or_an_extra_value() {
    let text = "请于{2}分钟内填写{1}";
    assert_eq!(render(text, &params(&["a"])), None);
    assert_eq!(render("请回复", &params(&["a"])), None);
    assert_eq!(render("请于{0}分钟", &params(&["a"])), None);
}

#[test]
fn params_are_checked_against_the_documented_limits() {
    let values = params(&[
        "一二三四五六七八九十一二三",
        "【签名】",
        "https://x.cn",
        "www.x.cn",
        "5",
    ]);
    assert_eq!(
        check_params(&values, Some(INDIVIDUAL_MAX_PARAM_CHARS)),
        vec![
            ParamError::TooLong {
                index: 0,
                chars: 13,
                max: 12
            },
            ParamError::SignatureBrackets { index: 1 },
            ParamError::Link { index: 2 },
            ParamError::Link { index: 3 },
        ]
    );
    assert_eq!(check_params(&values[..1], None), vec![]);
}
