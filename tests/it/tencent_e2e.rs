//! The whole loop on Tencent: an event in → the first question as an approved template at a
//! strict Tencent double → receipts → replies pushed the way Tencent pushes them → answers
//! stored → the next templated questions → survey completed, announced on the broker.

use std::{collections::HashMap, time::Duration};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::{
    helpers::{Names, TestApp, event, listen_for_events, minutes_ago},
    tencent_double::{APP_ID, Double, Mode, SECRET_ID, SECRET_KEY, SIGN, TOKEN},
};

const PHONE: &str = "+8613912345678";

/// The default survey's messages in zh-CN, as README lists them, with made-up approved ids;
/// the thank-you names the call's queue to carry a parameter.
const ZH: [(&str, &str, &str); 12] = [
    (
        "first",
        "3001",
        "您好，感谢您致电。您的问题解决了吗？回复1=是，2=否。回TD退订",
    ),
    (
        "question_satisfaction",
        "3002",
        "您对本次服务满意吗？请回复1-5分（5分=非常满意）。",
    ),
    (
        "question_recommend",
        "3003",
        "您有多大可能向朋友推荐我们？请回复0-10分（10分=非常愿意）。",
    ),
    (
        "question_comment",
        "3004",
        "还有什么想对我们说的吗？欢迎直接回复（可不回复）。",
    ),
    (
        "reprompt_resolved",
        "3005",
        "抱歉没看懂。请回复1（是）或2（否）。",
    ),
    (
        "reprompt_satisfaction",
        "3006",
        "抱歉没看懂。请回复1到5之间的一个数字。",
    ),
    (
        "reprompt_recommend",
        "3007",
        "抱歉没看懂。请回复0到10之间的一个数字。",
    ),
    ("reprompt_comment", "3008", "请直接回复您想说的话。"),
    ("thank_you", "3009", "感谢您对{1}服务的反馈！"),
    ("opted_out", "3010", "您已退订，我们不会再发送满意度短信。"),
    ("opted_in", "3011", "您已重新订阅满意度短信。"),
    (
        "help",
        "3012",
        "这是客服满意度回访短信。如需帮助请致电95188。回TD退订。",
    ),
];

/// The same messages in English (ids 4001…), the survey's second language.
fn english_text(name: &str) -> &'static str {
    match name {
        "first" => {
            "Thank you for calling. Was your problem solved? Reply 1 = yes, 2 = no. Reply TD to unsubscribe."
        }
        "question_satisfaction" => {
            "How satisfied were you with our service? Reply 1-5 (5 = very satisfied)."
        }
        "question_recommend" => {
            "How likely are you to recommend us to a friend? Reply 0-10 (10 = very likely)."
        }
        "question_comment" => "Anything else you would like to tell us? Just reply (optional).",
        "reprompt_resolved" => "Sorry, we didn't get that. Please reply 1 (yes) or 2 (no).",
        "reprompt_satisfaction" => {
            "Sorry, we didn't get that. Please reply with a number from 1 to 5."
        }
        "reprompt_recommend" => {
            "Sorry, we didn't get that. Please reply with a number from 0 to 10."
        }
        "reprompt_comment" => "Just reply with what you would like to tell us.",
        "thank_you" => "Thank you for your feedback on {1}!",
        "opted_out" => "You are unsubscribed and will get no more survey messages.",
        "opted_in" => "You are subscribed to survey messages again.",
        _ => "This is our customer-service survey. For help call 95188. Reply TD to unsubscribe.",
    }
}

pub(crate) fn config_and_templates() -> (String, HashMap<String, String>) {
    let mut toml = String::new();
    let mut approved = HashMap::new();
    for (language, offset) in [("zh-CN", 0), ("en", 1000)] {
        toml.push_str(&format!("[provider.tencent.templates.\"{language}\"]\n"));
        for (name, id, zh) in ZH {
            let id = (id.parse::<u32>().unwrap() + offset).to_string();
            let text = if language == "en" {
                english_text(name)
            } else {
                zh
            };
            let params = if name == "thank_you" {
                r#"["queue"]"#
            } else {
                "[]"
            };
            toml.push_str(&format!(
                "{name} = {{ id = \"{id}\", text = \"{text}\", params = {params} }}\n"
            ));
            approved.insert(id, text.to_owned());
        }
    }
    (toml, approved)
}

/// The whole survey is five SMS to one number: above Tencent's default cap of two a day,
/// which this account is taken to have raised (tests/it/caps.rs runs it at two).
pub(crate) async fn start(double: &Double, config: &str) -> (TestApp, tempfile::TempDir) {
    start_with(
        Names::new(),
        double,
        config,
        &[("POSTCALL__PROVIDER__TENCENT__CAPS__PER_NATURAL_DAY", "10")],
    )
    .await
}

