//! Delivery-status callbacks: verified before anything else, idempotent, never backwards,
//! fine before the send's own response is recorded.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::Utc;
use postcall::channels::{twilio, webhook};

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    provider_double::{
        Provider, WEBHOOK_SECRET, twilio_created, twilio_env, webhook_accepted, webhook_env,
    },
};

const PUBLIC: &str = "https://postcall.example.com";
const TOKEN: &str = "7d29eb4aefd49dec04f9b6c572366fa2";

async fn twilio_app(sid: &str) -> (TestApp, Provider) {
    let provider = Provider::start(vec![twilio_created(sid)]).await;
    let mut env = twilio_env(&provider.uri());
    env.push(("POSTCALL__HTTP__PUBLIC_URL".into(), PUBLIC.into()));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    (app, provider)
}

async fn post_twilio(app: &TestApp, params: &[(&str, &str)], signed_url: Option<&str>) -> u16 {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/twilio/status", app.http))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(url) = signed_url {
        request = request.header(
            "x-twilio-signature",
            twilio::signature::compute(TOKEN, url, &owned),
        );
    }
    request.send().await.unwrap().status().as_u16()
}

async fn status_of(app: &TestApp, provider_message_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM messages WHERE provider_message_id = $1")
        .bind(provider_message_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

const URL: &str = "https://postcall.example.com/webhooks/twilio/status";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_statuses_move_forward_only_and_forgeries_change_nothing() {
    let (app, _provider) = twilio_app("SMforward").await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'SMforward'",
        1,
    )
    .await;

    let report = |status: &'static str| {
        [
            ("MessageSid", "SMforward"),
            ("MessageStatus", status),
            ("AccountSid", "AC0123456789abcdef"),
        ]
    };
    assert_eq!(post_twilio(&app, &report("sent"), Some(URL)).await, 200);
    assert_eq!(status_of(&app, "SMforward").await, "sent");
    // Twilio's validators accept the URL with the default port too.
    let with_port = "https://postcall.example.com:443/webhooks/twilio/status";
    assert_eq!(
        post_twilio(&app, &report("delivered"), Some(with_port)).await,
        200
    );
    assert_eq!(status_of(&app, "SMforward").await, "delivered");
    // Late and duplicate reports are acknowledged and change nothing.
    assert_eq!(post_twilio(&app, &report("sent"), Some(URL)).await, 200);
    assert_eq!(
        post_twilio(&app, &report("delivered"), Some(URL)).await,
        200
    );
    assert_eq!(status_of(&app, "SMforward").await, "delivered");

    // Forged, signed for another URL, signed with another token, unsigned: 403, no change.
    assert_eq!(
        post_twilio(
            &app,
            &report("failed"),
            Some("https://evil.example.com/webhooks/twilio/status")
        )
        .await,
        403
    );
    assert_eq!(post_twilio(&app, &report("failed"), None).await, 403);
    let forged = twilio::signature::compute(
        "wrong-token",
        URL,
        &[("MessageSid".into(), "SMforward".into())],
    );
    let status = reqwest::Client::new()
        .post(format!("{}/webhooks/twilio/status", app.http))
        .header("x-twilio-signature", forged)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("MessageSid=SMforward&MessageStatus=failed")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    assert_eq!(status_of(&app, "SMforward").await, "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_before_the_send_is_recorded_is_applied_when_it_is() {
    let (app, _provider) = twilio_app("SMearly").await;
    // Twilio reports delivery before postcall has recorded the send's response.
    let early = [("MessageSid", "SMearly"), ("MessageStatus", "delivered")];
    assert_eq!(post_twilio(&app, &early, Some(URL)).await, 200);
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await,
        1
    );

    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'SMearly'",
        1,
    )
    .await;
    assert_eq!(
        status_of(&app, "SMearly").await,
        "delivered",
        "the send's own `queued` did not undo it"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await,
        0
    );
}

