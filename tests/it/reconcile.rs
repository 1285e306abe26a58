//! Reconcile before resend (DESIGN §4 "No blind resend"), against doubles that lose their
//! answers: a send the platform took but never answered in time is found by the lookup and
//! recorded, never sent twice; one that never reached it is sent again, once; a platform that
//! cannot be asked fails the message with the reason, never a blind resend.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use postcall::channels::{Outbound, SmsProvider, TemplateCall, Tencent, tencent};
use uuid::Uuid;

use crate::{
    aliyun,
    aliyun_double::{self, AliyunDouble},
    helpers::{Names, TestApp, insert_surveys},
    tencent_double::{self, APP_ID, Double, Fault, Mode, SECRET_ID, SECRET_KEY, SIGN, TOKEN},
    tencent_e2e::config_and_templates,
    twilio_double::{self, TwilioDouble},
};

/// Longer than the client's timeout (1 s): the answer never arrives in time.
const HANG: Duration = Duration::from_secs(3);

/// What every worker here runs with: the client times out after 1 s, lookups 1 s after.
const FAST: [(&str, &str); 4] = [
    ("POSTCALL__DISPATCH__POLL_INTERVAL_MS", "200"),
    ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "1"),
    ("POSTCALL__DISPATCH__RECONCILE__GRACE_SECONDS", "1"),
    ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "0"),
];

/// A worker on Tencent at `double`.
async fn tencent_worker(double: &Double, extra: &[(&str, &str)]) -> (TestApp, tempfile::TempDir) {
    let (config, _) = config_and_templates();
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
    ];
    env.extend_from_slice(&FAST);
    env.extend_from_slice(extra);
    let names = Names::new();
    let settings = names.settings_from(Some(&file), &env);
    (TestApp::spawn_settings(names, settings).await, dir)
}

/// A worker on Aliyun at `double`.
async fn aliyun_worker(
    double: &AliyunDouble,
    extra: &[(&str, &str)],
) -> (TestApp, tempfile::NamedTempFile) {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::io::Write::write_all(&mut file, aliyun::templates_toml().as_bytes()).unwrap();
    let base = aliyun::env(&double.url, "");
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend_from_slice(&FAST);
    env.extend_from_slice(extra);
    let names = Names::new();
    let settings = names.settings_from(Some(file.path()), &env);
    (TestApp::spawn_settings(names, settings).await, file)
}