/// A Tencent-backed app on `names` and `double`, with `config` as its file and `extra`
/// settings.
pub(crate) async fn start_with(
    names: Names,
    double: &Double,
    config: &str,
    extra: &[(&str, &str)],
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tencent.toml");
    std::fs::write(&file, config).unwrap();
    let uri = double.uri();
    let mut env = vec![
        ("POSTCALL__PROVIDER__KIND", "tencent"),
        ("POSTCALL__PROVIDER__TENCENT__BASE_URL", uri.as_str()),
        ("POSTCALL__PROVIDER__TENCENT__SECRET_ID", SECRET_ID),
        ("POSTCALL__PROVIDER__TENCENT__SECRET_KEY", SECRET_KEY),
        ("POSTCALL__PROVIDER__TENCENT__SMS_SDK_APP_ID", APP_ID),
        ("POSTCALL__PROVIDER__TENCENT__SIGN_NAME", SIGN),
        ("POSTCALL__PROVIDER__TENCENT__CALLBACK_TOKEN", TOKEN),
        ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0"),
        ("POSTCALL__DISPATCH__POLL_INTERVAL_MS", "200"),
    ];
    env.extend_from_slice(extra);
    let settings = names.settings_from(Some(&file), &env);
    (TestApp::spawn_settings(names, settings).await, dir)
}

async fn push(app: &TestApp, route: &str, body: &Value) -> (u16, String) {
    crate::tencent::post(app, TOKEN, route, body).await
}

pub(crate) fn reply(text: &str, sign: &str, time: i64) -> Value {
    json!({"extend": "", "mobile": &PHONE[3..], "nationcode": "86", "sign": sign,
           "text": text, "time": time})
}

const OK: &str = r#"{"result":0,"errmsg":"OK"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_runs_on_approved_templates_from_first_question_to_completed() {
    let (config, approved) = config_and_templates();
    let double = Double::start(Mode::Accept, approved).await;
    let (app, _dir) = start(&double, &config).await;
    let mut events = listen_for_events(&app).await;
    app.publish(&event("tc-e2e-1", PHONE, minutes_ago(1))).await;

    assert_eq!(
        double.wait_for_sent(1).await,
        1,
        "refused: {:?}",
        double.refusals()
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let first = &double.sent()[0];
    assert_eq!(first.body["TemplateId"], "3001");
    assert_eq!(first.body["TemplateParamSet"], json!([]));
    assert_eq!(first.body["PhoneNumberSet"], json!([PHONE]));
    let (body, template_id, segments): (String, String, i32) = sqlx::query_as(
        "SELECT body, template_id, segments FROM messages WHERE provider_message_id = $1",
    )
    .bind(first.serial_no.as_deref().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(Some(body.as_str()), first.rendered.as_deref());
    assert!(body.starts_with("【小蓝钱包】您好"), "{body}");
    assert_eq!(template_id, "3001");
    assert_eq!(segments, 1);

    // The receipt for it, then the replies, each answered the way Tencent expects.
    let serial = first.serial_no.clone().unwrap();
    let receipt = json!([{"user_receive_time": "2026-12-02 22:03:04", "nationcode": "86",
        "mobile": &PHONE[3..], "report_status": "SUCCESS", "errmsg": "DELIVRD",
        "description": "用户短信送达成功", "sid": serial}]);
    assert_eq!(push(&app, "status", &receipt).await, (200, OK.to_owned()));
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE status = 'delivered'",
        1,
    )
    .await;

    let now = chrono::Utc::now().timestamp();
    let steps = [
        ("1", "3002"),
        ("5", "3003"),
        ("3", "3004"),
        ("等太久了", "3009"),
    ];
    for (i, (text, next_template)) in steps.iter().enumerate() {
        let (status, answer) = push(&app, "inbound", &reply(text, SIGN, now + i as i64)).await;
        assert_eq!((status, answer.as_str()), (200, OK), "{text}");
        assert_eq!(double.wait_for_sent(i + 2).await, i + 2, "after {text}");
        let sent = &double.sent()[i + 1];
        assert_eq!(sent.body["TemplateId"], *next_template, "after {text}");
        for value in sent.body["TemplateParamSet"].as_array().unwrap() {
            let value = value.as_str().unwrap();
            assert!(!value.contains(['【', '】']), "{value}");
        }
    }
    let thanks = &double.sent()[4];
    assert_eq!(thanks.body["TemplateParamSet"], json!(["payment"]));
    assert_eq!(
        thanks.rendered.as_deref(),
        Some("【小蓝钱包】感谢您对payment服务的反馈！")
    );

    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    let stored = app.answers().await;
    assert_eq!(
        stored,
        vec![
            ("resolved".into(), json!(true)),
            ("satisfaction".into(), json!(5)),
            ("recommend".into(), json!(3)),
            ("comment".into(), json!("等太久了")),
        ]
    );
    let completed = loop {
        let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        if delivery.routing_key.as_str() == "survey.completed" {
            break serde_json::from_slice::<Value>(&delivery.data).unwrap();
        }
    };
    assert_eq!(completed["call_id"], "tc-e2e-1");
    assert_eq!(completed["answers"].as_array().unwrap().len(), 4);

    // The same reply pushed again is stored once; a reply under another sender's signature
    // is kept as unsolicited and answered with nothing.
    let again = push(&app, "inbound", &reply("等太久了", SIGN, now + 3)).await;
    assert_eq!(again.0, 200);
    let other = push(&app, "inbound", &reply("1", "别家银行", now + 10)).await;
    assert_eq!(other.0, 200);
    app.wait_for_count(
        "SELECT count(*) FROM inbound_messages WHERE outcome = 'unsolicited'",
        1,
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM inbound_messages").await, 5);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(double.sent().len(), 5);
}
