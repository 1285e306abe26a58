//! The channel-independent side of templated channels and billed parts: what the provider
//! says it billed is what `messages.segments` and the scores' `sms_segments` hold, and a
//! free-text channel stores no template.

use chrono::Utc;
use postcall::{aggregate::Aggregator, domain::delivery::DeliveryStatus, store::deliveries};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    provider_double::{Provider, twilio_env},
};

fn created_billing(sid: &str, parts: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": sid, "status": "queued", "num_segments": parts, "to": "+8613900000001"
    }))
}

async fn sms_segments(app: &TestApp) -> i64 {
    let settings = app.names.settings(&[]);
    Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    app.count("SELECT coalesce(sum(sms_segments), 0)::bigint FROM score_cells")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_billed_parts_land_in_the_message_and_in_the_scores() {
    let provider = Provider::start(vec![created_billing("SMbilled3", "3")]).await;
    let mut env = twilio_env(&provider.uri());
    env.push(("POSTCALL__AGGREGATION__ENABLED".into(), "false".into()));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    let (body, segments, template_id, params): (
        String,
        i32,
        Option<String>,
        Option<serde_json::Value>,
    ) = sqlx::query_as(
        "SELECT body, segments, template_id, template_params FROM messages WHERE survey_id = $1",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // postcall's own count of this first question is one part (per character, +86).
    assert!(body.chars().count() <= 70, "{body}");
    assert_eq!(
        segments, 3,
        "Twilio's num_segments wins over postcall's count"
    );
    assert_eq!(
        (template_id, params),
        (None, None),
        "twilio sends free text"
    );
    assert_eq!(sms_segments(&app).await, 3);

    // A report that moves no status across a counted line but says what was billed still
    // reaches the scores (migration …0003_billed_segments).
    let applied = deliveries::report(
        &app.pool,
        "twilio",
        "SMbilled3",
        DeliveryStatus::Sent,
        None,
        Some(4),
    )
    .await
    .unwrap();
    assert_eq!(applied, deliveries::Applied::Updated);
    assert_eq!(
        app.count("SELECT segments::bigint FROM messages WHERE provider_message_id = 'SMbilled3'")
            .await,
        4
    );
    assert_eq!(sms_segments(&app).await, 4);

    // Same status again, same count: nothing moves; a new count alone still lands.
    let again = deliveries::report(
        &app.pool,
        "twilio",
        "SMbilled3",
        DeliveryStatus::Sent,
        None,
        Some(4),
    )
    .await
    .unwrap();
    assert_eq!(again, deliveries::Applied::Unchanged);
    let recount = deliveries::report(
        &app.pool,
        "twilio",
        "SMbilled3",
        DeliveryStatus::Queued,
        None,
        Some(2),
    )
    .await
    .unwrap();
    assert_eq!(
        recount,
        deliveries::Applied::Unchanged,
        "no status moves back"
    );
    let (status, segments): (String, i32) = sqlx::query_as(
        "SELECT status, segments FROM messages WHERE provider_message_id = 'SMbilled3'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), segments), ("sent", 2));
    assert_eq!(sms_segments(&app).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_before_the_sends_answer_keeps_its_billed_parts_until_the_send_is_recorded() {
    // Twilio bills 1, and a report that overtakes its answer says 5.
    let slow = created_billing("SMearly", "1").set_delay(std::time::Duration::from_secs(2));
    let provider = Provider::start(vec![slow]).await;
    let mut env = twilio_env(&provider.uri());
    env.push(("POSTCALL__AGGREGATION__ENABLED".into(), "false".into()));
    let app = TestApp::spawn_env(Names::new(), &env).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    assert_eq!(provider.wait_for(1).await, 1);
    let early = deliveries::report(
        &app.pool,
        "twilio",
        "SMearly",
        DeliveryStatus::Delivered,
        None,
        Some(5),
    )
    .await
    .unwrap();
    assert_eq!(early, deliveries::Applied::Early);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let (status, segments): (String, i32) = sqlx::query_as(
        "SELECT status, segments FROM messages WHERE provider_message_id = 'SMearly'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), segments), ("delivered", 5));
    assert_eq!(
        app.count("SELECT count(*) FROM early_delivery_reports")
            .await,
        0
    );
    assert_eq!(sms_segments(&app).await, 5);
}
