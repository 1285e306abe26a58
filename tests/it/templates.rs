//! The channel-independent side of templated channels and billed parts: what the provider
//! says it billed is what `messages.segments` and the scores' `sms_segments` hold, and a
//! free-text channel stores no template; a templated message keeps its template from insert
//! to send.

use chrono::Utc;
use postcall::{
    aggregate::Aggregator,
    channels::templates::{Filled, TemplateParam},
    domain::{
        delivery::DeliveryStatus,
        lifecycle::{MessagePurpose, SurveyState},
    },
    store::{
        conversation::{
            self, Inbound, Lock, Progress,
            reply::{self, Reply, Written},
        },
        deliveries, messages,
    },
};
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

    // `fold_early` folds a kept report's billed parts the same way.
    sqlx::query(
        "INSERT INTO early_delivery_reports (provider, provider_message_id, status, billed_segments)
         VALUES ('twilio', 'SMbilled3', 'delivered', 7)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    deliveries::fold_early(&mut conn, "twilio", "SMbilled3")
        .await
        .unwrap();
    let (status, segments): (String, i32) = sqlx::query_as(
        "SELECT status, segments FROM messages WHERE provider_message_id = 'SMbilled3'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), segments), ("delivered", 7));
    assert_eq!(sms_segments(&app).await, 7);
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

fn templated(id: uuid::Uuid, survey_id: i64, template: &str) -> messages::New<'static> {
    messages::New {
        id,
        survey_id: Some(survey_id),
        purpose: MessagePurpose::FollowUp,
        question_id: Some("satisfaction"),
        to_phone: "+8613900000001",
        body: "【小蓝钱包】坐席agent-1为您服务，请打分".into(),
        encoding: "ucs2",
        segments: 1,
        template: Some(Filled {
            id: template.into(),
            params: vec![TemplateParam {
                name: "agent_id".into(),
                value: "agent-1".into(),
            }],
        }),
    }
}

async fn stored_template(
    app: &TestApp,
    id: uuid::Uuid,
) -> (Option<String>, Option<serde_json::Value>) {
    sqlx::query_as("SELECT template_id, template_params FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// No channel hands over templates yet: the store is driven directly, on each of the three
/// ways a message is inserted (a reply's guarded statement, the locked path's insert, a
/// first question inserted claimed) and the claim that hands it to the send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_template_is_stored_on_every_insert_and_claimed_with_it() {
    let env = vec![
        (
            "POSTCALL__AGGREGATION__ENABLED".to_owned(),
            "false".to_owned(),
        ),
        ("POSTCALL__DISPATCH__ENABLED".to_owned(), "false".to_owned()),
    ];
    let app = TestApp::spawn_env(Names::new(), &env).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    sqlx::query("UPDATE surveys SET state = 'open', sent_at = now(), expires_at = now() + interval '1 day' WHERE id = $1")
        .bind(ids[0])
        .execute(&app.pool)
        .await
        .unwrap();

    // The guarded statement of a reply.
    let mut conn = app.pool.acquire().await.unwrap();
    let current = conversation::survey_for(&mut conn, "+8613900000001", Lock::No)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (current.agent_id.as_str(), current.queue.as_str()),
        ("agent-1", "payment")
    );
    let sms = Inbound {
        provider: "console",
        provider_message_id: "in-1",
        from: "+8613900000001",
        to: None,
        body: "1",
        received_at: Utc::now(),
        other_signature: None,
    };
    let guarded_id = uuid::Uuid::new_v4();
    let write = Reply {
        sms: &sms,
        outcome: "answer",
        survey: Some((
            current.id,
            Progress {
                state: SurveyState::Open,
                question_index: 1,
                reprompted: false,
                expires_at: current.expires_at.unwrap(),
            },
        )),
        answer: None,
        send: vec![templated(guarded_id, current.id, "tpl-guarded")],
        opt_out: false,
        opt_in: false,
        announce: vec![],
    };
    assert!(matches!(
        reply::guarded(&mut conn, &current, &write).await.unwrap(),
        Written::Recorded
    ));
    let (id, params) = stored_template(&app, guarded_id).await;
    assert_eq!(id.as_deref(), Some("tpl-guarded"));
    assert_eq!(
        params,
        Some(json!([{"name": "agent_id", "value": "agent-1"}]))
    );

    // The locked path's insert, and one inserted already claimed.
    let (locked_id, claimed_id) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    messages::insert(&mut conn, &[templated(locked_id, current.id, "tpl-locked")])
        .await
        .unwrap();
    messages::insert_claimed(
        &mut conn,
        &[templated(claimed_id, current.id, "tpl-claimed")],
        "test",
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        stored_template(&app, locked_id).await.0.as_deref(),
        Some("tpl-locked")
    );
    assert_eq!(
        stored_template(&app, claimed_id).await.0.as_deref(),
        Some("tpl-claimed")
    );

    // A claim hands the send what `Outbound.template` is built from.
    let mut tx = messages::begin_claim(&app.pool).await.unwrap();
    let claimed = messages::claim(&mut tx, 10, std::time::Duration::from_secs(60), "test")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut templates: Vec<(String, Vec<(String, String)>)> = claimed
        .iter()
        .map(|m| {
            let call = m.template().expect("claimed with its template");
            let params = call
                .params
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect();
            (call.id.to_owned(), params)
        })
        .collect();
    templates.sort();
    let agent = vec![("agent_id".to_owned(), "agent-1".to_owned())];
    assert_eq!(
        templates,
        [
            ("tpl-guarded".to_owned(), agent.clone()),
            ("tpl-locked".to_owned(), agent)
        ]
    );

    // Both columns or neither.
    let half = sqlx::query("UPDATE messages SET template_params = NULL WHERE id = $1")
        .bind(locked_id)
        .execute(&app.pool)
        .await;
    assert!(half.is_err(), "a template id without its params is refused");
}