fn signed_request(
    app: &TestApp,
    id: &str,
    timestamp: i64,
    body: &str,
    secret: &str,
) -> reqwest::RequestBuilder {
    let secret = webhook::signature::Secret::parse(secret).unwrap();
    reqwest::Client::new()
        .post(format!("{}/webhooks/sms", app.http))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            webhook::signature::sign(&secret, id, timestamp, body.as_bytes()),
        )
        .body(body.to_owned())
}

fn status_body(status: &str) -> String {
    serde_json::json!({"type": "message.status", "data": {"provider_message_id": "gw-1", "status": status, "error_code": null}})
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_callbacks_are_verified_and_replays_ignored() {
    let provider = Provider::start(vec![webhook_accepted("gw-1")]).await;
    let app = TestApp::spawn_env(Names::new(), &webhook_env(&provider.uri())).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'gw-1'",
        1,
    )
    .await;
    let now = Utc::now().timestamp();

    let send =
        |r: reqwest::RequestBuilder| async move { r.send().await.unwrap().status().as_u16() };
    // Stale, from the future, wrong secret, unsigned: 403 and nothing changes. (The exact
    // ±300 s edges are unit-tested in channels/webhook/signature.rs; a minute's margin here keeps a slow run honest.)
    assert_eq!(
        send(signed_request(
            &app,
            "msg_stale",
            now - 360,
            &status_body("delivered"),
            WEBHOOK_SECRET
        ))
        .await,
        403
    );
    assert_eq!(
        send(signed_request(
            &app,
            "msg_future",
            now + 360,
            &status_body("delivered"),
            WEBHOOK_SECRET
        ))
        .await,
        403
    );
    let other = format!("whsec_{}", STANDARD.encode(b"another-secret-entirely"));
    assert_eq!(
        send(signed_request(
            &app,
            "msg_forged",
            now,
            &status_body("delivered"),
            &other
        ))
        .await,
        403
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/webhooks/sms", app.http))
        .body(status_body("delivered"));
    assert_eq!(send(unsigned).await, 403);
    assert_eq!(status_of(&app, "gw-1").await, "queued");

    // Signed but holding a NUL, which PostgreSQL text cannot store: 400, nothing changes
    // (it was a 500 the provider would retry for good).
    let nul_status = serde_json::json!({"type": "message.status", "data":
        {"provider_message_id": "gw-1", "status": "failed", "error_code": "3\u{0}0"}})
    .to_string();
    let nul_reply = serde_json::json!({"type": "message.received", "data":
        {"provider_message_id": "in-nul", "from": "+8613900000001", "body": "1\u{0}"}})
    .to_string();
    for (id, body) in [("msg_nul_1", nul_status), ("msg_nul_2", nul_reply)] {
        assert_eq!(
            send(signed_request(&app, id, now, &body, WEBHOOK_SECRET)).await,
            400
        );
    }
    assert_eq!(status_of(&app, "gw-1").await, "queued");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inbound_messages")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Valid: applied. Replayed id with another body: acknowledged, ignored.
    assert_eq!(
        send(signed_request(
            &app,
            "msg_1",
            now,
            &status_body("delivered"),
            WEBHOOK_SECRET
        ))
        .await,
        204
    );
    assert_eq!(status_of(&app, "gw-1").await, "delivered");
    assert_eq!(
        send(signed_request(
            &app,
            "msg_1",
            now,
            &status_body("failed"),
            WEBHOOK_SECRET
        ))
        .await,
        204
    );
    assert_eq!(status_of(&app, "gw-1").await, "delivered");
    // A signed request that is not a known callback is a client error.
    let junk = r#"{"type":"message.exploded","data":{}}"#;
    assert_eq!(
        send(signed_request(&app, "msg_2", now, junk, WEBHOOK_SECRET)).await,
        400
    );
}

/// Every table's rows, digested: what a refused callback must leave as it was.
async fn snapshot(app: &TestApp) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut digests = Vec::new();
    for table in tables {
        let digest: String = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        digests.push((table, digest));
    }
    digests
}

/// Random, so PostgreSQL cannot compress it below the index entry limit.
fn random_id(len: usize) -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