/// A worker on Twilio at `double`.
async fn twilio_worker(double: &TwilioDouble, extra: &[(&str, &str)]) -> TestApp {
    let mut env = double.env();
    env.extend(
        FAST.iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    TestApp::spawn_env(Names::new(), &env).await
}

async fn tencent_double() -> Double {
    let (_, approved) = config_and_templates();
    Double::start(Mode::Accept, approved).await
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    provider_message_id: Option<String>,
    attempts: i32,
    reconcile_checks: i32,
    error_message: Option<String>,
}

async fn first_question(app: &TestApp) -> Row {
    sqlx::query_as(
        "SELECT provider_message_id, attempts, reconcile_checks, error_message
           FROM messages WHERE purpose = 'question'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_a_send_taken_but_unanswered_is_found_and_recorded_never_sent_twice() {
    let double = tencent_double().await;
    double.fail_next(Fault::TakeThenHang(HANG));
    let (app, _dir) = tencent_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'sent'",
        1,
    )
    .await;
    let sent = double.sent();
    assert_eq!(sent.len(), 1, "the customer got it twice");
    let row = first_question(&app).await;
    assert_eq!(row.provider_message_id, sent[0].serial_no, "{row:?}");
    assert_eq!((row.attempts, row.reconcile_checks), (1, 1), "{row:?}");
    assert!(double.pulls() >= 1);
    assert_eq!(app.survey_state(ids[0]).await, "open");
    assert_eq!(double.refusals(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_a_send_that_never_reached_is_sent_again_once() {
    let double = tencent_double().await;
    double.fail_next(Fault::HangUntaken(HANG));
    let (app, _dir) = tencent_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'sent'",
        1,
    )
    .await;
    let sent = double.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let row = first_question(&app).await;
    assert_eq!(row.provider_message_id, sent[0].serial_no, "{row:?}");
    assert_eq!(
        (row.attempts, row.reconcile_checks),
        (2, 1),
        "looked up once, then sent again: {row:?}"
    );
    assert_eq!(app.survey_state(ids[0]).await, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_a_platform_that_cannot_be_asked_fails_the_message_with_the_reason() {
    let double = tencent_double().await;
    double.fail_next(Fault::TakeThenHang(HANG));
    double.refuse_pulls(Some("UnauthorizedOperation.RequestPermissionDeny"));
    let (app, _dir) = tencent_worker(
        &double,
        &[("POSTCALL__DISPATCH__RECONCILE__MAX_CHECKS", "2")],
    )
    .await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'failed'",
        1,
    )
    .await;
    let row = first_question(&app).await;
    let reason = row.error_message.clone().unwrap_or_default();
    assert!(reason.contains("could not be asked"), "{row:?}");
    assert!(reason.contains("RequestPermissionDeny"), "{row:?}");
    assert_eq!((row.attempts, row.reconcile_checks), (1, 2), "{row:?}");
    assert_eq!(double.pulls(), 2);
    assert_eq!(double.sent().len(), 1, "resent blind");
    assert_eq!(app.survey_state(ids[0]).await, "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_a_send_taken_but_unanswered_is_found_by_its_out_id_never_sent_twice() {
    let double = AliyunDouble::start(aliyun_double::Mode::Ok).await;
    double.fail_next(aliyun_double::Fault::TakeThenHang(HANG));
    let (app, _file) = aliyun_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'delivered'",
        1,
    )
    .await;
    let received = double.received();
    assert_eq!(received.len(), 1, "the customer got it twice");
    let row = first_question(&app).await;
    let out_id = received[0].params["OutId"].clone();
    assert_eq!(
        row.provider_message_id,
        Some(format!("OutId:{out_id}")),
        "{row:?}"
    );
    assert_eq!((row.attempts, row.reconcile_checks), (1, 1), "{row:?}");
    assert!(double.queries() >= 1);
    assert_eq!(app.survey_state(ids[0]).await, "open");
    assert!(double.refused().is_empty(), "{:?}", double.refused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_a_send_that_never_reached_is_sent_again_once() {
    let double = AliyunDouble::start(aliyun_double::Mode::Ok).await;
    double.fail_next(aliyun_double::Fault::HangUntaken(HANG));
    let (app, _file) = aliyun_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'queued'",
        1,
    )
    .await;
    assert_eq!(double.received().len(), 1);
    let row = first_question(&app).await;
    assert_eq!((row.attempts, row.reconcile_checks), (2, 1), "{row:?}");
    assert!(row.provider_message_id.is_some_and(|id| id.ends_with("^0")));
    assert_eq!(app.survey_state(ids[0]).await, "open");
    assert!(double.refused().is_empty(), "{:?}", double.refused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_a_query_refused_fails_the_message_with_the_reason() {
    let double = AliyunDouble::start(aliyun_double::Mode::Ok).await;
    double.fail_next(aliyun_double::Fault::TakeThenHang(HANG));
    double.refuse_queries(Some("isv.PERMISSION_DENY"));
    let (app, _file) = aliyun_worker(
        &double,
        &[("POSTCALL__DISPATCH__RECONCILE__MAX_CHECKS", "1")],
    )
    .await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'failed'",
        1,
    )
    .await;
    let row = first_question(&app).await;
    let reason = row.error_message.clone().unwrap_or_default();
    assert!(reason.contains("could not be asked"), "{row:?}");
    assert!(reason.contains("isv.PERMISSION_DENY"), "{row:?}");
    assert_eq!(double.queries(), 1);
    assert_eq!(double.received().len(), 1, "resent blind");
    assert_eq!(app.survey_state(ids[0]).await, "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_a_send_taken_but_unanswered_is_found_by_body_and_sender_never_sent_twice() {
    let double = TwilioDouble::start().await;
    double.fail_next(twilio_double::Fault::TakeThenHang(HANG));
    let app = twilio_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'queued'",
        1,
    )
    .await;
    let created = double.created();
    assert_eq!(created.len(), 1, "the customer got it twice");
    let row = first_question(&app).await;
    assert_eq!(
        row.provider_message_id.as_ref(),
        Some(&created[0].sid),
        "{row:?}"
    );
    assert_eq!((row.attempts, row.reconcile_checks), (1, 1), "{row:?}");
    assert!(double.lists() >= 1);
    assert_eq!(app.survey_state(ids[0]).await, "open");
    assert!(double.refused().is_empty(), "{:?}", double.refused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_a_send_that_never_reached_is_sent_again_once() {
    let double = TwilioDouble::start().await;
    double.fail_next(twilio_double::Fault::HangUntaken(HANG));
    let app = twilio_worker(&double, &[]).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'queued'",
        1,
    )
    .await;
    let created = double.created();
    assert_eq!(created.len(), 1);
    let row = first_question(&app).await;
    assert_eq!(
        row.provider_message_id.as_ref(),
        Some(&created[0].sid),
        "{row:?}"
    );
    assert_eq!((row.attempts, row.reconcile_checks), (2, 1), "{row:?}");
    assert_eq!(app.survey_state(ids[0]).await, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_a_list_refused_fails_the_message_with_the_reason() {
    let double = TwilioDouble::start().await;
    double.fail_next(twilio_double::Fault::TakeThenHang(HANG));
    double.refuse_lists();
    let app = twilio_worker(
        &double,
        &[("POSTCALL__DISPATCH__RECONCILE__MAX_CHECKS", "1")],
    )
    .await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'failed'",
        1,
    )
    .await;
    let row = first_question(&app).await;
    let reason = row.error_message.clone().unwrap_or_default();
    assert!(reason.contains("could not be asked"), "{row:?}");
    assert!(reason.contains("403"), "{row:?}");
    assert_eq!(double.lists(), 1);
    assert_eq!(double.created().len(), 1, "resent blind");
    assert_eq!(app.survey_state(ids[0]).await, "failed");
}

/// First questions whose replica died mid-send (`sending`) or mid-lookup (`reconciling`,
/// looked up once), their lease run out, held by a replica that is gone. Returns their
/// phones.
async fn died_mid_send(app: &TestApp, ids: &[(Uuid, &str)]) -> Vec<String> {
    let surveys = insert_surveys(
        &app.pool,
        ids.len() as i64,
        Utc::now() + TimeDelta::hours(1),
        "Asia/Shanghai",
    )
    .await;
    let mut phones = vec![];
    for (&(id, status), survey) in ids.iter().zip(surveys) {
        let phone: String = sqlx::query_scalar(
            "UPDATE surveys SET state = 'sending' WHERE id = $1 RETURNING customer_phone",
        )
        .bind(survey)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                   segments, template_id, template_params, status, attempts,
                                   reconcile_checks, leased_by, lease_until, next_attempt_at)
             VALUES ($1, $2, 'question', 'resolved', $3, '【小蓝钱包】您好', 'ucs2', 1, '3001',
                     '[]', $4, 1, ($4 = 'reconciling')::int, 'a-replica-that-died',
                     now() - interval '1 second', now() - interval '1 second')",
        )
        .bind(id)
        .bind(survey)
        .bind(&phone)
        .bind(status)
        .execute(&app.pool)
        .await
        .unwrap();
        phones.push(phone);
    }
    phones
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_a_send_or_a_lookup_whose_replica_died_is_looked_up_not_resent_blind() {
    let double = tencent_double().await;
    let (app, _dir) = tencent_worker(&double, &[]).await;
    // `gone` was sent by the replica before it died: Tencent has it. `never` was not: its
    // sender died before the request left. `asking` was sent, and being looked up by a
    // replica that died mid-lookup.
    let (gone, never, asking) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // Sent before anything is inserted, so that no lookup comes before Tencent has them.
    let phones = [1, 2, 3].map(|n| format!("+86139{n:08}"));
    let settings: tencent::Settings = toml::from_str(&tencent_double::settings_toml(
        &double.uri(),
        tencent_double::SECRET_KEY,
    ))
    .unwrap();
    let sender = Tencent::new(&settings, Duration::from_secs(5)).unwrap();
    let message = Outbound {
        id: gone,
        to: &phones[0],
        body: "【小蓝钱包】您好",
        template: Some(TemplateCall {
            id: "3001",
            params: &[],
        }),
    };
    for (id, to) in [(gone, &phones[0]), (asking, &phones[2])] {
        let message = Outbound {
            id,
            to,
            ..message.clone()
        };
        assert!(matches!(
            sender.send(&message).await,
            postcall::channels::SendOutcome::Accepted { .. }
        ));
    }
    let inserted = died_mid_send(
        &app,
        &[
            (gone, "sending"),
            (never, "sending"),
            (asking, "reconciling"),
        ],
    )
    .await;
    assert_eq!(inserted, phones, "insert_surveys' phones");

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'sent'",
        3,
    )
    .await;
    let sent = double.sent();
    let per_message = |id: Uuid| {
        sent.iter()
            .filter(|s| s.body["SessionContext"] == id.to_string())
            .count()
    };
    assert_eq!(per_message(gone), 1, "the customer got it twice");
    assert_eq!(per_message(never), 1, "never sent");
    let attempts: Vec<(Uuid, i32, i32)> =
        sqlx::query_as("SELECT id, attempts, reconcile_checks FROM messages ORDER BY created_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(attempts.contains(&(gone, 1, 1)), "{attempts:?}");
    assert!(attempts.contains(&(never, 2, 1)), "{attempts:?}");
    assert_eq!(per_message(asking), 1);
    assert!(
        attempts.contains(&(asking, 1, 2)),
        "looked up again under a lease of its own: {attempts:?}"
    );
}
