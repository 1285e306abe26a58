//! The Tencent Cloud SMS channel against a double that plays Tencent strictly
//! (`tencent_double`): sends and their outcomes, then the callbacks through a running worker.

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use postcall::{
    channels::{
        Outbound, SendOutcome, SmsProvider, TemplateCall, Tencent, templates::TemplateParam,
        tencent,
    },
    domain::delivery::DeliveryStatus,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    tencent_double::{self, Double, Mode, SIGN, TOKEN},
};

const TO: &str = "+8613800138000";

fn client(double: &Double, secret_key: &str) -> Tencent {
    let settings: tencent::Settings =
        toml::from_str(&tencent_double::settings_toml(&double.uri(), secret_key)).unwrap();
    Tencent::new(&settings, Duration::from_secs(5)).unwrap()
}

async fn send_one(tencent: &Tencent, id: Uuid, params: &[TemplateParam]) -> SendOutcome {
    let message = Outbound {
        id,
        to: TO,
        body: "【小蓝钱包】您好，您的问题解决了吗？",
        template: Some(TemplateCall { id: "2001", params }),
    };
    tencent.send(&message).await
}

fn params(values: &[&str]) -> Vec<TemplateParam> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| TemplateParam {
            name: format!("p{i}"),
            value: (*v).to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn a_signed_send_is_accepted_with_tencents_serial_and_fee() {
    let approved = HashMap::from([("2001".to_owned(), "您的问题解决了吗？回复{1}分".to_owned())]);
    let double = Double::start(Mode::Accept, approved).await;
    let id = Uuid::new_v4();
    let outcome = send_one(
        &client(&double, tencent_double::SECRET_KEY),
        id,
        &params(&["5"]),
    )
    .await;
    assert_eq!(double.wait_for_sent(1).await, 1);
    let sent = double.sent();
    assert_eq!(
        sent[0].rendered.as_deref(),
        Some("【小蓝钱包】您的问题解决了吗？回复5分")
    );
    assert_eq!(double.refusals(), Vec::<String>::new());
    assert_eq!(sent.len(), 1);
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: sent[0].serial_no.clone().unwrap(),
            status: DeliveryStatus::Sent,
            billed_segments: Some(1),
        }
    );
    let body = &sent[0].body;
    assert_eq!(body["PhoneNumberSet"], json!([TO]));
    assert_eq!(body["TemplateId"], "2001");
    assert_eq!(body["TemplateParamSet"], json!(["5"]));
    assert_eq!(body["SessionContext"], id.to_string());
    assert_eq!(body["SignName"], SIGN);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_as_tencent_refuses_it() {
    let double = Double::start(Mode::Accept, HashMap::new()).await;
    let wrong = client(&double, "pcTestKey4Hx9Wq2Zr7Mv1Lt6Nb3Ks8Jd6");
    let outcome = send_one(&wrong, Uuid::new_v4(), &params(&["5"])).await;
    assert!(
        matches!(&outcome, SendOutcome::Failed { code: Some(c), .. } if c == "AuthFailure.SignatureFailure"),
        "{outcome:?}"
    );
    assert_eq!(double.refusals(), vec!["AuthFailure.SignatureFailure"]);
    assert!(double.sent().is_empty());
}

