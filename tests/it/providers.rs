//! The wire formats of the Twilio and webhook providers, as their servers see them.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wiremock::ResponseTemplate;

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    provider_double::{
        Provider, WEBHOOK_SECRET, twilio_created, twilio_env, webhook_accepted, webhook_env,
    },
};

fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_gets_the_documented_request_with_basic_auth() {
    let provider =
        Provider::start(vec![twilio_created("SM0123456789abcdef0123456789abcdef")]).await;
    let names = Names::new();
    let mut env = twilio_env(&provider.uri());
    env.push((
        "POSTCALL__HTTP__PUBLIC_URL".into(),
        "https://postcall.example.com".into(),
    ));
    let app = TestApp::spawn_env(names, &env).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    assert_eq!(provider.wait_for(1).await, 1);
    let request = &provider.requests()[0];
    assert_eq!(
        request.url.path(),
        "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    );
    let expected_auth = format!(
        "Basic {}",
        STANDARD.encode("AC0123456789abcdef:7d29eb4aefd49dec04f9b6c572366fa2")
    );
    assert_eq!(
        request
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        expected_auth
    );
    assert!(
        request
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let fields = form(&request.body);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("To").as_deref(), Some("+8613900000001"));
    assert_eq!(get("From").as_deref(), Some("+15005550006"));
    assert_eq!(
        get("StatusCallback").as_deref(),
        Some("https://postcall.example.com/webhooks/twilio/status")
    );
    let body = get("Body").unwrap();
    assert!(
        body.starts_with("【小蓝钱包】") && body.contains("回复1=是") && body.ends_with("回TD退订"),
        "{body}"
    );
    assert_eq!(fields.len(), 4, "{fields:?}");

    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let (sid, status, provider): (String, String, String) = sqlx::query_as(
        "SELECT provider_message_id, status, provider FROM messages WHERE survey_id = $1",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (sid.as_str(), status.as_str(), provider.as_str()),
        ("SM0123456789abcdef0123456789abcdef", "queued", "twilio")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_21610_records_the_carrier_opt_out() {
    let refusal = ResponseTemplate::new(400).set_body_json(serde_json::json!({
        "code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400
    }));
    let provider = Provider::start(vec![refusal]).await;
    let app = TestApp::spawn_env(Names::new(), &twilio_env(&provider.uri())).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count("SELECT count(*) FROM opt_outs WHERE customer_phone = '+8613900000001' AND source = 'carrier'", 1)
        .await;
    let (status, code): (String, String) =
        sqlx::query_as("SELECT status, error_code FROM messages")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), code.as_str()), ("failed", "21610"));
    assert!(matches!(
        app.survey_state(ids[0]).await.as_str(),
        "failed" | "cancelled"
    ));
    assert_eq!(provider.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_20429_is_retried() {
    let busy = ResponseTemplate::new(429)
        .set_body_json(serde_json::json!({"code": 20429, "message": "Too Many Requests"}));
    let provider = Provider::start(vec![busy, twilio_created("SMretried")]).await;
    let mut env = twilio_env(&provider.uri());
    env.push((
        "POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS".into(),
        "0".into(),
    ));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'SMretried'",
        1,
    )
    .await;
    assert_eq!(provider.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_request_verifies_with_standard_webhooks() {
    let provider = Provider::start(vec![webhook_accepted("wh-1")]).await;
    let app = TestApp::spawn_env(Names::new(), &webhook_env(&provider.uri())).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    assert_eq!(provider.wait_for(1).await, 1);
    let request = &provider.requests()[0];
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };

    // Recompute the signature independently, as the spec defines it.
    let key = STANDARD
        .decode(WEBHOOK_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(header("webhook-signature"), expected);
    assert!((Utc::now().timestamp() - timestamp.parse::<i64>().unwrap()).abs() < 60);

    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(header("idempotency-key"), id);
    assert_eq!(body["to"], "+8613900000001");
    assert!(
        body["status_callback"]
            .as_str()
            .unwrap()
            .ends_with("/webhooks/sms")
    );
    assert!(body["body"].as_str().unwrap().starts_with("【小蓝钱包】"));
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'wh-1'",
        1,
    )
    .await;
}