const NO_AGGREGATION: (&str, &str) = ("POSTCALL__AGGREGATION__ENABLED", "false");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_callbacks_with_over_long_ids_answer_400_and_change_nothing() {
    let provider = Provider::start(vec![webhook_accepted("gw-1")]).await;
    let mut env = webhook_env(&provider.uri());
    env.push((NO_AGGREGATION.0.into(), NO_AGGREGATION.1.into()));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'gw-1'",
        1,
    )
    .await;
    let before = snapshot(&app).await;
    let now = Utc::now().timestamp();
    let long = random_id(3 * 1024);
    let status = |id: &str| {
        serde_json::json!({"type": "message.status", "data":
            {"provider_message_id": id, "status": "delivered"}})
        .to_string()
    };
    let reply = |id: &str, from: &str| {
        serde_json::json!({"type": "message.received", "data":
            {"provider_message_id": id, "from": from, "body": "5"}})
        .to_string()
    };
    for (what, webhook_id, body) in [
        ("a 3 KB webhook-id", long.as_str(), status("gw-1")),
        ("a 3 KB provider_message_id", "msg_long_1", status(&long)),
        (
            "a 3 KB provider_message_id",
            "msg_long_2",
            reply(&long, "+8613900000001"),
        ),
        ("a 3 KB from", "msg_long_3", reply("in-1", &long)),
    ] {
        let response = signed_request(&app, webhook_id, now, &body, WEBHOOK_SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{what}");
        let text = response.text().await.unwrap();
        assert!(text.contains("over the"), "{what}: {text}");
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused callback changed a row"
    );
    // At the bound, an id is taken.
    let at_bound = random_id(256);
    let response = signed_request(&app, &at_bound, now, &status("gw-1"), WEBHOOK_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(status_of(&app, "gw-1").await, "delivered");
}

async fn post_twilio_to(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.http))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-twilio-signature",
            twilio::signature::compute(TOKEN, &format!("{PUBLIC}{path}"), &owned),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_twilio_callbacks_with_a_long_sid_or_a_repeated_parameter_answer_400() {
    let provider = Provider::start(vec![twilio_created("SMshort")]).await;
    let mut env = twilio_env(&provider.uri());
    env.push(("POSTCALL__HTTP__PUBLIC_URL".into(), PUBLIC.into()));
    env.push((NO_AGGREGATION.0.into(), NO_AGGREGATION.1.into()));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'SMshort'",
        1,
    )
    .await;
    let before = snapshot(&app).await;
    let long = random_id(3 * 1024);
    let status = "/webhooks/twilio/status";
    let inbound = "/webhooks/twilio/inbound";
    let from = "+8613900000001";
    for (path, params, named) in [
        (
            status,
            vec![
                ("MessageSid", long.as_str()),
                ("MessageStatus", "delivered"),
            ],
            "MessageSid",
        ),
        (
            inbound,
            vec![("MessageSid", long.as_str()), ("From", from), ("Body", "5")],
            "MessageSid",
        ),
        (
            inbound,
            vec![
                ("MessageSid", "SMin1"),
                ("From", long.as_str()),
                ("Body", "5"),
            ],
            "From",
        ),
        // Signed over both values; the handler would have read only the first.
        (
            inbound,
            vec![
                ("MessageSid", "SMin2"),
                ("From", from),
                ("Body", "5"),
                ("Body", "TD"),
            ],
            "Body is repeated",
        ),
        (
            inbound,
            vec![
                ("MessageSid", "SMin3"),
                ("From", "+8613900000009"),
                ("From", from),
                ("Body", "1"),
            ],
            "From is repeated",
        ),
        (
            status,
            vec![
                ("MessageSid", "SMshort"),
                ("MessageStatus", "failed"),
                ("MessageStatus", "delivered"),
            ],
            "MessageStatus is repeated",
        ),
    ] {
        let (code, text) = post_twilio_to(&app, path, &params).await;
        assert_eq!(code, 400, "{path} {named}: {text}");
        assert!(text.contains(named), "{path}: {text}");
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused callback changed a row"
    );
    let (code, _) = post_twilio_to(
        &app,
        status,
        &[("MessageSid", "SMshort"), ("MessageStatus", "delivered")],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(status_of(&app, "SMshort").await, "delivered");
}