#[tokio::test]
async fn each_refusal_becomes_its_outcome() {
    let double = Double::start(Mode::Accept, HashMap::new()).await;
    let tencent = client(&double, tencent_double::SECRET_KEY);
    // Some(opted out): failed for good; None: another class, named by the last field.
    let cases: [(Mode, &str, Option<bool>, &str); 5] = [
        (
            Mode::RefuseEach("FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            Some(false),
            "",
        ),
        (
            Mode::RefuseEach("FailedOperation.PhoneNumberInBlacklist"),
            "FailedOperation.PhoneNumberInBlacklist",
            Some(true),
            "",
        ),
        (
            Mode::RefuseEach("LimitExceeded.PhoneNumberDailyLimit"),
            "LimitExceeded.PhoneNumberDailyLimit",
            None,
            "cap",
        ),
        (
            Mode::Error("RequestLimitExceeded"),
            "RequestLimitExceeded",
            None,
            "retry",
        ),
        (
            Mode::Error("InternalError.Timeout"),
            "InternalError.Timeout",
            None,
            "unknown",
        ),
    ];
    for (mode, expected, opted_out, class) in cases {
        double.set_mode(mode);
        let outcome = send_one(&tencent, Uuid::new_v4(), &params(&["5"])).await;
        match (&outcome, opted_out) {
            (
                SendOutcome::Failed {
                    code: Some(code),
                    recipient_opted_out,
                    message,
                },
                Some(opted),
            ) => {
                assert_eq!(code, expected);
                assert_eq!(*recipient_opted_out, opted, "{expected}");
                assert!(message.contains(expected), "{message}");
            }
            (
                SendOutcome::CapExceeded {
                    code: Some(code), ..
                },
                None,
            ) if class == "cap" => {
                assert_eq!(code, expected)
            }
            (
                SendOutcome::Retry {
                    code: Some(code), ..
                },
                None,
            ) if class == "retry" => {
                assert_eq!(code, expected)
            }
            (
                SendOutcome::Unknown {
                    code: Some(code), ..
                },
                None,
            ) if class == "unknown" => {
                assert_eq!(code, expected)
            }
            _ => panic!("{expected}: {outcome:?}"),
        }
    }
    assert_eq!(double.refusals(), Vec::<String>::new());
}

#[tokio::test]
async fn nothing_reaches_tencent_without_a_template_or_with_a_value_it_would_refuse() {
    let double = Double::start(Mode::Accept, HashMap::new()).await;
    let tencent = client(&double, tencent_double::SECRET_KEY);
    let free_text = Outbound {
        id: Uuid::new_v4(),
        to: TO,
        body: "【小蓝钱包】free text",
        template: None,
    };
    assert!(matches!(
        tencent.send(&free_text).await,
        SendOutcome::Failed { code: None, .. }
    ));
    let link = send_one(&tencent, Uuid::new_v4(), &params(&["https://x.cn"])).await;
    assert!(
        matches!(link, SendOutcome::Failed { code: None, .. }),
        "{link:?}"
    );
    assert_eq!(double.requests(), 0);
}

// ---- callbacks, through a running worker ----

fn callback_env(allow: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "POSTCALL__PROVIDER__TENCENT__CALLBACK_TOKEN".to_owned(),
            TOKEN.to_owned(),
        ),
        (
            "POSTCALL__PROVIDER__TENCENT__SIGN_NAME".to_owned(),
            SIGN.to_owned(),
        ),
    ];
    if let Some(allow) = allow {
        env.push((
            "POSTCALL__PROVIDER__TENCENT__CALLBACK_ALLOW".to_owned(),
            allow.to_owned(),
        ));
    }
    env
}

/// Posts `body` to a Tencent callback route as Tencent does; the status and the answer.
pub async fn post(app: &TestApp, token: &str, route: &str, body: &Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/tencent/{token}/{route}", app.http))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn receipt(sid: &str, status: &str, errmsg: &str) -> Value {
    json!({"user_receive_time": "2026-12-02 22:03:04", "nationcode": "86",
           "mobile": "13900000001", "report_status": status, "errmsg": errmsg,
           "description": "", "sid": sid})
}

