//! A stop asked for in the customer's own words (`别再发了`, `stop texting me`) is acted on
//! like the `TD` keyword: the survey ends, one confirmation goes out and nothing after it.
//! A comment about stopping something else (`扣款停不下来`) is kept as the comment.

use std::time::Duration;

use serde_json::json;

use super::{PHONE, open_survey, sent_body, sms_reply, sms_reply_from, start};
use crate::{
    helpers::{TestApp, event, minutes_ago},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

const OTHER_PHONE: &str = "+8613912345679";

async fn confirmations_to(app: &TestApp, phone: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM messages
          WHERE to_phone = '{phone}' AND purpose = 'opt_out_confirmation'"
    ))
    .await
}

async fn opted_out(app: &TestApp, phone: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM opt_outs WHERE customer_phone = '{phone}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_in_words_mid_survey_opts_out_with_one_confirmation_and_nothing_after() {
    // Before stops in words, this was re-prompted as "not a score" and the survey went on.
    super::stop_mid_survey("别再发了").await;
}

/// A phone has at most one survey in flight, so the "other" survey a stop must cancel is one
/// scheduled for a later call after the first has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_in_words_after_a_survey_cancels_the_phones_scheduled_survey() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    open_survey(&app, &provider, "words-first").await;
    sqlx::query("UPDATE surveys SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'expired'", 1)
        .await;
    schedule_survey_in_an_hour(&app, "words-next", PHONE).await;

    assert_eq!(sms_reply(&app, "in-1", "以后别给我发短信了").await, 204);
    app.wait_for_count(
        "SELECT count(*) FROM surveys WHERE call_id = 'words-next' AND state = 'cancelled'",
        1,
    )
    .await;
    assert_eq!(opted_out(&app, PHONE).await, 1);
    assert_eq!(provider.wait_for(2).await, 2);
    assert!(
        sent_body(&provider, 1).contains("已退订"),
        "{}",
        sent_body(&provider, 1)
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(provider.count(), 2);
    assert_eq!(confirmations_to(&app, PHONE).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comment_question_keeps_a_comment_about_stopping_something_else_and_takes_a_stop() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;

    // "The deduction won't stop": a complaint for the comment, not an opt-out.
    let sent = answer_up_to_the_comment(&app, &provider, PHONE, "words-comment", 0).await;
    assert_eq!(
        sms_reply_from(&app, PHONE, "msg_c", "c", "扣款停不下来").await,
        204
    );
    assert_eq!(provider.wait_for(sent + 1).await, sent + 1);
    assert!(
        sent_body(&provider, sent).contains("感谢"),
        "{}",
        sent_body(&provider, sent)
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    let comment: serde_json::Value =
        sqlx::query_scalar("SELECT value FROM answers WHERE question_id = 'comment' AND NOT late")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(comment, json!("扣款停不下来"));
    assert_eq!(opted_out(&app, PHONE).await, 0);

    // A comment that asks to stop the texts is an opt-out, not a comment.
    let sent =
        answer_up_to_the_comment(&app, &provider, OTHER_PHONE, "words-comment-2", sent + 1).await;
    assert_eq!(
        sms_reply_from(
            &app,
            OTHER_PHONE,
            "msg_d",
            "d",
            "服务还行，就是别再发短信了"
        )
        .await,
        204
    );
    assert_eq!(provider.wait_for(sent + 1).await, sent + 1);
    assert!(
        sent_body(&provider, sent).contains("已退订"),
        "{}",
        sent_body(&provider, sent)
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'opted_out'", 1)
        .await;
    assert_eq!(opted_out(&app, OTHER_PHONE).await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM answers WHERE question_id = 'comment'")
            .await,
        1,
        "only the first phone's comment"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(provider.count(), sent + 1);
}

/// Starts a survey for `phone` and answers the first three questions; returns how many SMS
/// the provider has had by then (`before` of them went to earlier surveys).
async fn answer_up_to_the_comment(
    app: &TestApp,
    provider: &Provider,
    phone: &str,
    call_id: &str,
    before: usize,
) -> usize {
    app.publish(&event(call_id, phone, minutes_ago(1))).await;
    assert_eq!(provider.wait_for(before + 1).await, before + 1);
    app.wait_for_count(
        &format!("SELECT count(*) FROM surveys WHERE call_id = '{call_id}' AND state = 'open'"),
        1,
    )
    .await;
    for (n, text) in ["1", "5", "10"].into_iter().enumerate() {
        let id = format!("{call_id}-{n}");
        assert_eq!(
            sms_reply_from(app, phone, &format!("msg_{id}"), &id, text).await,
            204
        );
        let sent = before + n + 2;
        assert_eq!(provider.wait_for(sent).await, sent);
    }
    before + 4
}

async fn schedule_survey_in_an_hour(app: &TestApp, call_id: &str, phone: &str) {
    sqlx::query(
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                            ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                            decision, event)
         VALUES ($1, $2, 'agent-7', 'payment', now() - interval '10 minutes',
                 now() - interval '9 minutes', now() - interval '5 minutes', 'completed',
                 'Asia/Shanghai', 60, 240, 'scheduled', '{}'::jsonb)",
    )
    .bind(call_id)
    .bind(phone)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at)
         VALUES ($1, $2, 'zh-CN', 'Asia/Shanghai', now() + interval '1 hour')",
    )
    .bind(call_id)
    .bind(phone)
    .execute(&app.pool)
    .await
    .unwrap();
}
