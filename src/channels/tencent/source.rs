//! Tencent's templates as the composer takes them: `{n}` placeholders filled in order from
//! the values each template names, and Tencent's review rules.

use super::{Settings, template};
use crate::channels::templates::{Rendered, Template, TemplateParam, TemplateSource, Values};

/// `provider.tencent.templates`, under `provider.tencent.sign_name`.
pub fn source(settings: &Settings) -> TemplateSource<'_> {
    TemplateSource {
        key: "provider.tencent.templates",
        sign_name: &settings.sign_name,
        templates: &settings.templates,
        render,
        check,
    }
}

/// `params[i]` names the value of `{i + 1}`.
fn render(t: &Template, values: &Values) -> Result<Rendered, String> {
    let params = t
        .params
        .iter()
        .map(|name| {
            let value = values
                .get(name.as_str())
                .ok_or_else(|| format!("no value named {name:?}"))?;
            Ok(TemplateParam {
                name: name.clone(),
                value: value.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let filled: Vec<String> = params.iter().map(|p| p.value.clone()).collect();
    let text = template::render(&t.text, &filled).ok_or_else(|| {
        format!(
            "{} params for a text whose variables are not {{1}} to {{{}}}",
            filled.len(),
            filled.len()
        )
    })?;
    Ok(Rendered { text, params })
}

fn check(t: &Template, sign_name: &str) -> Vec<String> {
    template::check(&t.text, sign_name)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str, params: &[&str]) -> Template {
        Template {
            id: "3009".into(),
            text: text.into(),
            params: params.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn values_fill_the_variables_in_the_order_params_names_them() {
        let values = Values::from([
            ("agent_id", "a-7".to_owned()),
            ("queue", "payment".to_owned()),
        ]);
        let rendered = render(
            &template("{1}组{2}为您服务", &["queue", "agent_id"]),
            &values,
        )
        .unwrap();
        assert_eq!(rendered.text, "payment组a-7为您服务");
        assert_eq!(
            rendered.params,
            vec![
                TemplateParam {
                    name: "queue".into(),
                    value: "payment".into()
                },
                TemplateParam {
                    name: "agent_id".into(),
                    value: "a-7".into()
                },
            ]
        );
        assert!(render(&template("{1}组", &["nobody"]), &values).is_err());
        assert!(render(&template("{1}组{2}", &["queue"]), &values).is_err());
        assert!(render(&template("感谢", &["queue"]), &values).is_err());
    }

    #[test]
    fn the_review_rules_are_tencents() {
        assert!(check(&template("感谢您的反馈！", &[]), "小蓝钱包").is_empty());
        assert!(!check(&template("【小蓝】感谢", &[]), "小蓝钱包").is_empty());
        assert!(!check(&template("${1}感谢", &["queue"]), "小蓝钱包").is_empty());
    }
}
