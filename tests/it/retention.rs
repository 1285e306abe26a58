//! Retention: a history spanning the window (calls with and without surveys, replies,
//! comments, detractor cases with notes, events, system replies, a stuck callback batch, an
//! opt-out), erased by the real eraser: no phone or text older than the window is left in
//! any row of any table, newer rows are untouched, the scores are byte-identical before and
//! after and a rebuild after erasure equals them, the opted-out number is still refused, a
//! second run erases nothing, and two replicas erasing at once erase each record once.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use postcall::{
    aggregate::{
        Aggregator,
        retention::{Eraser, Lock, Part, Policy},
    },
    store::db,
};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    conversation::sms_reply_from,
    feedback_month::{self, Month, get},
    helpers::{Cleanup, Names, TestApp, event},
};

const POLICY: Policy = Policy {
    days: 180,
    // Small, so every part takes several batches.
    batch_size: 7,
};
/// How far back the old half of the history is moved: past the window.
const AGE_DAYS: i32 = 200;
/// A name the old generation's records give (an added event field, case notes).
const OLD_NAME: &str = "王小明";
const OLD: u32 = 1;
const NEW: u32 = 2;

/// Every row of every table of ours, as text, per table.
async fn dump(pool: &PgPool) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
            AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t ORDER BY 1"))
                .fetch_all(pool)
                .await
                .unwrap();
        out.insert(table, rows);
    }
    out
}

/// The rows of one generation's calls in every table that points at them, as text: what
/// must not change for the newer generation.
async fn generation(pool: &PgPool, batch: u32) -> Vec<String> {
    let like = format!("fb-{batch}-%");
    sqlx::query_scalar(
        "SELECT x FROM (
            SELECT 'c' || c::text AS x FROM calls c WHERE call_id LIKE $1
            UNION ALL SELECT 's' || s::text FROM surveys s WHERE call_id LIKE $1
            UNION ALL SELECT 'm' || m::text FROM messages m JOIN surveys s ON s.id = m.survey_id
                       WHERE s.call_id LIKE $1
            UNION ALL SELECT 'i' || i::text FROM inbound_messages i JOIN surveys s ON s.id = i.survey_id
                       WHERE s.call_id LIKE $1
            UNION ALL SELECT 'a' || a::text FROM answers a JOIN surveys s ON s.id = a.survey_id
                       WHERE s.call_id LIKE $1
            UNION ALL SELECT 'k' || k::text FROM follow_up_cases k WHERE call_id LIKE $1
            UNION ALL SELECT 'v' || v::text FROM follow_up_moves v JOIN surveys s ON s.id = v.survey_id
                       WHERE s.call_id LIKE $1
            UNION ALL SELECT 'o' || o::text FROM outbox o WHERE payload ->> 'call_id' LIKE $1
         ) rows ORDER BY 1",
    )
    .bind(like)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Moves one generation's history `AGE_DAYS` back, as if it had happened then, ended
/// (expired if still open) and its events published.
async fn age(pool: &PgPool, batch: u32) {
    let like = format!("fb-{batch}-%");
    let back = format!("interval '{AGE_DAYS} days'");
    for sql in [
        "UPDATE calls SET started_at = started_at - {back}, answered_at = answered_at - {back},
                ended_at = ended_at - {back}, decided_at = decided_at - {back}
          WHERE call_id LIKE $1",
        "UPDATE surveys SET send_at = send_at - {back}, sent_at = sent_at - {back},
                created_at = created_at - {back}, updated_at = updated_at - {back},
                expires_at = expires_at - {back}, closed_at = coalesce(closed_at, now()) - {back},
                state = CASE WHEN state = 'open' THEN 'expired' ELSE state END
          WHERE call_id LIKE $1",
        "UPDATE messages m SET created_at = m.created_at - {back}, updated_at = m.updated_at - {back},
                next_attempt_at = m.next_attempt_at - {back}
           FROM surveys s WHERE s.id = m.survey_id AND s.call_id LIKE $1",
        "UPDATE inbound_messages i SET received_at = i.received_at - {back}
           FROM surveys s WHERE s.id = i.survey_id AND s.call_id LIKE $1",
        "UPDATE answers a SET received_at = a.received_at - {back}
           FROM surveys s WHERE s.id = a.survey_id AND s.call_id LIKE $1",
        "UPDATE follow_up_cases SET detractor_at = detractor_at - {back},
                opened_at = opened_at - {back}, contacted_at = contacted_at - {back},
                updated_at = updated_at - {back}
          WHERE call_id LIKE $1",
        "UPDATE follow_up_moves v SET moved_at = v.moved_at - {back}
           FROM surveys s WHERE s.id = v.survey_id AND s.call_id LIKE $1",
        "UPDATE outbox SET created_at = created_at - {back}, published_at = created_at - {back}
          WHERE payload ->> 'call_id' LIKE $1",
    ] {
        sqlx::query(&sql.replace("{back}", &back))
            .bind(&like)
            .execute(pool)
            .await
            .unwrap();
    }
}

