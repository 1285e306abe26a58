//! Per-number caps (DESIGN.md §4) against a Tencent double that enforces them as Tencent
//! does: postcall never sends past a cap, ends a survey there with its answers counting,
//! keeps two replicas from both sending a number's last allowed SMS, and takes a cap
//! refusal from the platform (Tencent's or Aliyun's) as final.

use serde_json::{Value, json};

use crate::{
    aliyun, aliyun_double,
    helpers::{Names, TestApp, event, minutes_ago},
    tencent_double::{Double, Limits, Mode, SIGN, TOKEN},
    tencent_e2e::{config_and_templates, start_with},
};

const PHONE: &str = "+8613912345678";

async fn reply(app: &TestApp, text: &str, at: i64) {
    let body = json!({"extend": "", "mobile": &PHONE[3..], "nationcode": "86", "sign": SIGN,
                      "text": text, "time": at});
    let (status, _) = crate::tencent::post(app, TOKEN, "inbound", &body).await;
    assert_eq!(status, 200, "{text}");
}

/// The survey ended at the cap, its second question refused by the platform with `code` at
/// its one attempt.
async fn refused_once(app: &TestApp, code: &str) {
    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE state = 'expired' AND end_reason = 'provider_cap'",
        1,
    )
    .await;
    let (status, error_code, attempts): (String, String, i32) = sqlx::query_as(
        "SELECT status, error_code, attempts FROM messages WHERE question_id = 'satisfaction'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), error_code.as_str(), attempts),
        ("failed", code, 1)
    );
}

