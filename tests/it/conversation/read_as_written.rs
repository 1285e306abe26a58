//! Replies read as a person reads them, through the webhook provider: a configured label
//! (`非常满意`) stores its number, an answer with a remark (`8分，挺好的`) stores the answer
//! without a re-prompt and keeps the whole text as the answer's raw text, and the scores
//! count both.

use serde_json::{Value, json};

use super::{open_survey, sent_body, sms_reply, start};
use crate::provider_double::{Provider, webhook_accepted, webhook_env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_and_an_answer_with_a_remark_are_stored_and_counted_without_a_re_prompt() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    open_survey(&app, &provider, "label-1").await;

    assert_eq!(sms_reply(&app, "in-1", "已經解決了，謝謝").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);
    assert_eq!(sms_reply(&app, "in-2", "非常满意").await, 204);
    assert_eq!(provider.wait_for(3).await, 3);
    assert!(
        sent_body(&provider, 2).contains("推荐"),
        "{}",
        sent_body(&provider, 2)
    );
    assert_eq!(sms_reply(&app, "in-3", "8分，挺好的").await, 204);
    assert_eq!(provider.wait_for(4).await, 4);
    assert!(
        sent_body(&provider, 3).contains("还有什么"),
        "the comment question, not a re-prompt: {}",
        sent_body(&provider, 3)
    );
    assert_eq!(sms_reply(&app, "in-4", "没有了").await, 204);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;

    let stored: Vec<(String, Value, String)> =
        sqlx::query_as("SELECT question_id, value, raw FROM answers ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let want = [
        ("resolved", json!(true), "已經解決了，謝謝"),
        ("satisfaction", json!(5), "非常满意"),
        ("recommend", json!(8), "8分，挺好的"),
        ("comment", json!("没有了"), "没有了"),
    ];
    assert_eq!(stored.len(), want.len(), "{stored:?}");
    for ((q, v, raw), (wq, wv, wraw)) in stored.iter().zip(want) {
        assert_eq!((q.as_str(), v, raw.as_str()), (wq, &wv, wraw));
    }
    let reprompts = app
        .count("SELECT count(*) FROM inbound_messages WHERE outcome = 'reprompt'")
        .await;
    assert_eq!(reprompts, 0);

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE status IN ('pending', 'sending')",
        0,
    )
    .await;
    let settings = app.names.settings(&[]);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    let scores: Value = reqwest::get(format!("{}/api/v1/scores?group_by=agent", app.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let agent = &scores["groups"][0];
    assert_eq!(agent["responses"], 1, "{scores}");
    assert_eq!(agent["csat"]["satisfied"], 1, "{scores}");
    assert_eq!(agent["fcr"]["yes"], 1, "{scores}");
    assert_eq!(agent["nps"]["passives"], 1, "{scores}");
}
