//! The compact survey (`survey.preset = "compact"`) end to end on each channel: one SMS asks
//! resolved and satisfaction; `1 5` stores both and thanks, and the scores count fcr and csat;
//! `5` stores the score and re-prompts resolved alone, and `是` then completes it. Twilio
//! sends the survey's own texts; the console logs them, its replies coming through the
//! generic webhook route.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::{
    aliyun, aliyun_double,
    cli_templates::readme_compact_templates,
    conversation::{self, TWILIO_PUBLIC_URL, sent_body, sms_reply, twilio_reply},
    helpers::{Names, TestApp, event, minutes_ago, scores_after_a_run},
    provider_double::{
        Provider, WEBHOOK_SECRET, twilio_created, twilio_env, webhook_accepted, webhook_env,
    },
    tencent_double, tencent_e2e,
};

const PHONE: &str = "+8613912345678";
const PRESET: &str = "[survey]\npreset = \"compact\"\n";

/// README's compact templates for `kind` with ids filled in, and the approved text by id.
fn compact_templates(kind: &str) -> (String, HashMap<String, String>) {
    let toml_text = readme_compact_templates(kind);
    let table: toml::Table = toml::from_str(&toml_text).unwrap();
    let approved = table["provider"][kind]["templates"]
        .as_table()
        .unwrap()
        .values()
        .flat_map(|by_name| by_name.as_table().unwrap().values())
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (format!("{PRESET}{toml_text}"), approved)
}

