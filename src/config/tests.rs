use std::{collections::HashMap, io::Write};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The compiled-in defaults overlaid by `pairs` as `POSTCALL__*` variables, validated; the
/// config submodules' tests load through it too.
pub(super) fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load_from(None, env(pairs))
}

pub(super) fn error_of(pairs: &[(&str, &str)]) -> String {
    load_env(pairs).unwrap_err().to_string()
}

#[test]
fn defaults_reach_the_local_services() {
    let s = load_env(&[]).unwrap();
    assert_eq!(
        s.database.url.expose_secret(),
        "postgres://postgres@127.0.0.1:5432/postcall"
    );
    assert_eq!(
        s.amqp.url.expose_secret(),
        "amqp://guest:guest@127.0.0.1:5672/%2f"
    );
    assert_eq!(s.http.bind, "127.0.0.1:8080");
    assert_eq!(s.amqp.queue, "postcall.call-completed");
    assert_eq!(s.amqp.dead_letter_queue, "postcall.call-completed.dead");
    assert_eq!(s.provider.kind, crate::channels::ProviderKind::Console);
    let p = s.policy().unwrap();
    assert_eq!(p.min_talk, TimeDelta::seconds(20));
    assert_eq!(p.frequency_cap, TimeDelta::days(7));
    assert_eq!(p.delay, TimeDelta::minutes(5));
    assert_eq!(p.sample_rate, 1.0);
    assert_eq!(p.dispositions, vec![Disposition::Completed]);
    let qh = p.quiet_hours.unwrap();
    assert_eq!(
        (qh.start.to_string(), qh.end.to_string()),
        ("21:00:00".into(), "09:00:00".into())
    );
}

#[test]
fn the_contract_keys_are_settable_from_the_environment() {
    let s = load_env(&[
        ("POSTCALL__DATABASE__URL", "postgres://db.example/pc"),
        ("POSTCALL__AMQP__URL", "amqp://mq.example/%2f"),
        ("POSTCALL__PROVIDER__KIND", "twilio"),
        (
            "POSTCALL__PROVIDER__TWILIO__BASE_URL",
            "http://127.0.0.1:9999",
        ),
        ("POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID", "AC123"),
        (
            "POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN",
            "40213976581234098765432109876543",
        ),
        ("POSTCALL__PROVIDER__TWILIO__FROM", "+15005550006"),
        (
            "POSTCALL__PROVIDER__WEBHOOK__URL",
            "http://127.0.0.1:9998/send",
        ),
        (
            "POSTCALL__PROVIDER__WEBHOOK__SECRET",
            "whsec_/3dJe4BJS8RqEHYTdh1eykqKDreAVwUCNNiysM1ShmY=",
        ),
        ("POSTCALL__HTTP__BIND", "0.0.0.0:9090"),
        ("POSTCALL__HTTP__PUBLIC_URL", "https://postcall.example.com"),
        ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "60"),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false"),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__START", "22:30"),
        ("POSTCALL__ELIGIBILITY__QUIET_HOURS__END", "08:00"),
        ("POSTCALL__ELIGIBILITY__FREQUENCY_CAP_DAYS", "3"),
        ("POSTCALL__ELIGIBILITY__SAMPLE_RATE", "0.25"),
        ("POSTCALL__ELIGIBILITY__MIN_TALK_SECONDS", "45"),
        (
            "POSTCALL__ELIGIBILITY__DISPOSITIONS",
            "completed,transferred",
        ),
        ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "5"),
        ("POSTCALL__DISPATCH__RETRY__MAX_DELAY_SECONDS", "600"),
        ("POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS", "4"),
        ("POSTCALL__SURVEY__EXPIRE_AFTER_HOURS", "48"),
        ("POSTCALL__AGGREGATION__SCHEDULE", "0 0 * * * *"),
        ("POSTCALL__AGGREGATION__TIMEZONE", "Europe/Berlin"),
        ("POSTCALL__API__TOKEN", "sFm3g9zns1owsN9Gcmjxo4T3_zNgiVcB"),
    ])
    .unwrap();
    assert_eq!(s.database.url.expose_secret(), "postgres://db.example/pc");
    assert_eq!(s.amqp.url.expose_secret(), "amqp://mq.example/%2f");
    assert_eq!(
        s.provider.twilio.auth_token.expose_secret(),
        "40213976581234098765432109876543",
        "a numeric-looking secret stays a string"
    );
    assert_eq!(s.provider.twilio.base_url, "http://127.0.0.1:9999");
    assert_eq!(
        s.provider.twilio.from, "+15005550006",
        "a leading + survives"
    );
    assert_eq!(s.http.public_url, "https://postcall.example.com");
    assert_eq!(s.eligibility.quiet_hours.start, "22:30");
    assert!(!s.eligibility.quiet_hours.enabled);
    assert_eq!(s.dispatch.retry.max_attempts, 4);
    assert_eq!(s.survey.expire_after_hours, 48);
    assert_eq!(
        s.api.token.expose_secret(),
        "sFm3g9zns1owsN9Gcmjxo4T3_zNgiVcB"
    );
    let p = s.policy().unwrap();
    assert_eq!(p.sample_rate, 0.25);
    assert_eq!(p.min_talk, TimeDelta::seconds(45));
    assert_eq!(p.frequency_cap, TimeDelta::days(3));
    assert_eq!(
        p.dispositions,
        vec![Disposition::Completed, Disposition::Transferred]
    );
    assert!(p.quiet_hours.is_none());
}

