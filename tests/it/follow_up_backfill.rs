//! The follow-up migration's backfill (`20261203000004_follow_up.sql`): on a database
//! migrated to the migration before it, detractor surveys announced before it existed get
//! exactly one case each when it runs — however many `survey.detractor` events they gave,
//! with every reason once and the first event's time — and other surveys none.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use postcall::store::db::{self, MIGRATOR};
use serde_json::json;
use sqlx::{
    PgPool,
    migrate::{MigrateDatabase, Migrator},
};
use uuid::Uuid;

use crate::helpers::Names;

/// The follow-up migration: every migration before it is applied first.
const FOLLOW_UP: i64 = 20261203000004;

/// A case as stored: state, reasons (sorted), detractor_at, opened_at.
type Case = (String, Vec<String>, DateTime<Utc>, DateTime<Utc>);

async fn insert_survey(pool: &PgPool, call_id: &str, phone: &str, state: &str) {
    sqlx::query(
        "WITH c AS (
             INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                                ended_at, disposition, talk_seconds, decision, event)
             VALUES ($1, $2, 'agent-7', 'payment', now() - interval '2 hours',
                     now() - interval '2 hours', now() - interval '1 hour', 'completed', 240,
                     'scheduled', '{}'::jsonb)
         )
         INSERT INTO surveys (call_id, customer_phone, language, timezone, state, send_at, sent_at,
                              expires_at)
         VALUES ($1, $2, 'zh-CN', 'Asia/Shanghai', $3, now() - interval '50 minutes',
                 now() - interval '50 minutes', now() + interval '1 day')",
    )
    .bind(call_id)
    .bind(phone)
    .bind(state)
    .execute(pool)
    .await
    .unwrap();
}

async fn announce(pool: &PgPool, key: &str, call_id: &str, reasons: &[&str], at: DateTime<Utc>) {
    let mut payload = json!({"call_id": call_id, "agent_id": "agent-7", "queue": "payment",
                             "customer_phone": "+8613900000000", "answers": []});
    if key == "survey.detractor" {
        payload["reasons"] = json!(reasons);
    }
    sqlx::query(
        "INSERT INTO outbox (id, routing_key, payload, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::new_v4())
    .bind(key)
    .bind(payload)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn detractors_announced_before_the_migration_get_one_case_each() {
    let names = Names::new();
    let settings = names.settings(&[]);
    let pool = db::connect(&settings.database).await.unwrap();
    let before = Migrator {
        migrations: MIGRATOR
            .migrations
            .iter()
            .filter(|m| m.version < FOLLOW_UP)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    let absent: Option<String> = sqlx::query_scalar("SELECT to_regclass('follow_up_cases')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        absent, None,
        "the database stands before the follow-up migration"
    );

    let t0 = Utc::now() - Duration::minutes(40);
    // Two detractor answers in two replies: two events, one case with both reasons.
    insert_survey(&pool, "bf-twice", "+8613900000001", "completed").await;
    announce(&pool, "survey.detractor", "bf-twice", &["fcr"], t0).await;
    announce(
        &pool,
        "survey.detractor",
        "bf-twice",
        &["csat", "fcr"],
        t0 + Duration::minutes(2),
    )
    .await;
    announce(
        &pool,
        "survey.completed",
        "bf-twice",
        &[],
        t0 + Duration::minutes(3),
    )
    .await;
    // One detractor answer, survey still open.
    insert_survey(&pool, "bf-once", "+8613900000002", "open").await;
    announce(
        &pool,
        "survey.detractor",
        "bf-once",
        &["nps"],
        t0 + Duration::minutes(5),
    )
    .await;
    // A satisfied customer and a silent one: no case.
    insert_survey(&pool, "bf-happy", "+8613900000003", "completed").await;
    announce(
        &pool,
        "survey.completed",
        "bf-happy",
        &[],
        t0 + Duration::minutes(6),
    )
    .await;
    insert_survey(&pool, "bf-silent", "+8613900000004", "open").await;

    db::migrate(&pool).await.unwrap();

    let cases: BTreeMap<String, Case> =
        sqlx::query_as::<_, (String, String, Vec<String>, DateTime<Utc>, DateTime<Utc>)>(
            "SELECT call_id, state, reasons, detractor_at, opened_at FROM follow_up_cases",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(call, state, mut reasons, detractor_at, opened_at)| {
            reasons.sort();
            (call, (state, reasons, detractor_at, opened_at))
        })
        .collect();
    let at = |t: DateTime<Utc>| DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap();
    let open = || "open".to_owned();
    assert_eq!(
        cases,
        BTreeMap::from([
            (
                "bf-once".to_owned(),
                (
                    open(),
                    vec!["nps".to_owned()],
                    at(t0 + Duration::minutes(5)),
                    at(t0 + Duration::minutes(5))
                )
            ),
            (
                "bf-twice".to_owned(),
                (
                    open(),
                    vec!["csat".to_owned(), "fcr".to_owned()],
                    at(t0),
                    at(t0)
                )
            ),
        ])
    );
    // From now on the trigger opens cases: a detractor event after the migration opens one.
    announce(&pool, "survey.detractor", "bf-happy", &["csat"], Utc::now()).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM follow_up_cases")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 3);

    pool.close().await;
    sqlx::Postgres::force_drop_database(&names.database_url)
        .await
        .unwrap();
}