/// The answers in time, by question id (resolved before satisfaction).
async fn stored_answers(app: &TestApp) -> Vec<(String, Value)> {
    sqlx::query_as("SELECT question_id, value FROM answers WHERE NOT late ORDER BY question_id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

fn both() -> Vec<(String, Value)> {
    vec![
        ("resolved".to_owned(), json!(true)),
        ("satisfaction".to_owned(), json!(5)),
    ]
}

/// The agent's scores after an aggregation run, once nothing is left to send.
async fn agent_scores(app: &TestApp) -> Value {
    let compact = [("POSTCALL__SURVEY__PRESET", "compact")];
    scores_after_a_run(app, &compact, "group_by=agent").await["groups"][0].clone()
}

/// The compact question reached `provider` for `call_id` (from `PHONE`), the survey open.
async fn asked(app: &TestApp, provider: &Provider, call_id: &str) {
    app.publish(&event(call_id, PHONE, minutes_ago(1))).await;
    assert_eq!(provider.wait_for(1).await, 1);
    assert_eq!(sent_body(provider, 0), COMPACT_FIRST);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
}

/// The survey completed with both answers, and the agent's scores count them.
async fn completed_and_counted(app: &TestApp) {
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    assert_eq!(stored_answers(app).await, both());
    let agent = agent_scores(app).await;
    assert_eq!(agent["key"], json!({"agent_id": "agent-7"}), "{agent}");
    assert_eq!(
        (&agent["sent"], &agent["responses"]),
        (&json!(1), &json!(1)),
        "{agent}"
    );
    assert_eq!(agent["fcr"]["yes"], 1, "{agent}");
    assert_eq!(agent["csat"]["satisfied"], 1, "{agent}");
}

async fn webhook_app(provider: &Provider) -> TestApp {
    let mut env = webhook_env(&provider.uri());
    env.push(("POSTCALL__SURVEY__PRESET".into(), "compact".into()));
    conversation::start(env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_one_sms_asks_both_and_one_reply_answers_both() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = webhook_app(&provider).await;
    asked(&app, &provider, "compact-1").await;
    assert_eq!(sms_reply(&app, "in-1", "1 5").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);
    assert_eq!(sent_body(&provider, 1), "【小蓝钱包】感谢您的反馈！");
    completed_and_counted(&app).await;
    assert_eq!(provider.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_the_score_alone_re_prompts_resolved_then_completes() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = webhook_app(&provider).await;
    app.publish(&event("compact-2", PHONE, minutes_ago(1)))
        .await;
    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    assert_eq!(sms_reply(&app, "in-1", "5").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);
    assert_eq!(
        sent_body(&provider, 1),
        "【小蓝钱包】抱歉没看懂。请回复1（是）或2（否）。"
    );
    assert_eq!(
        stored_answers(&app).await,
        vec![("satisfaction".to_owned(), json!(5))]
    );
    assert_eq!(sms_reply(&app, "in-2", "是").await, 204);
    assert_eq!(provider.wait_for(3).await, 3);
    assert_eq!(sent_body(&provider, 2), "【小蓝钱包】感谢您的反馈！");
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    assert_eq!(stored_answers(&app).await, both());
}

/// The compact question's text, as the survey's own texts compose it.
const COMPACT_FIRST: &str = "【小蓝钱包】您好，感谢您致电。问题解决了吗（1=是，2=否）？服务满意度1-5分（5=非常满意）？请一起回复，如：1 5。回TD退订";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_one_sms_asks_both_and_one_reply_answers_both() {
    let provider = Provider::answering(|n| twilio_created(&format!("SM{n:032}"))).await;
    let mut env = twilio_env(&provider.uri());
    env.push((
        "POSTCALL__HTTP__PUBLIC_URL".into(),
        TWILIO_PUBLIC_URL.into(),
    ));
    env.push(("POSTCALL__SURVEY__PRESET".into(), "compact".into()));
    let app = conversation::start(env).await;
    asked(&app, &provider, "compact-tw").await;
    assert_eq!(twilio_reply(&app, "SMin1", "1，5分").await, 200);
    assert_eq!(provider.wait_for(2).await, 2);
    assert_eq!(sent_body(&provider, 1), "【小蓝钱包】感谢您的反馈！");
    completed_and_counted(&app).await;
    assert_eq!(provider.requests().len(), 2);
}

/// The console "sends" to the log: what it sent is the message rows it marked sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_one_sms_asks_both_and_one_reply_answers_both() {
    let app = conversation::start(vec![
        ("POSTCALL__PROVIDER__KIND".into(), "console".into()),
        (
            "POSTCALL__PROVIDER__WEBHOOK__SECRET".into(),
            WEBHOOK_SECRET.into(),
        ),
        ("POSTCALL__SURVEY__PRESET".into(), "compact".into()),
    ])
    .await;
    app.publish(&event("compact-co", PHONE, minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let sent = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT body, provider FROM messages WHERE status = 'sent' ORDER BY created_at",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap()
    };
    assert_eq!(
        sent().await,
        [(COMPACT_FIRST.to_owned(), "console".to_owned())]
    );

    assert_eq!(sms_reply(&app, "in-1", "是 5").await, 204);
    completed_and_counted(&app).await;
    let bodies: Vec<String> = sent().await.into_iter().map(|(body, _)| body).collect();
    assert_eq!(bodies, [COMPACT_FIRST, "【小蓝钱包】感谢您的反馈！"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_the_compact_survey_runs_on_its_readme_templates() {
    let (config, approved) = compact_templates("tencent");
    let id_of = |text: &str| {
        approved
            .iter()
            .find(|(_, t)| t.starts_with(text))
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    let double =
        tencent_double::Double::start(tencent_double::Mode::Accept, approved.clone()).await;
    let (app, _dir) = tencent_e2e::start(&double, &config).await;
    app.publish(&event("compact-tc", PHONE, minutes_ago(1)))
        .await;
    assert_eq!(double.wait_for_sent(1).await, 1, "{:?}", double.refusals());
    let first = &double.sent()[0];
    assert_eq!(
        first.body["TemplateId"],
        id_of("您好，感谢您致电。问题解决了吗")
    );
    assert_eq!(
        first.rendered.as_deref(),
        Some(
            "【小蓝钱包】您好，感谢您致电。问题解决了吗（1=是，2=否）？服务满意度1-5分（5=非常满意）？请一起回复，如：1 5。回TD退订"
        )
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    let now = chrono::Utc::now().timestamp();
    let sign = tencent_double::SIGN;
    // The score alone, the re-prompt for resolved, then resolved.
    let push = |text: &str, at: i64| {
        let body = tencent_e2e::reply(text, sign, at);
        let app = &app;
        async move { crate::tencent::post(app, tencent_double::TOKEN, "inbound", &body).await }
    };
    assert_eq!(push("5分", now).await.0, 200);
    assert_eq!(double.wait_for_sent(2).await, 2);
    assert_eq!(
        double.sent()[1].body["TemplateId"],
        id_of("抱歉没看懂。请回复1（是）")
    );
    assert_eq!(push("是", now + 1).await.0, 200);
    assert_eq!(double.wait_for_sent(3).await, 3);
    assert_eq!(double.sent()[2].body["TemplateId"], id_of("感谢您的反馈"));
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    assert_eq!(stored_answers(&app).await, both());
    assert!(double.refusals().is_empty(), "{:?}", double.refusals());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_the_compact_survey_runs_on_its_readme_templates() {
    let (config, approved) = compact_templates("aliyun");
    let code_of = |text: &str| {
        approved
            .iter()
            .find(|(_, t)| t.starts_with(text))
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    let double = aliyun_double::AliyunDouble::start(aliyun_double::Mode::Ok).await;
    let app = aliyun::app_with(Names::new(), &double.url, "", &config, &[]).await;

    app.publish(&event("compact-al", PHONE, minutes_ago(1)))
        .await;
    assert_eq!(double.wait_for(1).await, 1);
    assert_eq!(
        double.received()[0].params["TemplateCode"],
        code_of("您好，感谢您致电。问题解决了吗")
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let (status, answer) = aliyun::post(
        &app,
        aliyun::TOKEN,
        "inbound",
        &aliyun::sms_up("c1", "解决了，5分", aliyun::SIGN),
    )
    .await;
    assert_eq!((status, answer.as_str()), (200, aliyun::RECEIVED));
    assert_eq!(double.wait_for(2).await, 2);
    assert_eq!(
        double.received()[1].params["TemplateCode"],
        code_of("感谢您的反馈")
    );
    completed_and_counted(&app).await;
    assert_eq!(double.received().len(), 2);
}

/// A pair with a question after it: `1 4` leaves the survey open, so both answers go
/// through the one guarded statement; the surveys API shows them under their own ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_before_another_question_stores_both_answers_and_asks_the_next() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let config = format!(
        "{}\n[[survey.questions]]\nid = \"comment\"\nkind = \"text\"\nmetric = \"none\"\ntext.\"zh-CN\" = \"还有什么想说的吗？\"\n",
        postcall::config::COMPACT_TOML
    );
    std::io::Write::write_all(&mut file, config.as_bytes()).unwrap();
    let mut env = webhook_env(&provider.uri());
    env.push(("POSTCALL__ELIGIBILITY__DELAY_SECONDS".into(), "0".into()));
    env.push(("POSTCALL__DISPATCH__POLL_INTERVAL_MS".into(), "200".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let names = Names::new();
    let settings = names.settings_from(Some(file.path()), &pairs);
    let app = TestApp::spawn_settings(names, settings).await;

    app.publish(&event("compact-3", PHONE, minutes_ago(1)))
        .await;
    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    assert_eq!(sms_reply(&app, "in-1", "1 4").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);
    assert_eq!(sent_body(&provider, 1), "【小蓝钱包】还有什么想说的吗？");
    assert_eq!(
        stored_answers(&app).await,
        vec![
            ("resolved".to_owned(), json!(true)),
            ("satisfaction".to_owned(), json!(4)),
        ]
    );
    let survey: Value = reqwest::get(format!("{}/api/v1/surveys/compact-3", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(survey["state"], "open", "{survey}");
    let answers: Vec<(&str, &Value)> = survey["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["question_id"].as_str().unwrap(), &a["value"]))
        .collect();
    assert_eq!(
        answers,
        [("resolved", &json!(true)), ("satisfaction", &json!(4))],
        "{survey}"
    );
    assert_eq!(sms_reply(&app, "in-2", "挺好").await, 204);
    assert_eq!(provider.wait_for(3).await, 3);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    assert_eq!(app.count("SELECT count(*) FROM answers").await, 3);
}