/// What no survey reaches: a call with no survey (its event as received, with a field a
/// publisher added), a system reply to a phone with no survey, a callback batch that was
/// never processed; each `days` old.
async fn loose_records(pool: &PgPool, tag: &str, phone: &str, name: &str, days: i32) {
    let at = Utc::now() - Duration::days(days.into());
    let event = json!({"call_id": format!("loose-{tag}"), "customer_phone": phone,
                       "customer_name": name, "agent_id": "a-li", "queue": "payment"});
    sqlx::query(
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, ended_at,
                            disposition, talk_seconds, decision, decided_at, event)
         VALUES ($1, $2, 'a-li', 'payment', $3 - interval '1 minute', $3, 'completed', 10,
                 'too_short', $3, $4)",
    )
    .bind(format!("loose-{tag}"))
    .bind(phone)
    .bind(at)
    .bind(&event)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO messages (id, purpose, to_phone, body, encoding, segments, status,
                               created_at, updated_at)
         VALUES (gen_random_uuid(), 'help', $1, '如需帮助请致电 ' || $1, 'ucs2', 1, 'sent', $2, $2)",
    )
    .bind(phone)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO callback_inbox (provider, kind, body, received_at)
         VALUES ('aliyun', 'inbound', $1, $2)",
    )
    .bind(json!([{"phone_number": phone, "content": "1"}]))
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