#[test]
fn a_file_overlays_the_defaults_and_the_environment_overlays_the_file() {
    let mut file = tempfile_with("[eligibility]\ndelay_seconds = 120\nmin_talk_seconds = 30\n");
    file.flush().unwrap();
    let s = Settings::load_from(
        Some(file.path()),
        env(&[("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "90")]),
    )
    .unwrap();
    assert_eq!(s.eligibility.delay_seconds, 90);
    assert_eq!(s.eligibility.min_talk_seconds, 30);
    assert_eq!(s.eligibility.frequency_cap_days, 7);
}

#[test]
fn a_missing_config_file_refuses_to_start() {
    let err = Settings::load_from(Some(Path::new("/nonexistent/postcall.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("postcall.toml"), "{err}");
}

#[test]
fn invalid_values_name_their_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "POSTCALL__ELIGIBILITY__SAMPLE_RATE",
            "1.5",
            "eligibility.sample_rate",
        ),
        (
            "POSTCALL__ELIGIBILITY__DELAY_SECONDS",
            "soon",
            "eligibility.delay_seconds",
        ),
        (
            "POSTCALL__ELIGIBILITY__QUIET_HOURS__START",
            "9pm",
            "eligibility.quiet_hours.start",
        ),
        (
            "POSTCALL__ELIGIBILITY__QUIET_HOURS__END",
            "25:00",
            "eligibility.quiet_hours.end",
        ),
        (
            "POSTCALL__ELIGIBILITY__DISPOSITIONS",
            "completed,hung_up",
            "eligibility.dispositions",
        ),
        (
            "POSTCALL__ELIGIBILITY__DEFAULT_TIMEZONE",
            "Asia/Beijing",
            "eligibility.default_timezone",
        ),
        (
            "POSTCALL__ELIGIBILITY__DEFAULT_LANGUAGE",
            "chinese!",
            "eligibility.default_language",
        ),
        (
            "POSTCALL__AGGREGATION__SCHEDULE",
            "*/5 * * * *",
            "aggregation.schedule",
        ),
        (
            "POSTCALL__AGGREGATION__TIMEZONE",
            "Nowhere",
            "aggregation.timezone",
        ),
        (
            "POSTCALL__PROVIDER__KIND",
            "carrier-pigeon",
            "provider.kind",
        ),
        ("POSTCALL__HTTP__BIND", "localhost", "http.bind"),
        ("POSTCALL__INGEST__PREFETCH", "10", "ingest.prefetch"),
        ("POSTCALL__INGEST__IN_FLIGHT", "0", "ingest.in_flight"),
        ("POSTCALL__INGEST__IN_FLIGHT", "9", "ingest.in_flight"),
        (
            "POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS",
            "0",
            "dispatch.retry.max_attempts",
        ),
        (
            "POSTCALL__DISPATCH__RECONCILE__GRACE_SECONDS",
            "0",
            "dispatch.reconcile.grace_seconds",
        ),
        (
            "POSTCALL__DISPATCH__RECONCILE__GRACE_SECONDS",
            "soon",
            "dispatch.reconcile.grace_seconds",
        ),
        (
            "POSTCALL__DISPATCH__RECONCILE__MAX_CHECKS",
            "0",
            "dispatch.reconcile.max_checks",
        ),
        ("POSTCALL__LOG__FORMAT", "xml", "log.format"),
    ];
    for (var, value, key) in cases {
        let err = error_of(&[(var, value)]);
        assert!(err.contains(key), "{var}={value}: {err}");
    }
}

#[test]
fn an_unknown_provider_kind_names_the_kinds_there_are() {
    for kind in ["carrier-pigeon", "Twilio", ""] {
        let err = error_of(&[("POSTCALL__PROVIDER__KIND", kind)]);
        assert!(err.contains("provider.kind"), "{kind}: {err}");
        assert!(
            err.contains("console, twilio, webhook, tencent or aliyun"),
            "{kind}: {err}"
        );
    }
}

#[test]
fn a_provider_without_its_credentials_refuses_to_start() {
    let err = error_of(&[("POSTCALL__PROVIDER__KIND", "twilio")]);
    assert!(err.contains("provider.twilio.account_sid"), "{err}");
    let err = error_of(&[
        ("POSTCALL__PROVIDER__KIND", "webhook"),
        (
            "POSTCALL__PROVIDER__WEBHOOK__URL",
            "http://127.0.0.1:1/send",
        ),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", "plain"),
    ]);
    assert!(err.contains("provider.webhook.secret"), "{err}");
}

#[test]
fn unknown_keys_are_refused() {
    let err = error_of(&[("POSTCALL__ELIGIBILITY__SAMPLING_RATE", "0.5")]);
    assert!(err.contains("sampling_rate"), "{err}");
    let mut file = tempfile_with("[eligibility.quiet_hours]\nbegin = \"22:00\"\n");
    file.flush().unwrap();
    let err = Settings::load_from(Some(file.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("begin"), "{err}");
}

#[test]
fn secrets_are_hidden_when_printed() {
    let s = load_env(&[("POSTCALL__API__TOKEN", "t0ps3cret-HDFhXMS-l6l4H7ZLCR3pl")]).unwrap();
    let shown = toml::to_string(&s).unwrap();
    assert!(!shown.contains("t0ps3cret"), "{shown}");
    assert!(shown.contains("<hidden>"));
}

fn tempfile_with(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn readme_lists_every_key_with_its_default() {
    let readme = include_str!("../../README.md");
    let defaults: toml::Table = toml::from_str(DEFAULT_TOML).unwrap();
    let mut keys = Vec::new();
    flatten("", &toml::Value::Table(defaults), &mut keys);
    assert!(keys.len() > 40, "{} keys", keys.len());
    for (key, value) in keys {
        let row = format!("| `{key}` | `{value}` |");
        assert!(
            readme.contains(&row),
            "README's configuration reference lacks {row}"
        );
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        toml::Value::Array(items) => {
            let shown: Vec<String> = items.iter().map(|i| i.to_string()).collect();
            out.push((prefix.to_owned(), format!("[{}]", shown.join(", "))));
        }
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

#[test]
fn the_default_survey_has_the_contract_questions_in_both_languages() {
    let s = load_env(&[]).unwrap();
    let d = s.survey_definition().unwrap();
    let ids: Vec<&str> = d.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["resolved", "satisfaction", "recommend", "comment"]);
    for q in &d.questions {
        assert!(
            q.text.contains_key("zh-CN") && q.text.contains_key("en"),
            "{}",
            q.id
        );
    }
    use crate::domain::survey::{Metric, QuestionKind};
    assert_eq!(d.questions[0].metric, Some(Metric::Fcr));
    assert_eq!(d.questions[1].kind, QuestionKind::Scale { min: 1, max: 5 });
    assert_eq!(d.questions[2].kind, QuestionKind::Scale { min: 0, max: 10 });
    assert_eq!(d.questions[3].metric, None);
    let first = d.first_message("zh-CN", true);
    assert!(
        first.starts_with("【小蓝钱包】") && first.ends_with("回TD退订"),
        "{first}"
    );
}

#[test]
fn a_question_without_text_in_the_default_language_refuses_to_start() {
    let mut file = tempfile_with(
        "[[survey.questions]]\nid = \"only\"\nkind = \"yes_no\"\nmetric = \"fcr\"\ntext.en = \"Solved?\"\n",
    );
    file.flush().unwrap();
    let err = Settings::load_from(Some(file.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("survey.questions[0].text.zh-CN"), "{err}");
}

#[test]
fn a_malformed_question_names_its_place() {
    for (body, key) in [
        (
            "kind = \"scale\"\nmetric = \"csat\"",
            "survey.questions[0].kind",
        ),
        (
            "kind = \"stars\"\nmetric = \"csat\"",
            "survey.questions[0].kind",
        ),
        (
            "kind = \"yes_no\"\nmetric = \"ces\"",
            "survey.questions[0].metric",
        ),
        // Scores read each metric on its contract scale; another scale would be misread.
        (
            "kind = \"scale\"\nmin = 1\nmax = 10\nmetric = \"csat\"",
            "survey.questions[0].metric",
        ),
        (
            "kind = \"scale\"\nmin = 1\nmax = 10\nmetric = \"nps\"",
            "survey.questions[0].metric",
        ),
        (
            "kind = \"scale\"\nmin = 1\nmax = 5\nmetric = \"fcr\"",
            "survey.questions[0].metric",
        ),
    ] {
        let text = format!("[[survey.questions]]\nid = \"q\"\n{body}\ntext.\"zh-CN\" = \"问\"\n");
        let mut file = tempfile_with(&text);
        file.flush().unwrap();
        let err = Settings::load_from(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{body}: {err}");
    }
}

/// `labels.<language>` of a question as a file gives them, loaded over the defaults.
fn labels_error(kind: &str, labels: &str) -> String {
    let text = format!(
        "[[survey.questions]]\nid = \"q\"\n{kind}\nmetric = \"none\"\ntext.\"zh-CN\" = \"问\"\n{labels}\n"
    );
    let mut file = tempfile_with(&text);
    file.flush().unwrap();
    match Settings::load_from(Some(file.path()), env(&[])) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_scales_carry_their_labels_in_both_languages() {
    use crate::domain::reply::{AnswerValue, Reply, parse};
    let d = load_env(&[]).unwrap().survey_definition().unwrap();
    let read = |q: usize, text: &str| parse(text, &d.questions[q].kind, &d.questions[q].labels);
    for (q, text, want) in [
        (1, "非常满意", 5),
        (1, "满意", 4),
        (1, "一般", 3),
        (1, "不满意", 2),
        (1, "非常不满意", 1),
        (1, "very satisfied", 5),
        (1, "very dissatisfied", 1),
        (2, "非常愿意", 10),
        (2, "very likely", 10),
    ] {
        assert_eq!(
            read(q, text),
            Reply::Answer(AnswerValue::Scale(want)),
            "{text}"
        );
    }
    assert!(d.questions[0].labels.is_empty() && d.questions[3].labels.is_empty());
    let compact = load_env(&[("POSTCALL__SURVEY__PRESET", "compact")])
        .unwrap()
        .survey_definition()
        .unwrap();
    assert_eq!(compact.questions[1].labels, d.questions[1].labels);
}

#[test]
fn a_label_outside_the_scale_or_on_another_kind_names_its_key() {
    let scale = "kind = \"scale\"\nmin = 1\nmax = 5";
    let err = labels_error(
        scale,
        "labels.\"zh-CN\" = { \"满意\" = 4, \"超级满意\" = 6 }",
    );
    assert!(
        err.contains("survey.questions[0].labels.zh-CN.超级满意"),
        "{err}"
    );
    assert!(err.contains("outside"), "{err}");
    let err = labels_error(scale, "labels.en = { \"bad\" = 0 }");
    assert!(err.contains("survey.questions[0].labels.en.bad"), "{err}");
    let err = labels_error("kind = \"yes_no\"", "labels.en = { \"yes\" = 1 }");
    assert!(err.contains("survey.questions[0].labels.en"), "{err}");
    // The same words in two languages with two numbers: which would a reply mean?
    let err = labels_error(
        scale,
        "labels.\"zh-CN\" = { \"ok\" = 3 }\nlabels.en = { \"OK\" = 4 }",
    );
    assert!(err.contains("survey.questions[0].labels"), "{err}");
    assert!(labels_error(scale, "labels.en = { \"great\" = 5 }").is_empty());
}

#[test]
fn a_scores_answer_needs_room_for_one_group() {
    let err = error_of(&[("POSTCALL__API__MAX_GROUPS", "0")]);
    assert!(err.contains("api.max_groups"), "{err}");
    let settings = load_env(&[("POSTCALL__API__MAX_GROUPS", "25")]).unwrap();
    assert_eq!(settings.api.max_groups, 25);
    assert_eq!(load_env(&[]).unwrap().api.max_groups, 10_000);
}

#[test]
fn ranking_needs_a_positive_whole_number_of_answers() {
    for bad in ["0", "-1", "2.5", "ten", ""] {
        let err = error_of(&[("POSTCALL__SCORES__MIN_ANSWERS_TO_RANK", bad)]);
        assert!(err.contains("scores.min_answers_to_rank"), "{bad:?}: {err}");
    }
    let settings = load_env(&[("POSTCALL__SCORES__MIN_ANSWERS_TO_RANK", "3")]).unwrap();
    assert_eq!(settings.scores.min_answers_to_rank, 3);
    assert_eq!(load_env(&[]).unwrap().scores.min_answers_to_rank, 10);
}

#[test]
fn a_channels_refusal_names_its_key_whether_fixed_or_built() {
    use std::borrow::Cow;
    let fixed = channel_invalid(channels::settings::Invalid {
        key: Cow::Borrowed("provider.twilio.from"),
        why: "must not be empty".into(),
    });
    assert_eq!(
        fixed.to_string(),
        "config key `provider.twilio.from`: must not be empty"
    );
    let built = channel_invalid(channels::settings::Invalid {
        key: Cow::Owned("provider.tencent.templates.zh-CN.reprompt_satisfaction".into()),
        why: "missing".into(),
    });
    assert_eq!(
        built.to_string(),
        "config key `provider.tencent.templates.zh-CN.reprompt_satisfaction`: missing"
    );
}

#[test]
fn a_bad_cap_refuses_to_start_naming_its_key() {
    let tencent = [
        ("POSTCALL__PROVIDER__KIND", "tencent"),
        (
            "POSTCALL__PROVIDER__TENCENT__SECRET_ID",
            "AKIDpcTest7Vq2Lm9Xw4Rt8Yz1Nb6Ck3Pd0",
        ),
        (
            "POSTCALL__PROVIDER__TENCENT__SECRET_KEY",
            "pcTestKey4Hx9Wq2Zr7Mv1Lt6Nb3Ks8Jd5",
        ),
        ("POSTCALL__PROVIDER__TENCENT__SMS_SDK_APP_ID", "1400123456"),
        ("POSTCALL__PROVIDER__TENCENT__SIGN_NAME", "小蓝钱包"),
        (
            "POSTCALL__PROVIDER__TENCENT__CALLBACK_TOKEN",
            "q8Vw3nT6zK1mR5xB9cL2pH7d",
        ),
    ];
    let cases = [
        (
            "PER_NATURAL_DAY",
            "0",
            "provider.tencent.caps.per_natural_day",
        ),
        (
            "PER_ROLLING_HOUR",
            "0",
            "provider.tencent.caps.per_rolling_hour",
        ),
        (
            "PER_ROLLING_DAY",
            "many",
            "provider.tencent.caps.per_rolling_day",
        ),
        (
            "SAME_CONTENT_SECONDS",
            "-30",
            "provider.tencent.caps.same_content_seconds",
        ),
        ("ZONE", "Asia/Beijing", "provider.tencent.caps.zone"),
    ];
    for (name, value, key) in cases {
        let var = format!("POSTCALL__PROVIDER__TENCENT__CAPS__{name}");
        let mut pairs = tencent.to_vec();
        pairs.push((&var, value));
        let err = error_of(&pairs);
        assert!(err.contains(key), "{var}={value}: {err}");
    }
    // The chosen channel's caps only: a bad cap of another channel is not read.
    let err = error_of(&[
        ("POSTCALL__PROVIDER__KIND", "twilio"),
        ("POSTCALL__PROVIDER__TWILIO__CAPS__PER_NATURAL_DAY", "0"),
    ]);
    assert!(err.contains("provider.twilio.account_sid"), "{err}");
}

#[test]
fn each_platform_has_its_documented_caps_by_default() {
    use crate::domain::caps::Caps;
    use std::num::NonZeroU32;
    let s = load_env(&[]).unwrap().provider;
    assert_eq!(
        s.tencent.caps.rules("tencent").unwrap(),
        Caps {
            per_natural_day: NonZeroU32::new(2),
            zone: chrono_tz::Asia::Shanghai,
            same_content: Some(TimeDelta::seconds(30)),
            ..Caps::OFF
        }
    );
    assert_eq!(
        s.aliyun.caps.rules("aliyun").unwrap(),
        Caps {
            per_rolling_day: NonZeroU32::new(50),
            ..Caps::OFF
        }
    );
    assert!(s.twilio.caps.rules("twilio").unwrap().is_off());
    assert!(s.webhook.caps.rules("webhook").unwrap().is_off());
    assert!(s.caps().unwrap().is_off(), "console sends nowhere: no caps");
}

// --- the compact survey ------------------------------------------------------------------

fn load_file(text: &str, pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut file = tempfile_with(text);
    file.flush().unwrap();
    Settings::load_from(Some(file.path()), env(pairs))
}

#[test]
fn the_compact_preset_asks_resolved_and_satisfaction_in_one_short_sms() {
    let s = load_env(&[("POSTCALL__SURVEY__PRESET", "compact")]).unwrap();
    let d = s.survey_definition().unwrap();
    let ids: Vec<&str> = d.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["resolved", "satisfaction"]);
    assert!(d.questions[0].with_next && !d.questions[1].with_next);
    let zh = d.first_message("zh-CN", true);
    assert_eq!(
        zh,
        "【小蓝钱包】您好，感谢您致电。问题解决了吗（1=是，2=否）？服务满意度1-5分（5=非常满意）？请一起回复，如：1 5。回TD退订"
    );
    assert!(zh.chars().count() <= 70, "{} chars", zh.chars().count());
    let en = d.first_message("en", false);
    assert_eq!(
        en,
        "Thanks for calling. Was your problem solved (1=yes, 2=no)? How satisfied were you, 1-5 (5=very)? Reply both, e.g. 1 5. Reply TD to unsubscribe."
    );
    assert!(en.len() <= 160, "{} chars", en.len());
}

#[test]
fn the_compact_file_is_the_preset() {
    let by_file = load_file(COMPACT_TOML, &[]).unwrap();
    let by_key = load_env(&[("POSTCALL__SURVEY__PRESET", "compact")]).unwrap();
    assert_eq!(
        by_file.survey_definition().unwrap(),
        by_key.survey_definition().unwrap()
    );
}

#[test]
fn the_preset_key_refuses_what_it_cannot_mean() {
    let err = error_of(&[("POSTCALL__SURVEY__PRESET", "short")]);
    assert!(
        err.contains("survey.preset") && err.contains("standard or compact"),
        "{err}"
    );
    // Questions of one's own and the preset at once: neither silently wins.
    let err = load_file(COMPACT_TOML, &[("POSTCALL__SURVEY__PRESET", "compact")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("survey.preset") && err.contains("survey.questions"),
        "{err}"
    );
}

#[test]
fn only_a_yes_no_then_a_one_to_five_scale_can_be_asked_together() {
    for (from, to) in [
        // The second of a pair asked with a third.
        (
            "metric = \"csat\"\n",
            "metric = \"csat\"\nwith_next = true\n",
        ),
        // A pair that is not yes/no then 1–5.
        ("kind = \"yes_no\"", "kind = \"text\""),
    ] {
        let text = COMPACT_TOML.replacen(from, to, 1);
        let text = text.replacen("metric = \"fcr\"", "metric = \"none\"", 1);
        let err = load_file(&text, &[]).unwrap_err().to_string();
        assert!(err.contains("with_next"), "{to}: {err}");
    }
    let err = load_file(
        COMPACT_TOML,
        &[("POSTCALL__SURVEY__WORDING__EN__REPROMPT_PAIR", " ")],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("survey.wording.en.reprompt_pair"), "{err}");
}