async fn view(app: &TestApp, call_id: &str) -> Value {
    reqwest::get(format!("{}/api/v1/surveys/{call_id}", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_a_day_ends_the_default_survey_after_two_sms_and_its_answers_count() {
    let (config, approved) = config_and_templates();
    let double = Double::start(Mode::Accept, approved).await;
    double.set_limits(Limits::DEFAULT);
    // postcall's defaults for Tencent: 2 a natural day, the same content once in 30 s.
    let (app, _dir) = start_with(Names::new(), &double, &config, &[]).await;
    app.publish(&event("cap-1", PHONE, minutes_ago(1))).await;
    assert_eq!(double.wait_for_sent(1).await, 1, "{:?}", double.refusals());
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    let now = chrono::Utc::now().timestamp();
    reply(&app, "1", now).await;
    assert_eq!(double.wait_for_sent(2).await, 2);
    // The third question would be the day's third SMS: not sent, the survey ends there.
    reply(&app, "5", now + 1).await;
    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE state = 'expired' AND end_reason = 'provider_cap'",
        1,
    )
    .await;
    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE status = 'cancelled' AND error_code = 'provider_cap'",
        1,
    )
    .await;
    assert_eq!(double.sent().len(), 2);
    assert!(double.capped().is_empty(), "{:?}", double.capped());
    let shown = view(&app, "cap-1").await;
    assert_eq!(
        (&shown["state"], &shown["end_reason"]),
        (&json!("expired"), &json!("provider_cap")),
        "{shown}"
    );
    let announced = app
        .count("SELECT count(*) FROM outbox WHERE routing_key = 'survey.completed'")
        .await;
    assert_eq!(announced, 1);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("postcall_cap_hits_total{")
                && l.contains(r#"provider="tencent""#)
                && l.contains(r#"cap="per_natural_day""#)
                && l.contains(r#"outcome="ended""#)),
        "{metrics}"
    );

    let settings = app.names.settings(&[]);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    let scores: Value = reqwest::get(format!("{}/api/v1/scores", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = &scores["groups"][0];
    assert_eq!(
        (&all["sent"], &all["responses"]),
        (&json!(1), &json!(1)),
        "{scores}"
    );
    assert_eq!(all["fcr"]["yes"], 1, "{scores}");
    assert_eq!(all["csat"]["satisfied"], 1, "{scores}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_one_number_never_pass_the_cap() {
    let (config, approved) = config_and_templates();
    let double = Double::start(Mode::Accept, approved).await;
    // One a day: the replicas' very first claims, woken together, would both fit alone.
    double.set_limits(Limits {
        per_day: Some(1),
        ..Limits::DEFAULT
    });
    let names = Names::new();
    // One message per claim, so that the two replicas' claims interleave.
    let one = [
        ("POSTCALL__DISPATCH__BATCH_SIZE", "1"),
        ("POSTCALL__PROVIDER__TENCENT__CAPS__PER_NATURAL_DAY", "1"),
    ];
    let (first, _d1) = start_with(names.clone(), &double, &config, &one).await;
    let (second, _d2) = start_with(names, &double, &config, &one).await;
    // Help replies and thank-yous due to one phone at once (one insert, one wake-up for
    // both replicas): two kinds of content, six SMS. Each round a new phone: the replicas'
    // first claims race on it.
    let help = "【小蓝钱包】这是客服满意度回访短信。如需帮助请致电95188。回TD退订。";
    let thanks = "【小蓝钱包】感谢您对payment服务的反馈！";
    const ROUNDS: i64 = 8;
    for round in 0..ROUNDS {
        let phone = format!("{}{round}", &PHONE[..PHONE.len() - 1]);
        sqlx::query(
            "INSERT INTO messages (id, purpose, to_phone, body, encoding, segments,
                                   template_id, template_params)
             SELECT gen_random_uuid(), 'help', $1,
                    CASE WHEN i % 2 = 0 THEN $2 ELSE $3 END, 'ucs2', 1,
                    CASE WHEN i % 2 = 0 THEN '3012' ELSE '3009' END,
                    CASE WHEN i % 2 = 0 THEN '[]'::jsonb
                         ELSE '[{\"name\": \"queue\", \"value\": \"payment\"}]'::jsonb END
               FROM generate_series(0, 5) AS i",
        )
        .bind(&phone)
        .bind(help)
        .bind(thanks)
        .execute(&first.pool)
        .await
        .unwrap();
        first
            .wait_for_count(
                "SELECT count(*) FROM messages WHERE status NOT IN ('pending', 'sending')",
                6 * (round + 1),
            )
            .await;
        assert_eq!(
            double.sent().len() as i64,
            round + 1,
            "{phone}: {:?}",
            double.sent()
        );
    }
    assert!(double.capped().is_empty(), "{:?}", double.capped());
    let cancelled = first
        .count("SELECT count(*) FROM messages WHERE status = 'cancelled' AND error_code = 'provider_cap'")
        .await;
    assert_eq!(cancelled, 5 * ROUNDS);
    // Both replicas did claim.
    let claimants = first
        .count("SELECT count(DISTINCT leased_by) FROM messages WHERE leased_by IS NOT NULL")
        .await;
    assert_eq!(claimants, 2);
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_refused_by_the_platform_is_recorded_and_never_retried() {
    let (config, approved) = config_and_templates();
    let double = Double::start(Mode::Accept, approved).await;
    // The account's console allows fewer than postcall was told.
    double.set_limits(Limits {
        per_day: Some(1),
        ..Limits::DEFAULT
    });
    let fast_retry = [("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1")];
    let (app, _dir) = start_with(Names::new(), &double, &config, &fast_retry).await;
    app.publish(&event("cap-3", PHONE, minutes_ago(1))).await;
    assert_eq!(double.wait_for_sent(1).await, 1, "{:?}", double.refusals());
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    reply(&app, "1", chrono::Utc::now().timestamp()).await;
    refused_once(&app, "LimitExceeded.PhoneNumberDailyLimit").await;
    assert_eq!(double.capped(), ["LimitExceeded.PhoneNumberDailyLimit"]);
    assert_eq!(double.sent().len(), 1);
    let shown = view(&app, "cap-3").await;
    assert_eq!(shown["end_reason"], "provider_cap", "{shown}");
}

/// Aliyun answers a number over its flow control with `isv.BUSINESS_LIMIT_CONTROL`
/// (触发业务流控限制, 国内消息API错误码
/// <https://help.aliyun.com/zh/sms/developer-reference/api-error-codes>).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aliyun_cap_refusal_is_recorded_and_never_retried() {
    let double = aliyun_double::AliyunDouble::start(aliyun_double::Mode::Ok).await;
    let fast_retry = [("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1")];
    let templates = aliyun::templates_toml();
    let app = aliyun::app_with(Names::new(), &double.url, "", &templates, &fast_retry).await;
    app.publish(&event("cap-al", PHONE, minutes_ago(1))).await;
    assert_eq!(double.wait_for(1).await, 1, "{:?}", double.refused());
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    // The account's flow control is tighter than postcall's count (50 a rolling day).
    double.set_mode(aliyun_double::Mode::Capped);
    let up = aliyun::sms_up("cap-1", "1", aliyun::SIGN);
    let (status, answer) = aliyun::post(&app, aliyun::TOKEN, "inbound", &up).await;
    assert_eq!((status, answer.as_str()), (200, aliyun::RECEIVED));
    refused_once(&app, "isv.BUSINESS_LIMIT_CONTROL").await;
    // Past several retry delays: still the one refused send, nothing else asked.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(double.received().len(), 2);
    assert!(double.refused().is_empty(), "{:?}", double.refused());
    let shown = view(&app, "cap-al").await;
    assert_eq!(shown["end_reason"], "provider_cap", "{shown}");
    assert_eq!(
        app.count("SELECT count(*) FROM answers WHERE NOT late")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_question_over_the_cap_waits_for_beijing_midnight_or_is_dropped() {
    let (config, approved) = config_and_templates();
    let double = Double::start(Mode::Accept, approved).await;
    double.set_limits(Limits::DEFAULT);
    let (app, _dir) = start_with(Names::new(), &double, &config, &[]).await;
    // Two phones that had their two SMS today, each with a survey due now; the second's
    // call ended 25 h ago, past a survey's life (`eligibility.stale_after_hours`, 24).
    let now = chrono::Utc::now();
    let ids = crate::helpers::insert_surveys(
        &app.pool,
        2,
        now + chrono::TimeDelta::hours(1),
        "Asia/Shanghai",
    )
    .await;
    sqlx::query(
        "INSERT INTO messages (id, survey_id, purpose, to_phone, body, encoding, segments,
                               status, sent_at)
         SELECT gen_random_uuid(), NULL, 'help', s.customer_phone, 'earlier ' || n, 'ucs2', 1,
                'delivered', now()
           FROM surveys s, generate_series(1, 2) AS n",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE calls SET ended_at = now() - interval '25 hours' WHERE call_id = 'call-2'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE surveys SET send_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();

    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE state = 'cancelled' AND end_reason = 'provider_cap'",
        1,
    )
    .await;
    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE state = 'scheduled' AND send_at > now()",
        1,
    )
    .await;
    let send_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT send_at FROM surveys WHERE id = $1")
            .bind(ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let beijing = send_at.with_timezone(&chrono_tz::Asia::Shanghai);
    assert_eq!(
        (beijing.time(), beijing.date_naive()),
        (
            chrono::NaiveTime::MIN,
            now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Days::new(1)
        )
    );
    assert_eq!(app.survey_state(ids[1]).await, "cancelled");
    assert!(double.sent().is_empty(), "{:?}", double.sent());
}