async fn status_of(app: &TestApp, sid: &str) -> (String, Option<String>) {
    sqlx::query_as(
        "SELECT status, error_code FROM messages WHERE provider = 'tencent' AND provider_message_id = $1",
    )
    .bind(sid)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// A first question sent (by the console channel) and then relabelled as the Tencent send
/// it stands for, so that receipts have a message to move.
async fn sent_as_tencent(app: &TestApp, sid: &str) {
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count("SELECT count(*) FROM messages WHERE status = 'sent'", 1)
        .await;
    sqlx::query("UPDATE messages SET provider = 'tencent', provider_message_id = $1")
        .bind(sid)
        .execute(&app.pool)
        .await
        .unwrap();
}

const OK: &str = r#"{"result":0,"errmsg":"OK"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_move_statuses_forward_only_and_a_wrong_token_changes_nothing() {
    let app = TestApp::spawn_env(Names::new(), &callback_env(None)).await;
    sent_as_tencent(&app, "2433:1").await;

    let wrong = "q8Vw3nT6zK1mR5xB9cL2pH7e";
    let batch = json!([receipt("2433:1", "SUCCESS", "DELIVRD")]);
    assert_eq!(post(&app, wrong, "status", &batch).await.0, 404);
    assert_eq!(post(&app, "", "status", &batch).await.0, 404);
    assert_eq!(status_of(&app, "2433:1").await.0, "sent");

    // A duplicate in the batch, and a receipt for a send not recorded yet.
    let batch = json!([
        receipt("2433:1", "SUCCESS", "DELIVRD"),
        receipt("2433:1", "SUCCESS", "DELIVRD"),
        receipt("2433:2", "FAIL", "MK:0001"),
    ]);
    assert_eq!(
        post(&app, TOKEN, "status", &batch).await,
        (200, OK.to_owned())
    );
    assert_eq!(status_of(&app, "2433:1").await, ("delivered".into(), None));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM early_delivery_reports
              WHERE provider = 'tencent' AND provider_message_id = '2433:2'
                AND status = 'undelivered' AND error_code = 'MK:0001'"
        )
        .await,
        1
    );
    // Out of order: a failure after the delivery does not move it back.
    let late = json!([receipt("2433:1", "FAIL", "MK:0005")]);
    assert_eq!(post(&app, TOKEN, "status", &late).await.0, 200);
    assert_eq!(status_of(&app, "2433:1").await, ("delivered".into(), None));

    // Malformed: refused whole, nothing changed.
    for bad in [
        json!({"sid": "2433:1"}),
        json!([receipt("2433:1", "DELIVERED", "")]),
        json!([receipt("", "SUCCESS", "")]),
    ] {
        assert_eq!(post(&app, TOKEN, "status", &bad).await.0, 400, "{bad}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_outside_the_allow_list_see_no_route() {
    let app = TestApp::spawn_env(Names::new(), &callback_env(Some("192.0.2.0/24, 10.0.0.1"))).await;
    let batch = json!([receipt("2433:9", "SUCCESS", "DELIVRD")]);
    assert_eq!(post(&app, TOKEN, "status", &batch).await.0, 404);
    let reply = json!({"extend": "", "mobile": "13900000001", "nationcode": "86",
                       "sign": SIGN, "text": "1", "time": Utc::now().timestamp()});
    assert_eq!(post(&app, TOKEN, "inbound", &reply).await.0, 404);
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await
            + app.count("SELECT count(*) FROM inbound_messages").await,
        0
    );
    let mut app = app;
    app.stop().await;
    let app = TestApp::spawn_env(Names::new(), &callback_env(Some("127.0.0.0/8"))).await;
    assert_eq!(post(&app, TOKEN, "status", &batch).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_stored_once_under_a_made_up_id_and_answered_as_tencent_expects() {
    let app = TestApp::spawn_env(Names::new(), &callback_env(None)).await;
    sent_as_tencent(&app, "2433:3").await;
    let time = Utc::now().timestamp();
    let reply = json!({"extend": "", "mobile": "13900000001", "nationcode": "86",
                       "sign": SIGN, "text": "1", "time": time});
    assert_eq!(
        post(&app, TOKEN, "inbound", &reply).await,
        (200, OK.to_owned())
    );
    assert_eq!(post(&app, TOKEN, "inbound", &reply).await.0, 200);
    let stored: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT provider_message_id, from_phone, outcome,
                extract(epoch FROM received_at)::bigint FROM inbound_messages WHERE provider = 'tencent'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (id, from, outcome, received) = &stored[0];
    assert!(id.starts_with(tencent::callbacks::REPLY_ID_PREFIX), "{id}");
    assert_eq!(from, "+8613900000001");
    assert_eq!(outcome, "answer");
    assert_eq!(*received, time);
    let malformed = json!({"mobile": "13900000001", "nationcode": "86", "sign": SIGN, "text": "1"});
    assert_eq!(post(&app, TOKEN, "inbound", &malformed).await.0, 400);
}