/// A note naming the customer on every case of the generation.
async fn notes(app: &TestApp, batch: u32, name: &str) {
    let cases: Vec<(String, String)> = sqlx::query_as(
        "SELECT k.call_id, s.customer_phone FROM follow_up_cases k JOIN surveys s ON s.id = k.survey_id
          WHERE k.call_id LIKE $1",
    )
    .bind(format!("fb-{batch}-%"))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!cases.is_empty(), "the month has detractors");
    for (call_id, phone) in cases {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/cases/{call_id}/moves", app.http))
            .bearer_auth(feedback_month::TOKEN)
            .json(&json!({"to": "contacted", "by": "qa-lead", "note": format!("rang {phone}, {name}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{call_id}");
    }
}

async fn scores_body(app: &TestApp) -> Vec<u8> {
    let response = get(
        app,
        "/api/v1/scores?from=2026-04-01&to=2026-12-31&group_by=day",
    )
    .await;
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

async fn cells(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT c::text FROM score_cells c ORDER BY day, agent_id, queue")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn digits(phone: &str) -> &str {
    phone.trim_start_matches('+')
}

/// A history of two generations, the older past the window; returns the old phones, the
/// one that said stop first.
async fn history(app: &TestApp) -> (Month, Month) {
    let mut old = Month::generate(24, OLD, 41);
    // A score with words after it, which the feedback list shows for those words.
    old.surveys[1].replies = ["是", "4分 等了很久", "9"].map(String::from).to_vec();
    old.insert_and_reply(app).await;
    let stopper = &old.surveys[0].phone;
    let status = sms_reply_from(app, stopper, "wh-stop", "stop-1", "退订").await;
    assert_eq!(status, 204);
    notes(app, OLD, OLD_NAME).await;
    age(&app.pool, OLD).await;
    loose_records(&app.pool, "old", "+8613600000001", OLD_NAME, AGE_DAYS).await;

    let new = Month::generate(24, NEW, 42);
    new.insert_and_reply(app).await;
    notes(app, NEW, "李先生").await;
    loose_records(&app.pool, "new", "+8613600000002", "李四", 10).await;
    (old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_nothing_personal_past_the_window_and_every_score_as_it_was() {
    let (app, _provider) = feedback_month::spawn().await;
    let (old, new) = history(&app).await;
    let stopper = old.surveys[0].phone.clone();
    let settings = app.names.settings(&[]);
    let aggregator = Aggregator::new(app.pool.clone(), &settings.runtime().unwrap());
    aggregator.run_now().await.unwrap();
    let (scores_before, cells_before) = (scores_body(&app).await, cells(&app.pool).await);
    let new_before = generation(&app.pool, NEW).await;
    assert!(cells_before.len() > 10, "{cells_before:?}");

    let eraser = Eraser::new(app.pool.clone(), POLICY);
    let run = eraser.run(Lock::Wait).await.unwrap();
    let erased = run.erased;
    assert_eq!(
        erased.get(Part::Calls),
        old.surveys.len() as i64 + 1,
        "{run}"
    );
    // The HTTP role's inbox sweep may take the stuck batch first (the next test has none).
    for part in Part::ALL.into_iter().filter(|&p| p != Part::CallbackInbox) {
        assert!(
            erased.get(part) > 0,
            "{} erased nothing: {run}",
            part.as_str()
        );
    }
    assert_eq!(run.in_flight, None);

    // No old number anywhere but in the opt-outs, and there only the one that said stop.
    let rows = dump(&app.pool).await;
    let mut old_phones: Vec<&str> = old.surveys.iter().map(|s| s.phone.as_str()).collect();
    old_phones.push("+8613600000001");
    for (table, rows) in &rows {
        for row in rows {
            for phone in &old_phones {
                let kept = table == "opt_outs" && *phone == stopper;
                assert!(
                    kept || !row.contains(digits(phone)),
                    "{table} still holds {phone}: {row}"
                );
            }
            assert!(!row.contains(OLD_NAME), "{table} still holds a name: {row}");
        }
    }
    assert_eq!(rows["opt_outs"].len(), 1);
    // No text of the old generation: SMS either way, raw replies, comments, notes.
    let old_like = format!("fb-{OLD}-%");
    for (what, sql) in [
        ("outbound bodies", "SELECT count(*) FROM messages m JOIN surveys s ON s.id = m.survey_id
                               WHERE s.call_id LIKE $1 AND m.body <> ''"),
        ("inbound bodies", "SELECT count(*) FROM inbound_messages i JOIN surveys s ON s.id = i.survey_id
                              WHERE s.call_id LIKE $1 AND i.body <> ''"),
        ("raw replies", "SELECT count(*) FROM answers a JOIN surveys s ON s.id = a.survey_id
                           WHERE s.call_id LIKE $1 AND (a.raw <> '' OR jsonb_typeof(a.value) = 'string' OR a.remark)"),
        ("notes", "SELECT count(*) FROM follow_up_moves v JOIN surveys s ON s.id = v.survey_id
                     WHERE s.call_id LIKE $1 AND v.note <> ''"),
        ("events", "SELECT count(*) FROM outbox WHERE payload ->> 'call_id' LIKE $1"),
    ] {
        let left: i64 = sqlx::query_scalar(sql).bind(&old_like).fetch_one(&app.pool).await.unwrap();
        assert_eq!(left, 0, "{what} of the old generation left");
    }
    // What the answers were stays: every answer row, and the comments' existence.
    let answers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM answers a JOIN surveys s ON s.id = a.survey_id WHERE s.call_id LIKE $1",
    )
    .bind(&old_like)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let replies: usize = old.surveys.iter().map(|s| s.replies.len()).sum();
    assert!(
        answers > 0 && answers <= replies as i64,
        "{answers} of {replies}"
    );

    // The newer generation and its loose records untouched; the scores as they were.
    assert_eq!(generation(&app.pool, NEW).await, new_before);
    assert!(
        new_before
            .iter()
            .any(|r| r.contains(digits(&new.surveys[1].phone)))
    );
    assert!(
        rows["calls"]
            .iter()
            .any(|r| r.contains("13600000002") && r.contains("李四"))
    );
    assert_eq!(scores_body(&app).await, scores_before, "scores API changed");
    aggregator.run_now().await.unwrap();
    assert_eq!(
        cells(&app.pool).await,
        cells_before,
        "a fold after erasure changed cells"
    );
    aggregator.rebuild().await.unwrap();
    assert_eq!(
        cells(&app.pool).await,
        cells_before,
        "a rebuild after erasure changed cells"
    );
    assert_eq!(
        scores_body(&app).await,
        scores_before,
        "scores API changed after rebuild"
    );

    // Nothing is due any more.
    let again = eraser.run(Lock::Wait).await.unwrap();
    assert_eq!(again.erased.total(), 0, "{again}");
    assert_eq!(eraser.due().await.unwrap().total(), 0);

    // The number that said stop, its history erased, is still refused a survey.
    app.publish(&event(
        "after-erasure",
        &stopper,
        Utc::now() - Duration::minutes(2),
    ))
    .await;
    app.wait_for_count(
        "SELECT count(*) FROM calls WHERE call_id = 'after-erasure' AND decision = 'opted_out'",
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_erasing_at_once_erase_each_record_once() {
    let (app, _provider) = feedback_month::spawn().await;
    let old = Month::generate(30, OLD, 43);
    old.insert_and_reply(&app).await;
    age(&app.pool, OLD).await;
    let eraser = Eraser::new(app.pool.clone(), POLICY);
    let due = eraser.due().await.unwrap();
    assert_eq!(due.get(Part::Calls), 30);

    let (a, b, c) = tokio::join!(
        eraser.run(Lock::Wait),
        eraser.run(Lock::Wait),
        eraser.run(Lock::Try)
    );
    let runs = [a.unwrap(), b.unwrap(), c.unwrap()];
    for part in Part::ALL {
        let sum: i64 = runs.iter().map(|r| r.erased.get(part)).sum();
        assert_eq!(sum, due.get(part), "{}: {runs:?}", part.as_str());
    }
    assert_eq!(eraser.due().await.unwrap().total(), 0);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM surveys WHERE customer_phone <> ''")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_out_of_time_stops_after_a_batch_and_the_next_goes_on_from_there() {
    let (app, _provider) = feedback_month::spawn().await;
    let old = Month::generate(30, OLD, 44);
    old.insert_and_reply(&app).await;
    age(&app.pool, OLD).await;
    let eraser = Eraser::new(app.pool.clone(), POLICY);
    let due = eraser.due().await.unwrap();
    assert!(due.get(Part::Calls) > i64::from(POLICY.batch_size));

    // No time at all still erases one batch, so a tick always moves the cursors forward.
    let first = eraser
        .run_within(Lock::Try, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(first.out_of_time, "{first}");
    assert_eq!(
        first.erased.total(),
        i64::from(POLICY.batch_size),
        "{first}"
    );
    assert_eq!(
        eraser.due().await.unwrap().total(),
        due.total() - first.erased.total()
    );

    let mut runs = 1;
    loop {
        let run = eraser
            .run_within(Lock::Try, std::time::Duration::ZERO)
            .await
            .unwrap();
        runs += 1;
        if !run.out_of_time {
            break;
        }
        assert!(runs < 1000, "a run out of time must still move forward");
    }
    assert_eq!(eraser.due().await.unwrap().total(), 0);
    assert!(runs > 2, "more than one batch was due: {runs} runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_callback_batch_past_the_window_is_deleted_and_a_newer_one_kept() {
    // No worker at all: no inbox sweep to take the batches first.
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let pool = db::connect(&names.settings(&[]).database).await.unwrap();
    db::migrate(&pool).await.unwrap();
    loose_records(&pool, "old", "+8613600000001", OLD_NAME, AGE_DAYS).await;
    loose_records(&pool, "new", "+8613600000002", "李四", 10).await;
    let eraser = Eraser::new(pool.clone(), POLICY);
    assert_eq!(eraser.due().await.unwrap().get(Part::CallbackInbox), 1);
    let run = eraser.run(Lock::Try).await.unwrap();
    assert_eq!(run.erased.get(Part::CallbackInbox), 1, "{run}");
    assert_eq!(run.erased.get(Part::UnattachedMessages), 1, "{run}");
    assert_eq!(run.erased.get(Part::Calls), 1, "{run}");
    let left: Vec<String> = sqlx::query_scalar("SELECT body::text FROM callback_inbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].contains("8613600000002"), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aggregation_role_erases_after_its_runs_and_counts_it() {
    let app = TestApp::spawn_with(&[
        ("POSTCALL__AGGREGATION__SCHEDULE", "* * * * * *"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
    ])
    .await;
    loose_records(&app.pool, "old", "+8613600000001", OLD_NAME, AGE_DAYS).await;
    loose_records(&app.pool, "new", "+8613600000002", "李四", 10).await;
    app.wait_for_count(
        "SELECT count(*) FROM calls WHERE customer_phone = '' AND call_id = 'loose-old'",
        1,
    )
    .await;
    app.wait_for_count("SELECT count(*) FROM messages WHERE to_phone = ''", 1)
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM calls WHERE customer_phone = '+8613600000002'")
            .await,
        1
    );
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("postcall_retention_erased_total{part=\"calls\"}")),
        "{metrics}"
    );
}

/// A call published after the cursor walked past its end would never be reached: it arrives
/// erased instead (no phone, the event's extra fields gone), decided `stale` as before; one
/// that ended inside the window keeps its phone. With retention off, nothing is erased.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_arrives_already_past_the_window_is_stored_erased() {
    let app = TestApp::spawn_with(&[("POSTCALL__DISPATCH__ENABLED", "false")]).await;
    // The eraser's cursor first walks past the late call's end.
    let eraser = Eraser::new(app.pool.clone(), POLICY);
    loose_records(&app.pool, "old", "+8613600000001", OLD_NAME, AGE_DAYS).await;
    eraser.run(Lock::Try).await.unwrap();
    let behind = Duration::days(i64::from(AGE_DAYS) + 50);
    let mut late = event("late-1", "+8613600000003", Utc::now() - behind);
    late["nickname"] = json!(OLD_NAME);
    // Past the stale rule but inside the window: keeps its phone until the window ends.
    let inside = event("late-2", "+8613600000004", Utc::now() - Duration::days(170));
    app.publish(&late).await;
    app.publish(&inside).await;
    app.wait_for_count("SELECT count(*) FROM calls WHERE call_id LIKE 'late-%'", 2)
        .await;
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT call_id, decision, customer_phone, event::text FROM calls
          WHERE call_id LIKE 'late-%' ORDER BY call_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let (_, decision, phone, stored) = &rows[0];
    assert_eq!((decision.as_str(), phone.as_str()), ("stale", ""));
    assert!(!stored.contains("13600000003"), "{stored}");
    assert!(!stored.contains(OLD_NAME), "{stored}");
    assert!(stored.contains("\"call_id\": \"late-1\""), "{stored}");
    let (_, decision, phone, _) = &rows[1];
    assert_eq!(
        (decision.as_str(), phone.as_str()),
        ("stale", "+8613600000004")
    );
    eraser.run(Lock::Try).await.unwrap();
    let kept = "SELECT count(*) FROM calls WHERE customer_phone <> ''
                  AND ended_at < now() - interval '180 days'";
    assert_eq!(app.count(kept).await, 0);

    let off = TestApp::spawn_with(&[
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__RETENTION__ENABLED", "false"),
    ])
    .await;
    off.publish(&event("late-3", "+8613600000005", Utc::now() - behind))
        .await;
    off.wait_for_count(
        "SELECT count(*) FROM calls WHERE customer_phone = '+8613600000005'",
        1,
    )
    .await;
}
