//! Alibaba Cloud SMS: sends against a double that checks the signature independently, and
//! the SmsReport/SmsUp pushes through a running worker — token, allowlist, malformed
//! batches, duplicates, a status that never moves back, store-first answers and the sweep.

use std::time::Duration;

use postcall::channels::{
    Aliyun, Outbound, SendOutcome, SmsProvider, TemplateCall, aliyun, templates::TemplateParam,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::{
    aliyun_double::{AliyunDouble, KEY_ID, KEY_SECRET, Mode},
    helpers::{Names, TestApp},
};

pub(crate) const TOKEN: &str = "k3Jx9QwVb7TzL2mNf8RpY4sD";
pub(crate) const SIGN: &str = "小蓝钱包";

fn settings(base_url: &str, secret: &str) -> aliyun::Settings {
    aliyun::Settings {
        base_url: base_url.into(),
        access_key_id: KEY_ID.into(),
        access_key_secret: SecretString::from(secret),
        sign_name: SIGN.into(),
        callback_token: SecretString::from(TOKEN),
        callback_allow: vec![],
        templates: Default::default(),
        caps: Default::default(),
    }
}

fn client(base_url: &str, secret: &str) -> Aliyun {
    Aliyun::new(&settings(base_url, secret), Duration::from_secs(5)).unwrap()
}

async fn send(provider: &Aliyun, id: Uuid, params: &[TemplateParam]) -> SendOutcome {
    let message = Outbound {
        id,
        to: "+8613912345678",
        body: "【小蓝钱包】您好，工号1024的客服刚为您服务，满意请回复1-5",
        template: Some(TemplateCall {
            id: "SMS_465300001",
            params,
        }),
    };
    provider.send(&message).await
}

fn agent(value: &str) -> Vec<TemplateParam> {
    vec![TemplateParam {
        name: "agent".into(),
        value: value.into(),
    }]
}

#[tokio::test]
async fn a_send_carries_the_template_and_each_answer_has_its_outcome() {
    let double = AliyunDouble::start(Mode::Ok).await;
    let provider = client(&double.url, KEY_SECRET);
    let id = Uuid::new_v4();
    match send(&provider, id, &agent("1024")).await {
        SendOutcome::Accepted {
            provider_message_id,
            status,
            billed_segments: None,
        } => {
            assert_eq!(provider_message_id, "9006197469364901^0");
            assert_eq!(status.as_str(), "queued");
        }
        other => panic!("{other:?}"),
    }
    let received = double.received();
    let call = &received[0];
    assert_eq!(
        call.host,
        double.url.trim_start_matches("http://"),
        "the signed Host carries the port"
    );
    let p = &call.params;
    assert_eq!(p["PhoneNumbers"], "13912345678");
    assert_eq!(p["SignName"], SIGN);
    assert_eq!(p["TemplateCode"], "SMS_465300001");
    assert_eq!(
        serde_json::from_str::<Value>(&p["TemplateParam"]).unwrap(),
        json!({"agent": "1024"})
    );
    assert_eq!(p["OutId"], id.to_string());
    assert!(!p["TemplateParam"].contains('【'));

    let expect_failed = |outcome: SendOutcome, code: &str| match outcome {
        SendOutcome::Failed {
            code: Some(c),
            recipient_opted_out: false,
            ..
        } => assert_eq!(c, code),
        other => panic!("{code}: {other:?}"),
    };
    double.set_mode(Mode::BadNumber);
    expect_failed(
        send(&provider, Uuid::new_v4(), &agent("1")).await,
        "isv.MOBILE_NUMBER_ILLEGAL",
    );
    double.set_mode(Mode::Capped);
    match send(&provider, Uuid::new_v4(), &agent("1")).await {
        SendOutcome::CapExceeded {
            code: Some(c),
            message,
        } => {
            assert_eq!(c, "isv.BUSINESS_LIMIT_CONTROL");
            assert!(message.contains("CapExceeded"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    double.set_mode(Mode::SystemError);
    assert!(matches!(
        send(&provider, Uuid::new_v4(), &agent("1")).await,
        SendOutcome::Unknown { code: Some(c), .. } if c == "isp.SYSTEM_ERROR"
    ));
    // A 503 may come after Aliyun took the message: looked up, never resent blind.
    double.set_mode(Mode::Unavailable);
    assert!(matches!(
        send(&provider, Uuid::new_v4(), &agent("1")).await,
        SendOutcome::Unknown { .. }
    ));
    assert_eq!(double.received().len(), 5);
    assert!(double.refused().is_empty(), "{:?}", double.refused());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_platform_and_nothing_unsendable_leaves() {
    let double = AliyunDouble::start(Mode::Ok).await;
    let wrong = client(&double.url, "not-the-double-secret-0123456");
    expect_code(
        send(&wrong, Uuid::new_v4(), &agent("1")).await,
        "SignatureDoesNotMatch",
    );
    assert_eq!(double.refused(), ["SignatureDoesNotMatch"]);

    let provider = client(&double.url, KEY_SECRET);
    // A parameter that would read as a second signature, and a link: refused before sending.
    for value in ["【别家】", "https://example.com"] {
        assert!(matches!(
            send(&provider, Uuid::new_v4(), &agent(value)).await,
            SendOutcome::Failed { code: None, .. }
        ));
    }
    // No template: a configuration bug, never a free-text send.
    let message = Outbound {
        id: Uuid::new_v4(),
        to: "+8613912345678",
        body: "【小蓝钱包】free text",
        template: None,
    };
    match provider.send(&message).await {
        SendOutcome::Failed { message, .. } => {
            assert!(message.contains("provider.aliyun.templates"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(double.received().is_empty());
}

fn expect_code(outcome: SendOutcome, code: &str) {
    match outcome {
        SendOutcome::Failed { code: Some(c), .. } => assert_eq!(c, code),
        other => panic!("{code}: {other:?}"),
    }
}

pub fn env(base_url: &str, allow: &str) -> Vec<(String, String)> {
    [
        ("POSTCALL__PROVIDER__KIND", "aliyun"),
        ("POSTCALL__PROVIDER__ALIYUN__BASE_URL", base_url),
        ("POSTCALL__PROVIDER__ALIYUN__ACCESS_KEY_ID", KEY_ID),
        ("POSTCALL__PROVIDER__ALIYUN__ACCESS_KEY_SECRET", KEY_SECRET),
        ("POSTCALL__PROVIDER__ALIYUN__SIGN_NAME", SIGN),
        ("POSTCALL__PROVIDER__ALIYUN__CALLBACK_TOKEN", TOKEN),
        ("POSTCALL__PROVIDER__ALIYUN__CALLBACK_ALLOW", allow),
        ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0"),
        ("POSTCALL__DISPATCH__POLL_INTERVAL_MS", "200"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The default survey's texts as approved templates (README "Alibaba Cloud SMS"), the
/// first one with the agent's id as a variable.
pub fn templates_toml() -> String {
    let zh = [
        (
            "first",
            "您好，感谢您致电，工号${agent}为您服务。您的问题解决了吗？回复1=是，2=否。回TD退订",
        ),
        (
            "question_satisfaction",
            "您对本次服务满意吗？请回复1-5分（5分=非常满意）。",
        ),
        (
            "question_recommend",
            "您有多大可能向朋友推荐我们？请回复0-10分（10分=非常愿意）。",
        ),
        (
            "question_comment",
            "还有什么想对我们说的吗？欢迎直接回复（可不回复）。",
        ),
        ("reprompt_resolved", "抱歉没看懂。请回复1（是）或2（否）。"),
        (
            "reprompt_satisfaction",
            "抱歉没看懂。请回复1到5之间的一个数字。",
        ),
        (
            "reprompt_recommend",
            "抱歉没看懂。请回复0到10之间的一个数字。",
        ),
        ("reprompt_comment", "请直接回复您想说的话。"),
        ("thank_you", "感谢您的反馈！"),
        ("opted_out", "您已退订，我们不会再发送满意度短信。"),
        ("opted_in", "您已重新订阅满意度短信。"),
        (
            "help",
            "这是客服满意度回访短信。如需帮助请致电95188。回TD退订。",
        ),
    ];
    let mut toml = String::new();
    for language in ["zh-CN", "en"] {
        toml.push_str(&format!("[provider.aliyun.templates.\"{language}\"]\n"));
        for (i, (name, text)) in zh.iter().enumerate() {
            let text = if language == "en" {
                format!("EN {text}")
            } else {
                (*text).to_owned()
            };
            let params = if *name == "first" {
                r#"["agent_id"]"#
            } else {
                "[]"
            };
            let id = if language == "en" { 2000 + i } else { 1000 + i };
            toml.push_str(&format!(
                "{name} = {{ id = \"SMS_{id}\", text = \"{text}\", params = {params} }}\n"
            ));
        }
    }
    toml
}

async fn app_on(names: Names, base_url: &str, allow: &str) -> TestApp {
    app_with(names, base_url, allow, &templates_toml(), &[]).await
}

/// An Aliyun-backed app on `base_url`, callers `allow`ed, `config` as its file and `extra`
/// settings over the channel's.
pub(crate) async fn app_with(
    names: Names,
    base_url: &str,
    allow: &str,
    config: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::io::Write::write_all(&mut file, config.as_bytes()).unwrap();
    let env = env(base_url, allow);
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.extend_from_slice(extra);
    let settings = names.settings_from(Some(file.path()), &pairs);
    TestApp::spawn_settings(names, settings).await
}

async fn app(allow: &str) -> TestApp {
    app_on(Names::new(), "http://127.0.0.1:9", allow).await
}

pub(crate) async fn post(app: &TestApp, token: &str, route: &str, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/aliyun/{token}/{route}", app.http))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Messages already sent through Aliyun, one per `BizId`.
async fn sent(app: &TestApp, biz_ids: &[String]) {
    sqlx::query(
        "INSERT INTO messages (id, purpose, to_phone, body, encoding, segments, status, provider, provider_message_id)
         SELECT gen_random_uuid(), 'question', '+8613900000000', '【小蓝钱包】问题', 'ucs2', 1, 'queued', 'aliyun', b
           FROM unnest($1::text[]) AS b",
    )
    .bind(biz_ids)
    .execute(&app.pool)
    .await
    .unwrap();
}

fn report(biz_id: &str, success: bool) -> Value {
    json!({
        "phone_number": "13900000000",
        "send_time": "2026-12-02 10:00:00",
        "report_time": "2026-12-02 10:00:04",
        "success": success,
        "err_code": if success { "DELIVERED" } else { "MK:0001" },
        "err_msg": if success { "用户接收成功" } else { "失败" },
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": "",
    })
}

async fn status_of(app: &TestApp, biz_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM messages WHERE provider_message_id = $1")
        .bind(biz_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub(crate) const RECEIVED: &str = r#"{"code":0,"msg":"接收成功"}"#;
const INBOX_EMPTY: &str = "SELECT count(*) FROM callback_inbox";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_are_applied_once_and_never_move_back() {
    let app = app("").await;
    let ids: Vec<String> = (1..=3).map(|i| format!("70000{i}^0")).collect();
    sent(&app, &ids).await;
    // A duplicate inside the batch, and a late failure after the delivery of the same id.
    let batch = json!([
        report(&ids[0], true),
        report(&ids[1], false),
        report(&ids[0], true),
        report(&ids[2], true),
        report(&ids[2], false),
    ]);
    let (status, body) = post(&app, TOKEN, "status", &batch.to_string()).await;
    assert_eq!((status, body.as_str()), (200, RECEIVED));
    app.wait_for_count(INBOX_EMPTY, 0).await;
    assert_eq!(status_of(&app, &ids[0]).await, "delivered");
    assert_eq!(status_of(&app, &ids[1]).await, "undelivered");
    assert_eq!(status_of(&app, &ids[2]).await, "delivered");
    let code: Option<String> =
        sqlx::query_scalar("SELECT error_code FROM messages WHERE provider_message_id = $1")
            .bind(&ids[1])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(code.as_deref(), Some("MK:0001"));

    // Aliyun pushes the whole batch again: nothing changes.
    let (status, _) = post(&app, TOKEN, "status", &batch.to_string()).await;
    assert_eq!(status, 200);
    app.wait_for_count(INBOX_EMPTY, 0).await;
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE status = 'delivered'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_a_malformed_batch_changes_nothing() {
    let app = app("").await;
    let ids = vec!["800001^0".to_owned()];
    sent(&app, &ids).await;
    let batch = json!([report(&ids[0], true)]).to_string();
    for token in [
        "k3Jx9QwVb7TzL2mNf8RpY4sE",
        "short",
        "k3Jx9QwVb7TzL2mNf8RpY4sDx",
    ] {
        for route in ["status", "inbound"] {
            assert_eq!(
                post(&app, token, route, &batch).await.0,
                404,
                "{token} {route}"
            );
        }
    }
    for body in [
        "",
        "{}",
        "[{\"biz_id\": 1}]",
        &batch.replace("true", "\"yes\""),
        "[1, 2",
    ] {
        assert_eq!(post(&app, TOKEN, "status", body).await.0, 400, "{body}");
    }
    let reply = json!([{"phone_number": "not a number", "content": "5", "send_time": "2026-12-02 10:00:00",
                        "dest_code": "1234", "sequence_id": "1"}]);
    assert_eq!(
        post(&app, TOKEN, "inbound", &reply.to_string()).await.0,
        400
    );
    assert_eq!(app.count(INBOX_EMPTY).await, 0);
    assert_eq!(status_of(&app, &ids[0]).await, "queued");
    assert_eq!(app.count("SELECT count(*) FROM inbound_messages").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_outside_the_allowlist_is_not_found() {
    let outside = app("10.0.0.0/8, 192.168.0.0/16").await;
    let batch = json!([report("1^0", true)]).to_string();
    assert_eq!(post(&outside, TOKEN, "status", &batch).await.0, 404);
    assert_eq!(outside.count(INBOX_EMPTY).await, 0);

    let inside = app("127.0.0.0/8").await;
    assert_eq!(post(&inside, TOKEN, "status", &batch).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_stored_once_per_sequence_id_at_their_beijing_time() {
    let app = app("").await;
    let batch = json!([
        {"phone_number": "13911112222", "content": "5", "send_time": "2026-12-02 18:30:00",
         "dest_code": "1234", "sequence_id": 9001},
        {"phone_number": "13911112222", "content": "5", "send_time": "2026-12-02 18:30:00",
         "dest_code": "1234", "sequence_id": "9001"},
        {"phone_number": "13911113333", "content": "好", "send_time": "2026-12-02 18:31:00",
         "dest_code": "1234", "sequence_id": "9002", "sign_name": "别家"}
    ])
    .to_string();
    assert_eq!(
        post(&app, TOKEN, "inbound", &batch).await,
        (200, RECEIVED.to_owned())
    );
    assert_eq!(post(&app, TOKEN, "inbound", &batch).await.0, 200);
    app.wait_for_count(INBOX_EMPTY, 0).await;
    let rows: Vec<(String, String, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT provider, provider_message_id, from_phone, received_at FROM inbound_messages ORDER BY provider_message_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str(), rows[0].2.as_str()),
        ("aliyun", "9001", "+8613911112222")
    );
    assert_eq!(rows[0].3.to_rfc3339(), "2026-12-02T10:30:00+00:00");
    assert_eq!(rows[1].2, "+8613911113333");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_is_answered_before_it_is_processed_and_all_of_it_is_processed() {
    let app = app("").await;
    let ids: Vec<String> = (0..1000).map(|i| format!("9{i:05}^0")).collect();
    sent(&app, &ids).await;
    let batch = Value::Array(ids.iter().map(|id| report(id, true)).collect()).to_string();

    // Hold every write to `messages`: acting on a receipt cannot start until this ends, so
    // an answer that arrives now was given before any processing.
    let mut holder = PgConnection::connect(&app.names.database_url)
        .await
        .unwrap();
    let mut hold = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE messages IN EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();
    let (status, body) =
        tokio::time::timeout(Duration::from_secs(10), post(&app, TOKEN, "status", &batch))
            .await
            .expect("answered while processing is held");
    assert_eq!((status, body.as_str()), (200, RECEIVED));
    assert_eq!(app.count(INBOX_EMPTY).await, 1, "stored before acting");
    let delivered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'delivered'")
            .fetch_one(&mut *hold)
            .await
            .unwrap();
    assert_eq!(delivered, 0);
    hold.commit().await.unwrap();

    app.wait_for_count_within(INBOX_EMPTY, 0, Duration::from_secs(60))
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE status = 'delivered'")
            .await,
        1000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_left_by_a_dead_process_is_processed_by_the_sweep() {
    let names = Names::new();
    let mut first = app_on(names.clone(), "http://127.0.0.1:9", "").await;
    let ids: Vec<String> = (1..=2).map(|i| format!("60000{i}^0")).collect();
    sent(&first, &ids).await;
    first.stop().await;

    // Stored, never processed: as if the process died right after answering.
    let mut db = PgConnection::connect(&names.database_url).await.unwrap();
    let store = "INSERT INTO callback_inbox (provider, kind, body) VALUES ('aliyun', 'status', $1)";
    sqlx::query(store)
        .bind(json!([report(&ids[0], true)]))
        .execute(&mut db)
        .await
        .unwrap();

    let second = app_on(names.clone(), "http://127.0.0.1:9", "").await;
    second.wait_for_count(INBOX_EMPTY, 0).await;
    assert_eq!(status_of(&second, &ids[0]).await, "delivered");

    // And while running, on the next round.
    sqlx::query(store)
        .bind(json!([report(&ids[1], false)]))
        .execute(&mut db)
        .await
        .unwrap();
    second
        .wait_for_count_within(INBOX_EMPTY, 0, Duration::from_secs(20))
        .await;
    assert_eq!(status_of(&second, &ids[1]).await, "undelivered");
    drop(first);
}

const PHONE: &str = "+8613912345678";

pub(crate) fn sms_up(sequence_id: &str, content: &str, sign_name: &str) -> String {
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    json!([{
        "phone_number": "13912345678",
        "content": content,
        "send_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
        "dest_code": "1234",
        "sequence_id": sequence_id,
        "sign_name": sign_name,
    }])
    .to_string()
}

async fn next_event(events: &mut lapin::Consumer) -> (String, Value) {
    use futures_util::StreamExt;
    let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    (
        delivery.routing_key.to_string(),
        serde_json::from_slice(&delivery.data).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_runs_end_to_end_on_approved_templates() {
    let double = AliyunDouble::start(Mode::Ok).await;
    let app = app_on(Names::new(), &double.url, "").await;
    let mut events = crate::helpers::listen_for_events(&app).await;
    app.publish(&crate::helpers::event(
        "al-1",
        PHONE,
        crate::helpers::minutes_ago(1),
    ))
    .await;

    // The first SMS: template and parameters, the signature only in the stored body.
    assert_eq!(double.wait_for(1).await, 1);
    let first = double.received()[0].params.clone();
    assert_eq!(first["TemplateCode"], "SMS_1000");
    assert_eq!(first["PhoneNumbers"], "13912345678");
    assert_eq!(first["SignName"], SIGN);
    assert_eq!(
        serde_json::from_str::<Value>(&first["TemplateParam"]).unwrap(),
        json!({"agent": "agent-7"})
    );
    assert!(!first["TemplateParam"].contains('【'));
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let (id, body, template_id, provider_id): (Uuid, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT id, body, template_id, provider_message_id FROM messages ORDER BY created_at LIMIT 1",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(first["OutId"], id.to_string());
    assert_eq!(
        body,
        "【小蓝钱包】您好，感谢您致电，工号agent-7为您服务。您的问题解决了吗？回复1=是，2=否。回TD退订"
    );
    assert_eq!(template_id.as_deref(), Some("SMS_1000"));
    let biz_id = provider_id.expect("the BizId is stored");

    // Its receipt, with the parts Aliyun billed.
    let mut receipt = report(&biz_id, true);
    receipt["sms_size"] = json!("2");
    assert_eq!(
        post(&app, TOKEN, "status", &json!([receipt]).to_string())
            .await
            .0,
        200
    );
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE status = 'delivered' AND segments = 2",
        1,
    )
    .await;

    // A reply under another sender's signature: kept, not an answer, nothing sent.
    assert_eq!(
        post(&app, TOKEN, "inbound", &sms_up("s0", "2", "别家"))
            .await
            .0,
        200
    );
    app.wait_for_count(
        "SELECT count(*) FROM inbound_messages WHERE outcome = 'unsolicited' AND provider_message_id = 's0'",
        1,
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM answers").await, 0);

    // The answers, each followed by the next templated question, then the thank-you.
    let steps = [
        ("s1", "1", "SMS_1001"),
        ("s2", "5", "SMS_1002"),
        ("s3", "9", "SMS_1003"),
        ("s4", "很好", "SMS_1008"),
    ];
    for (n, (sequence_id, text, next)) in steps.iter().enumerate() {
        let (status, answer) = post(&app, TOKEN, "inbound", &sms_up(sequence_id, text, SIGN)).await;
        assert_eq!((status, answer.as_str()), (200, RECEIVED));
        assert_eq!(double.wait_for(n + 2).await, n + 2, "after {text}");
        let sent = &double.received()[n + 1].params;
        assert_eq!(sent["TemplateCode"], *next, "after {text}");
        assert!(!sent.contains_key("TemplateParam"), "{sent:?}");
    }
    assert_eq!(
        double.received().len(),
        5,
        "nothing was sent for the unsolicited reply"
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    let stored = app.answers().await;
    assert_eq!(
        stored,
        [
            ("resolved".to_owned(), json!(true)),
            ("satisfaction".to_owned(), json!(5)),
            ("recommend".to_owned(), json!(9)),
            ("comment".to_owned(), json!("很好")),
        ]
    );
    let thank_you: String =
        sqlx::query_scalar("SELECT body FROM messages WHERE template_id = 'SMS_1008'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(thank_you, "【小蓝钱包】感谢您的反馈！");
    let (key, completed) = next_event(&mut events).await;
    assert_eq!(key, "survey.completed");
    assert_eq!(completed["call_id"], "al-1");
    assert_eq!(completed["answers"].as_array().unwrap().len(), 4);
}
