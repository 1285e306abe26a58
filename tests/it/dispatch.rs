//! Due surveys become exactly one SMS at the right time, through the configured provider.

use std::time::Duration;

use chrono::{TimeDelta, Timelike, Utc};
use wiremock::ResponseTemplate;

use crate::{
    helpers::{Names, TestApp, insert_surveys},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

fn env(uri: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = webhook_env(uri);
    env.push(("POSTCALL__DISPATCH__POLL_INTERVAL_MS".into(), "200".into()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_survey_is_sent_once_at_its_time_and_not_before() {
    let provider = Provider::start(vec![webhook_accepted("prov-1")]).await;
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &[])).await;
    let due = Utc::now() + TimeDelta::seconds(3);
    let ids = insert_surveys(&app.pool, 1, due, "Etc/UTC").await;

    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        Utc::now() < due,
        "the machine is too slow for this check to mean anything"
    );
    assert_eq!(provider.count(), 0, "sent before its time");
    assert_eq!(app.survey_state(ids[0]).await, "scheduled");

    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let (status, provider_id, segments, body): (String, String, i32, String) =
        sqlx::query_as("SELECT status, provider_message_id, segments, body FROM messages")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), provider_id.as_str(), segments),
        ("queued", "prov-1", 1)
    );
    assert!(
        body.starts_with("【小蓝钱包】") && body.ends_with("回TD退订"),
        "{body}"
    );

    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(provider.count(), 1, "sent twice");
}

