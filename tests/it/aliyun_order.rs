//! One customer's Aliyun replies are acted on in the order they came, even when two pushes
//! arrive while the first is still being acted on: the second waits, untouched, and is acted
//! on right after. Another customer's batch does not wait.

use std::time::Duration;

use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::{
    aliyun::{RECEIVED, SIGN, TOKEN, app_with, post, sms_up, templates_toml},
    aliyun_double::{AliyunDouble, Mode},
    helpers::{Names, TestApp, event, minutes_ago},
};

const PHONE: &str = "+8613912345678";

/// The batch's id, once it is stored.
async fn stored(app: &TestApp, sequence_id: &str) -> i64 {
    let sql = "SELECT id FROM callback_inbox WHERE body -> 0 ->> 'sequence_id' = $1";
    for _ in 0..100 {
        if let Some(id) = sqlx::query_scalar(sql)
            .bind(sequence_id)
            .fetch_optional(&app.pool)
            .await
            .unwrap()
        {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("batch {sequence_id} was not stored");
}

/// Whether a processor holds the batch (its row is locked).
async fn being_processed(app: &TestApp, id: i64) -> bool {
    let mut tx = app.pool.begin().await.unwrap();
    let free: Option<i64> =
        sqlx::query_scalar("SELECT id FROM callback_inbox WHERE id = $1 FOR UPDATE SKIP LOCKED")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    free.is_none()
}

/// Waits until a processor holds the batch; fails saying `what` after 10 s.
async fn taken_within_10s(app: &TestApp, id: i64, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !being_processed(app, id).await {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_second_reply_waits_for_the_first_and_another_customers_does_not() {
    let double = AliyunDouble::start(Mode::Ok).await;
    let app = app_with(Names::new(), &double.url, "", &templates_toml(), &[]).await;
    app.publish(&event("order-1", PHONE, minutes_ago(1))).await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    // Hold every reply's first write, so the first batch stays in processing.
    let mut holder = PgConnection::connect(&app.names.database_url)
        .await
        .unwrap();
    let mut hold = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE inbound_messages IN EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();

    assert_eq!(
        post(&app, TOKEN, "inbound", &sms_up("o1", "1", SIGN)).await,
        (200, RECEIVED.to_owned())
    );
    let first = stored(&app, "o1").await;
    taken_within_10s(&app, first, "the first batch is taken").await;

    // The same customer's next answer, and a reply from someone else.
    assert_eq!(
        post(&app, TOKEN, "inbound", &sms_up("o2", "5", SIGN))
            .await
            .0,
        200
    );
    let second = stored(&app, "o2").await;
    let other = json!([{
        "phone_number": "13900009999", "content": "你好", "dest_code": "1234",
        "send_time": "2026-12-02 18:30:00", "sequence_id": "o3", "sign_name": SIGN,
    }]);
    assert_eq!(
        post(&app, TOKEN, "inbound", &other.to_string()).await.0,
        200
    );
    let unrelated = stored(&app, "o3").await;
    taken_within_10s(&app, unrelated, "another customer's batch does not wait").await;
    // By now a processor that did not wait would hold the second batch too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !being_processed(&app, second).await,
        "the second reply waits while the first is acted on"
    );

    hold.commit().await.unwrap();
    app.wait_for_count("SELECT count(*) FROM callback_inbox", 0)
        .await;
    app.wait_for_count("SELECT count(*) FROM answers", 2).await;
    let stored = app.answers().await;
    assert_eq!(
        stored,
        [
            ("resolved".to_owned(), json!(true)),
            ("satisfaction".to_owned(), json!(5)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_listed_out_of_order_in_one_batch_are_acted_on_in_the_order_they_were_sent() {
    let double = AliyunDouble::start(Mode::Ok).await;
    let app = app_with(Names::new(), &double.url, "", &templates_toml(), &[]).await;
    app.publish(&event("order-2", PHONE, minutes_ago(1))).await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let at = |seconds_ago: i64| {
        (now - chrono::Duration::seconds(seconds_ago))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let batch = json!([
        {"phone_number": "13912345678", "content": "4", "send_time": at(1),
         "dest_code": "1234", "sequence_id": "b2", "sign_name": SIGN},
        {"phone_number": "13912345678", "content": "2", "send_time": at(3),
         "dest_code": "1234", "sequence_id": "b1", "sign_name": SIGN},
    ]);
    assert_eq!(
        post(&app, TOKEN, "inbound", &batch.to_string()).await.0,
        200
    );
    app.wait_for_count("SELECT count(*) FROM answers", 2).await;
    let stored = app.answers().await;
    assert_eq!(
        stored,
        [
            ("resolved".to_owned(), json!(false)),
            ("satisfaction".to_owned(), json!(4)),
        ]
    );
}

/// A batch's id is drawn before its insert commits: a second batch from the same customer
/// must not draw a later id and commit first, or the processor, seeing it as the oldest,
/// would act on it first. The insert waits on the first batch's sender lock (taken here as
/// `callback_inbox::insert` takes it, the first insert left uncommitted) and only then
/// draws its id; another customer's batch does not wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_from_the_same_customer_draws_its_id_after_the_earlier_one_commits() {
    use postcall::store::{callback_inbox, db};
    // No worker: no processor to take the batches.
    let names = Names::new();
    let _cleanup = crate::helpers::Cleanup(names.clone());
    let pool = db::connect(&names.settings(&[]).database).await.unwrap();
    db::migrate(&pool).await.unwrap();

    let mut first = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('inbox:' || $1, 0))")
        .bind(PHONE)
        .execute(&mut *first)
        .await
        .unwrap();
    let first_id: i64 = sqlx::query_scalar(
        "INSERT INTO callback_inbox (provider, kind, body, senders)
         VALUES ('aliyun', 'reply', '[]', ARRAY[$1]) RETURNING id",
    )
    .bind(PHONE)
    .fetch_one(&mut *first)
    .await
    .unwrap();

    let senders = vec![PHONE.to_owned(), "+8613700000000".to_owned()];
    let second = tokio::spawn({
        let pool = pool.clone();
        async move { callback_inbox::insert(&pool, "aliyun", "reply", &json!([]), &senders).await }
    });
    let other = callback_inbox::insert(
        &pool,
        "aliyun",
        "reply",
        &json!([]),
        &["+8613800000000".to_owned()],
    )
    .await
    .unwrap();
    assert!(
        other > first_id,
        "another customer's batch is stored at once"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !second.is_finished(),
        "the same customer's batch waits for the first to commit"
    );

    first.commit().await.unwrap();
    let second_id = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("stored once the first committed")
        .unwrap()
        .unwrap();
    assert!(second_id > first_id, "{second_id} after {first_id}");
    assert!(second_id > other, "its id was drawn after the wait");
}
