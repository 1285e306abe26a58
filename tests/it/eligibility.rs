//! Ineligible calls are recorded with their reason and get no survey.

use chrono::{Duration, TimeZone, Timelike, Utc};
use serde_json::Value;

use crate::helpers::{TestApp, event, minutes_ago, phone};

async fn recorded(app: &TestApp, events: &[Value]) {
    for e in events {
        app.publish(e).await;
    }
    app.wait_for_count("SELECT count(*) FROM calls", events.len() as i64)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_ineligible_call_is_recorded_with_its_reason_and_no_survey() {
    let app = TestApp::spawn().await;
    sqlx::query("INSERT INTO opt_outs (customer_phone, source) VALUES ($1, 'test')")
        .bind(phone(60))
        .execute(&app.pool)
        .await
        .unwrap();

    let mut abandoned = event("abandoned", &phone(61), minutes_ago(1));
    abandoned["disposition"] = "abandoned".into();
    let mut short = event("short", &phone(62), minutes_ago(1));
    short["answered_at"] = (minutes_ago(1) - Duration::seconds(19)).to_rfc3339().into();
    let mut never_answered = event("never-answered", &phone(63), minutes_ago(1));
    never_answered["answered_at"] = Value::Null;
    let stale = event("stale", &phone(64), Utc::now() - Duration::hours(25));
    let opted_out = event("opted-out", &phone(60), minutes_ago(1));
    let landline = event("landline", "+861065529988", minutes_ago(1));
    let first = event("first", &phone(65), minutes_ago(2));
    let capped = event("capped", &phone(65), minutes_ago(1));

    recorded(
        &app,
        &[
            abandoned,
            short,
            never_answered,
            stale,
            opted_out,
            landline,
            first,
            capped,
        ],
    )
    .await;
    let expected = [
        ("abandoned", "disposition"),
        ("short", "too_short"),
        ("never-answered", "too_short"),
        ("stale", "stale"),
        ("opted-out", "opted_out"),
        ("landline", "invalid_phone"),
        ("first", "scheduled"),
        ("capped", "open_survey"),
    ];
    for (call, reason) in expected {
        assert_eq!(app.decision(call).await.as_deref(), Some(reason), "{call}");
    }
    let surveyed: Vec<String> = sqlx::query_scalar("SELECT call_id FROM surveys")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(surveyed, vec!["first".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_survey_within_the_week_caps_the_next_one() {
    let app = TestApp::spawn().await;
    recorded(&app, &[event("week-1", &phone(70), minutes_ago(5))]).await;
    // The first survey ran its course; a new call the same week still gets none.
    sqlx::query("UPDATE surveys SET state = 'completed', sent_at = now() - interval '1 day'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.publish(&event("week-2", &phone(70), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM calls", 2).await;
    assert_eq!(
        app.decision("week-2").await.as_deref(),
        Some("frequency_cap")
    );

    // Eight days later it would be allowed: move the first survey back in time.
    sqlx::query("UPDATE surveys SET sent_at = now() - interval '8 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.publish(&event("week-3", &phone(70), minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM calls", 3).await;
    assert_eq!(app.decision("week-3").await.as_deref(), Some("scheduled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_rate_zero_records_not_sampled() {
    let app = TestApp::spawn_with(&[("POSTCALL__ELIGIBILITY__SAMPLE_RATE", "0")]).await;
    recorded(&app, &[event("unsampled", &phone(80), minutes_ago(1))]).await;
    assert_eq!(
        app.decision("unsampled").await.as_deref(),
        Some("not_sampled")
    );
    assert_eq!(app.count("SELECT count(*) FROM surveys").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ending_in_quiet_hours_is_deferred_to_nine_local() {
    let app = TestApp::spawn_with(&[("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "true")]).await;
    // A fixed-offset zone where it is now 02:xx local, so the send falls in quiet hours
    // whatever time the test runs. Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
    let now = Utc::now();
    let offset = (2 - now.hour() as i32).rem_euclid(24);
    let offset = if offset > 14 { offset - 24 } else { offset };
    let zone = match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    let mut e = event("night", &phone(90), minutes_ago(1));
    e["customer_timezone"] = zone.clone().into();
    recorded(&app, &[e]).await;

    let (send_at, stored_zone): (chrono::DateTime<Utc>, String) =
        sqlx::query_as("SELECT send_at, timezone FROM surveys WHERE call_id = 'night'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let tz: chrono_tz::Tz = zone.parse().unwrap();
    let local = send_at.with_timezone(&tz);
    assert_eq!(stored_zone, zone);
    assert_eq!(
        (local.hour(), local.minute(), local.second()),
        (9, 0, 0),
        "{local}"
    );
    let today_nine = tz
        .from_local_datetime(
            &now.with_timezone(&tz)
                .date_naive()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        send_at,
        today_nine.with_timezone(&Utc),
        "the same morning, not the next"
    );
}