/// SMS ids are UUIDv7 (RFC 9562), so each new `messages` row lands beside the last in its
/// primary key instead of on a random page: the id made in SQL for a first question, the
/// version, the variant and a timestamp of now, in order.
#[tokio::test]
async fn sms_ids_made_in_sql_are_uuid_v7_of_their_time_in_order() {
    let app = TestApp::spawn_env(Names::new(), &[]).await;
    let before = Utc::now();
    let make = || async {
        let id: uuid::Uuid = sqlx::query_scalar("SELECT postcall_uuid_v7()")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        id
    };
    let a = make().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b = make().await;
    for id in [a, b] {
        assert_eq!(id.get_version_num(), 7, "{id}");
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
        let (secs, nanos) = id.get_timestamp().expect("a v7 timestamp").to_unix();
        let at = chrono::DateTime::from_timestamp(secs as i64, nanos).unwrap();
        assert!(
            at >= before - TimeDelta::milliseconds(1) && at <= Utc::now(),
            "{id} says {at}, made between {before} and now"
        );
    }
    assert!(a < b, "{a} made before {b} sorts after it");

    // The millisecond is truncated, never rounded up to one that has not come yet: each id
    // of a thousand lies between the clock read just before it and the one just after.
    let rows: Vec<(i64, uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, \
                postcall_uuid_v7(), \
                floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint \
         FROM generate_series(1, 1000)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (before, id, after) in rows {
        let (secs, nanos) = id.get_timestamp().expect("a v7 timestamp").to_unix();
        let ms = secs as i64 * 1000 + i64::from(nanos / 1_000_000);
        assert!(
            (before..=after).contains(&ms),
            "{id} says {ms} ms, made between {before} and {after}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_rate_limits_are_retried_honouring_retry_after() {
    let provider = Provider::start(vec![
        ResponseTemplate::new(500),
        ResponseTemplate::new(429).insert_header("retry-after", "2"),
        webhook_accepted("prov-after-retries"),
    ])
    .await;
    let settings = env(
        &provider.uri(),
        &[("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1")],
    );
    let app = TestApp::spawn_env(Names::new(), &settings).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Etc/UTC").await;

    assert_eq!(provider.wait_for(3).await, 3);
    app.wait_for_count("SELECT count(*) FROM messages WHERE status = 'queued'", 1)
        .await;
    let t = provider.times();
    // Base 1 s with equal jitter: the first retry waits 0.5–1 s; Retry-After: 2 then rules.
    assert!(
        t[1] - t[0] >= Duration::from_millis(450),
        "{:?}",
        t[1] - t[0]
    );
    assert!(
        t[2] - t[1] >= Duration::from_millis(1950),
        "Retry-After ignored: {:?}",
        t[2] - t[1]
    );
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM messages")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 3);
    // The same message id every time: the provider can drop a duplicate.
    let keys: Vec<String> = provider
        .requests()
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_error_fails_for_good_with_the_reason_stored() {
    let provider = Provider::start(vec![
        ResponseTemplate::new(400).set_body_string("invalid 'to' number"),
    ])
    .await;
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &[])).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Etc/UTC").await;

    app.wait_for_count("SELECT count(*) FROM messages WHERE status = 'failed'", 1)
        .await;
    let (code, message): (String, String) =
        sqlx::query_as("SELECT error_code, error_message FROM messages")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(code, "400");
    assert!(message.contains("invalid 'to' number"), "{message}");
    assert_eq!(app.survey_state(ids[0]).await, "failed");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(provider.count(), 1, "a 400 was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_are_bounded_then_the_message_fails_with_the_last_reason() {
    let provider = Provider::start(vec![ResponseTemplate::new(503).set_body_string("down")]).await;
    let settings = env(
        &provider.uri(),
        &[
            ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "0"),
            ("POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS", "3"),
        ],
    );
    let app = TestApp::spawn_env(Names::new(), &settings).await;
    insert_surveys(&app.pool, 1, Utc::now(), "Etc/UTC").await;
    app.wait_for_count("SELECT count(*) FROM messages WHERE status = 'failed'", 1)
        .await;
    let message: String = sqlx::query_scalar("SELECT error_message FROM messages")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(message.starts_with("gave up after 3 attempts"), "{message}");
    assert_eq!(provider.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_recorded_after_scheduling_stops_the_send() {
    let provider = Provider::start(vec![webhook_accepted("never")]).await;
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &[])).await;
    let ids = insert_surveys(
        &app.pool,
        1,
        Utc::now() + TimeDelta::milliseconds(800),
        "Etc/UTC",
    )
    .await;
    sqlx::query("INSERT INTO opt_outs (customer_phone, source) VALUES ('+8613900000001', 'sms')")
        .execute(&app.pool)
        .await
        .unwrap();
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'cancelled'", 1)
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(provider.count(), 0);
    assert_eq!(app.survey_state(ids[0]).await, "cancelled");
}

/// A worker whose quiet hours run from a minute ago to two minutes ahead, in UTC (which the
/// surveys use), and when that was.
async fn inside_quiet_hours(provider: &Provider) -> (TestApp, chrono::DateTime<Utc>) {
    let now = Utc::now();
    let hhmm = |t: chrono::DateTime<Utc>| format!("{:02}:{:02}", t.hour(), t.minute());
    let (start, end) = (
        hhmm(now - TimeDelta::minutes(1)),
        hhmm(now + TimeDelta::minutes(2)),
    );
    let settings = env(
        &provider.uri(),
        &[
            ("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "true"),
            ("POSTCALL__ELIGIBILITY__QUIET_HOURS__START", &start),
            ("POSTCALL__ELIGIBILITY__QUIET_HOURS__END", &end),
        ],
    );
    (TestApp::spawn_env(Names::new(), &settings).await, now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_started_inside_quiet_hours_defers_to_their_end() {
    let provider = Provider::start(vec![webhook_accepted("night")]).await;
    let (app, now) = inside_quiet_hours(&provider).await;
    let ids = insert_surveys(&app.pool, 1, now - TimeDelta::hours(8), "Etc/UTC").await;

    let end_at = (now + TimeDelta::minutes(2))
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let mut deferred_to = None;
    for _ in 0..100 {
        let send_at: chrono::DateTime<Utc> =
            sqlx::query_scalar("SELECT send_at FROM surveys WHERE id = $1")
                .bind(ids[0])
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if send_at > now {
            deferred_to = Some(send_at);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        deferred_to,
        Some(end_at),
        "deferred to the end of quiet hours"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(provider.count(), 0, "sent inside quiet hours");
    assert_eq!(app.survey_state(ids[0]).await, "scheduled");
}

/// The one request the provider got carries `id` as its idempotency key, and the survey
/// opened.
async fn resent_as(provider: &Provider, app: &TestApp, id: uuid::Uuid) {
    assert_eq!(provider.wait_for(1).await, 1);
    let request = &provider.requests()[0];
    assert_eq!(
        request
            .headers
            .get("idempotency-key")
            .unwrap()
            .to_str()
            .unwrap(),
        id.to_string()
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_resent_with_the_same_idempotency_key() {
    let provider = Provider::start(vec![webhook_accepted("rescued")]).await;
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &[])).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now() + TimeDelta::days(1), "Etc/UTC").await;
    // A replica died between claiming this message and recording its outcome.
    let id = uuid::Uuid::new_v4();
    sqlx::query("UPDATE surveys SET state = 'sending' WHERE id = $1;")
        .bind(ids[0])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding, segments,
                               status, attempts, lease_until, leased_by)
         VALUES ($1, $2, 'question', 'resolved', '+8613900000001', '问', 'ucs2', 1,
                 'sending', 1, now() - interval '1 second', 'dead-replica')",
    )
    .bind(id)
    .bind(ids[0])
    .execute(&app.pool)
    .await
    .unwrap();

    resent_as(&provider, &app, id).await;
}

/// A replica died holding `survey`'s first send under its claim number `attempts`, its
/// lease run out; returns the SMS's id.
async fn died_holding(app: &TestApp, survey: i64, attempts: i32) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "UPDATE surveys SET state = 'sending', leased_by = 'dead-replica', first_message_id = $2,
                lease_until = now() - interval '1 second', first_attempts = $3
          WHERE id = $1",
    )
    .bind(survey)
    .bind(id)
    .bind(attempts)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_on_a_survey_is_resent_with_the_same_idempotency_key() {
    let provider = Provider::start(vec![webhook_accepted("rescued")]).await;
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &[])).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now() + TimeDelta::days(1), "Etc/UTC").await;
    // A replica died between claiming this survey's first SMS and recording its outcome:
    // the SMS has no row yet, only its id on the survey.
    let id = died_holding(&app, ids[0], 1).await;

    resent_as(&provider, &app, id).await;
    let row: (uuid::Uuid, i32, String, Option<String>) = sqlx::query_as(
        "SELECT m.id, m.attempts, m.status, s.leased_by
           FROM messages m JOIN surveys s ON s.id = m.survey_id WHERE s.id = $1",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((row.0, row.1, row.2.as_str()), (id, 2, "queued"), "{row:?}");
    assert_ne!(row.3.as_deref(), Some("dead-replica"));
    let lease: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT lease_until FROM surveys WHERE id = $1")
            .bind(ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(lease, None, "the lease ends with the record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_survey_lease_on_the_last_attempt_fails_the_survey_unsent() {
    let provider = Provider::start(vec![webhook_accepted("never")]).await;
    let app = TestApp::spawn_env(
        Names::new(),
        &env(
            &provider.uri(),
            &[("POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS", "2")],
        ),
    )
    .await;
    let ids = insert_surveys(&app.pool, 1, Utc::now() + TimeDelta::days(1), "Etc/UTC").await;
    let id = died_holding(&app, ids[0], 2).await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'failed'", 1)
        .await;
    let row: (uuid::Uuid, i32, String, String) = sqlx::query_as(
        "SELECT id, attempts, status, error_message FROM messages WHERE survey_id = $1",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (row.0, row.1, row.2.as_str(), row.3.as_str()),
        (
            id,
            2,
            "failed",
            "lease expired on the last attempt; outcome unknown"
        )
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(provider.count(), 0, "sent after its last attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_question_in_flight_counts_against_its_phones_cap() {
    let provider = Provider::start(vec![webhook_accepted("capped")]).await;
    let app = TestApp::spawn_env(
        Names::new(),
        &env(
            &provider.uri(),
            &[("POSTCALL__PROVIDER__WEBHOOK__CAPS__PER_NATURAL_DAY", "1")],
        ),
    )
    .await;
    let ids = insert_surveys(&app.pool, 1, Utc::now() + TimeDelta::days(1), "Etc/UTC").await;
    // Another replica is sending this survey's first question now: it has no row yet.
    let phone: String = sqlx::query_scalar(
        "UPDATE surveys SET state = 'sending', leased_by = 'busy-replica',
                lease_until = now() + interval '10 minutes', first_attempts = 1,
                first_message_id = gen_random_uuid()
          WHERE id = $1 RETURNING customer_phone",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // A help text to the same phone, due now: one a day is all the phone may get.
    sqlx::query(
        "INSERT INTO messages (id, survey_id, purpose, to_phone, body, encoding, segments)
         VALUES (gen_random_uuid(), $1, 'help', $2, 'Reply 1-5', 'gsm7', 1)",
    )
    .bind(ids[0])
    .bind(&phone)
    .execute(&app.pool)
    .await
    .unwrap();
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'help' AND status = 'cancelled'",
        1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(provider.count(), 0, "sent past the cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescued_survey_held_by_quiet_hours_keeps_its_sms_id_and_its_lease_end() {
    let provider = Provider::start(vec![webhook_accepted("held")]).await;
    let (app, now) = inside_quiet_hours(&provider).await;
    let ids = insert_surveys(&app.pool, 1, now + TimeDelta::days(1), "Etc/UTC").await;
    // Rescued: an earlier claim's lease ran out five minutes ago, so its SMS may have gone.
    let id = uuid::Uuid::new_v4();
    let ended: chrono::DateTime<Utc> = sqlx::query_scalar(
        "UPDATE surveys SET state = 'scheduled', send_at = now() - interval '1 second',
                first_message_id = $2, first_attempts = 1, leased_by = NULL,
                lease_until = date_trunc('second', now()) - interval '5 minutes'
          WHERE id = $1 RETURNING lease_until",
    )
    .bind(ids[0])
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE state = 'scheduled' AND send_at > now()",
        1,
    )
    .await;
    // Claimed, held back and handed back: what the next claim needs to know stays.
    let kept: (
        Option<uuid::Uuid>,
        i32,
        Option<String>,
        Option<chrono::DateTime<Utc>>,
    ) = sqlx::query_as(
        "SELECT first_message_id, first_attempts, leased_by, lease_until
               FROM surveys WHERE id = $1",
    )
    .bind(ids[0])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kept, (Some(id), 1, None, Some(ended)));
    assert_eq!(provider.count(), 0, "sent inside quiet hours");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_spaces_sends() {
    let provider = Provider::start(vec![webhook_accepted("limited")]).await;
    let settings = env(
        &provider.uri(),
        &[("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "5")],
    );
    let app = TestApp::spawn_env(Names::new(), &settings).await;
    insert_surveys(&app.pool, 15, Utc::now(), "Etc/UTC").await;
    assert_eq!(provider.wait_for(15).await, 15);
    let t = provider.times();
    // A burst of 5, then one every 200 ms: the 15th cannot come before ~2 s.
    assert!(
        t[14] - t[0] >= Duration::from_millis(1800),
        "{:?}",
        t[14] - t[0]
    );
    // And no second holds more than burst + rate.
    for (i, start) in t.iter().enumerate() {
        let within = t[i..]
            .iter()
            .filter(|x| **x - *start < Duration::from_secs(1))
            .count();
        assert!(within <= 10, "{within} sends within one second");
    }
}

const UNLIMITED: [(&str, &str); 2] = [
    (
        "POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND",
        "100000",
    ),
    (
        "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
        "100000",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_request_holds_only_its_own_slot() {
    let provider = Provider::answering(|n| {
        let accepted = webhook_accepted(&format!("prov-{n}"));
        if n == 0 {
            accepted.set_delay(Duration::from_secs(6))
        } else {
            accepted
        }
    })
    .await;
    let mut overrides = UNLIMITED.to_vec();
    overrides.push(("POSTCALL__DISPATCH__BATCH_SIZE", "4"));
    let app = TestApp::spawn_env(Names::new(), &env(&provider.uri(), &overrides)).await;
    let began = std::time::Instant::now();
    insert_surveys(&app.pool, 20, Utc::now(), "Etc/UTC").await;

    // Four slots, one held by the hanging request: the other 19 go through the other three.
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 19)
        .await;
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "the others waited for the hanging request: {:?}",
        began.elapsed()
    );
    assert_eq!(provider.count(), 20);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 20)
        .await;
    assert_eq!(provider.count(), 20, "sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_while_a_message_waits_for_the_rate_limit_stops_it() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("prov-{n}"))).await;
    let settings = env(
        &provider.uri(),
        &[("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "1")],
    );
    let app = TestApp::spawn_env(Names::new(), &settings).await;
    insert_surveys(&app.pool, 2, Utc::now(), "Etc/UTC").await;

    // The second is claimed as the first goes, then waits about a second for the limit.
    assert_eq!(provider.wait_for(1).await, 1);
    let first: serde_json::Value = serde_json::from_slice(&provider.requests()[0].body).unwrap();
    let second = if first["to"] == "+8613900000001" {
        "+8613900000002"
    } else {
        "+8613900000001"
    };
    sqlx::query("INSERT INTO opt_outs (customer_phone, source) VALUES ($1, 'sms')")
        .bind(second)
        .execute(&app.pool)
        .await
        .unwrap();
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'cancelled'", 1)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(provider.count(), 1, "sent after the opt-out");
    let status: String = sqlx::query_scalar("SELECT status FROM messages WHERE to_phone = $1")
        .bind(second)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
}
