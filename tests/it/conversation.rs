//! The whole loop per provider: event in → question 1 at the provider → signed replies →
//! the next questions → answers stored → survey.detractor and survey.completed on the broker.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::Consumer;
use postcall::channels::{twilio, webhook};
use serde_json::{Value, json};

use crate::{
    helpers::{Names, TestApp, event, listen_for_events, minutes_ago, scores_after_a_run},
    provider_double::{Provider, WEBHOOK_SECRET, twilio_env, webhook_accepted, webhook_env},
};

mod read_as_written;
mod stop_in_words;

const PHONE: &str = "+8613912345678";

async fn next_event(events: &mut Consumer) -> (String, Value) {
    let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    (
        delivery.routing_key.to_string(),
        serde_json::from_slice(&delivery.data).unwrap(),
    )
}

pub(crate) fn sent_body(provider: &Provider, n: usize) -> String {
    let request = &provider.requests()[n];
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(json) => json["body"].as_str().unwrap().to_owned(),
        Err(_) => form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.into_owned())
            .unwrap(),
    }
}

/// The public URL Twilio's signatures cover in these tests.
pub(crate) const TWILIO_PUBLIC_URL: &str = "https://postcall.example.com";
/// `provider_double::twilio_env`'s auth token.
const TWILIO_TOKEN: &str = "7d29eb4aefd49dec04f9b6c572366fa2";

/// The customer's reply `text` as Twilio posts it (message `sid`), signed for
/// [`TWILIO_PUBLIC_URL`]; the worker's status.
pub(crate) async fn twilio_reply(app: &TestApp, sid: &str, text: &str) -> u16 {
    let reply: Vec<(String, String)> = [("MessageSid", sid), ("From", PHONE), ("Body", text)]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let url = format!("{TWILIO_PUBLIC_URL}/webhooks/twilio/inbound");
    reqwest::Client::new()
        .post(format!("{}/webhooks/twilio/inbound", app.http))
        .header(
            "x-twilio-signature",
            twilio::signature::compute(TWILIO_TOKEN, &url, &reply),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&reply)
                .finish(),
        )
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub(crate) async fn sms_reply(app: &TestApp, id: &str, text: &str) -> u16 {
    sms_reply_as(app, &format!("msg_{id}"), id, text).await
}

/// A reply in a webhook delivery of its own: a provider retrying a message may re-send it
/// under a new webhook id, past the replay check, straight to the conversation.
async fn sms_reply_as(app: &TestApp, webhook_id: &str, id: &str, text: &str) -> u16 {
    sms_reply_from(app, PHONE, webhook_id, id, text).await
}

pub(crate) async fn sms_reply_from(
    app: &TestApp,
    from: &str,
    webhook_id: &str,
    id: &str,
    text: &str,
) -> u16 {
    let body = serde_json::to_string(&webhook::wire::Callback::Received {
        provider_message_id: id.to_owned(),
        from: from.to_owned(),
        to: Some("+8610690000".to_owned()),
        body: text.to_owned(),
        received_at: Some(chrono::Utc::now()),
    })
    .unwrap();
    let secret = webhook::signature::Secret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    reqwest::Client::new()
        .post(format!("{}{}", app.http, webhook::wire::CALLBACK_PATH))
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            webhook::signature::sign(&secret, webhook_id, now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub(crate) async fn start(extra: Vec<(String, String)>) -> TestApp {
    let mut env = extra;
    env.push(("POSTCALL__ELIGIBILITY__DELAY_SECONDS".into(), "0".into()));
    env.push(("POSTCALL__DISPATCH__POLL_INTERVAL_MS".into(), "200".into()));
    TestApp::spawn_env(Names::new(), &env).await
}

/// Publishes a call for `PHONE` and waits until its first question reached the provider and
/// the survey is open.
async fn open_survey(app: &TestApp, provider: &Provider, call_id: &str) {
    app.publish(&event(call_id, PHONE, minutes_ago(1))).await;
    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
}

pub(crate) async fn answers(app: &TestApp) -> Vec<(String, Value, bool)> {
    sqlx::query_as("SELECT question_id, value, late FROM answers ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_provider_end_to_end_with_a_detractor_and_a_gibberish_reply() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    let mut events = listen_for_events(&app).await;
    app.publish(&event("conv-1", PHONE, minutes_ago(1))).await;

    assert_eq!(provider.wait_for(1).await, 1);
    assert!(
        sent_body(&provider, 0).contains("您的问题解决了吗"),
        "{}",
        sent_body(&provider, 0)
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    assert_eq!(sms_reply(&app, "in-1", "是的").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);
    assert!(
        sent_body(&provider, 1).contains("满意吗"),
        "{}",
        sent_body(&provider, 1)
    );

    // Gibberish gets one re-prompt that says what is expected, then a valid answer counts.
    assert_eq!(sms_reply(&app, "in-2", "asdfgh").await, 204);
    assert_eq!(provider.wait_for(3).await, 3);
    assert!(
        sent_body(&provider, 2).contains("1到5"),
        "{}",
        sent_body(&provider, 2)
    );
    assert_eq!(sms_reply(&app, "in-3", "５分").await, 204);
    assert_eq!(provider.wait_for(4).await, 4);
    assert!(
        sent_body(&provider, 3).contains("推荐"),
        "{}",
        sent_body(&provider, 3)
    );

    // A duplicate callback of the same reply changes nothing.
    assert_eq!(sms_reply(&app, "in-3", "５分").await, 204);
    assert_eq!(sms_reply(&app, "in-4", "3").await, 204);
    assert_eq!(provider.wait_for(5).await, 5);
    assert_eq!(sms_reply(&app, "in-5", "等太久了").await, 204);
    assert_eq!(provider.wait_for(6).await, 6);
    assert!(
        sent_body(&provider, 5).contains("感谢"),
        "{}",
        sent_body(&provider, 5)
    );

    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    let stored = answers(&app).await;
    let expected = [
        ("resolved", json!(true)),
        ("satisfaction", json!(5)),
        ("recommend", json!(3)),
        ("comment", json!("等太久了")),
    ];
    assert_eq!(stored.len(), 4, "{stored:?}");
    for ((q, v, late), (eq, ev)) in stored.iter().zip(expected) {
        assert_eq!((q.as_str(), v, *late), (eq, &ev, false));
    }

    let (key, detractor) = next_event(&mut events).await;
    assert_eq!(key, "survey.detractor");
    assert_eq!(detractor["reasons"], json!(["nps"]));
    assert_eq!(detractor["call_id"], "conv-1");
    assert_eq!(detractor["agent_id"], "agent-7");
    assert_eq!(detractor["queue"], "payment");
    assert_eq!(detractor["customer_phone"], PHONE);
    let (key, completed) = next_event(&mut events).await;
    assert_eq!(key, "survey.completed");
    assert_eq!(completed["answers"].as_array().unwrap().len(), 4);
    assert_eq!(
        completed["answers"][0],
        json!({"question_id": "resolved", "value": true})
    );

    // What the worker wrote reaches the scores: one sent survey, its answers, its segments.
    // The thank-you may still be on its way out: its segments count once it is sent, so the
    // scores are compared only when no message is left to send.
    let scores = scores_after_a_run(&app, &[], "group_by=agent").await;
    let segments: i64 = app
        .count("SELECT sum(segments) FROM messages WHERE status IN ('queued', 'sent', 'delivered')")
        .await;
    let agent = &scores["groups"][0];
    assert_eq!(agent["key"], json!({"agent_id": "agent-7"}), "{scores}");
    assert_eq!(
        (&agent["sent"], &agent["responses"], &agent["sms_segments"]),
        (&json!(1), &json!(1), &json!(segments))
    );
    assert_eq!(agent["csat"]["satisfied"], 1);
    assert_eq!(agent["nps"]["detractors"], 1);
    assert_eq!(agent["nps"]["score"], -100.0);
    assert_eq!(agent["fcr"]["yes"], 1);
}

/// Replies are decided without a lock and written only if the survey is still as read:
/// racing replies must each count once and move the survey one question each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_replies_count_once_each_and_move_the_survey_in_turn() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    open_survey(&app, &provider, "conv-race").await;

    // The same message five times at once, each in a delivery of its own.
    let copies = (0..5).map(|n| {
        let app = &app;
        async move { sms_reply_as(app, &format!("msg_copy{n}"), "in-same", "1").await }
    });
    let statuses = futures_util::future::join_all(copies).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM inbound_messages").await, 1);
    assert_eq!(
        answers(&app).await,
        vec![("resolved".to_owned(), json!(true), false)]
    );

    // Two different replies at once: each a valid answer to question 2 or 3, whichever
    // order they are taken in, so both must count, one question each.
    let (a, b) = tokio::join!(sms_reply(&app, "in-x", "4"), sms_reply(&app, "in-y", "5"));
    assert_eq!((a, b), (204, 204));
    let recorded: Vec<String> = answers(&app).await.into_iter().map(|a| a.0).collect();
    assert_eq!(recorded, ["resolved", "satisfaction", "recommend"]);
    assert_eq!(
        app.count("SELECT count(*) FROM surveys WHERE state = 'open' AND question_index = 3")
            .await,
        1
    );
    // Question 1, then one next question per answer.
    assert_eq!(provider.wait_for(4).await, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(provider.count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_mid_survey_confirms_once_and_sends_nothing_after() {
    stop_mid_survey("退订").await;
}

/// A customer who answered the first question sends `stop` (a keyword, or a stop in words):
/// the survey ends opted out, exactly one confirmation goes out, the stop is not an answer,
/// `survey.completed` is published, and nothing follows — not to a further reply, not for the
/// phone's next call.
async fn stop_mid_survey(stop: &str) {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    let mut events = listen_for_events(&app).await;
    open_survey(&app, &provider, "conv-stop").await;
    assert_eq!(sms_reply(&app, "in-1", "1").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);

    // The satisfaction question is pending.
    assert_eq!(sms_reply(&app, "in-2", stop).await, 204);
    assert_eq!(provider.wait_for(3).await, 3);
    assert!(
        sent_body(&provider, 2).contains("已退订"),
        "{stop}: {}",
        sent_body(&provider, 2)
    );
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'opted_out'", 1)
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM opt_outs WHERE customer_phone = '{PHONE}'"
        ))
        .await,
        1
    );
    let outcome: String = sqlx::query_scalar(
        "SELECT outcome FROM inbound_messages WHERE provider_message_id = 'in-2'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(outcome, "keyword", "{stop}");
    assert_eq!(
        answers(&app).await,
        vec![("resolved".to_owned(), json!(true), false)],
        "{stop}: the stop is not recorded as an answer"
    );
    let (key, _) = next_event(&mut events).await;
    assert_eq!(key, "survey.completed");

    assert_eq!(sms_reply(&app, "in-3", "5").await, 204);
    app.publish(&event("conv-after-stop", PHONE, minutes_ago(1)))
        .await;
    app.wait_for_count(
        "SELECT count(*) FROM calls WHERE call_id = 'conv-after-stop' AND decision = 'opted_out'",
        1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        provider.count(),
        3,
        "{stop}: one confirmation, no further question"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM messages
              WHERE to_phone = '{PHONE}' AND purpose = 'opt_out_confirmation'"
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_replies_are_verified_answered_with_twiml_and_advance_the_survey() {
    let provider =
        Provider::answering(|n| crate::provider_double::twilio_created(&format!("SM{n:032}")))
            .await;
    let mut env = twilio_env(&provider.uri());
    env.push((
        "POSTCALL__HTTP__PUBLIC_URL".into(),
        TWILIO_PUBLIC_URL.into(),
    ));
    let app = start(env).await;
    let mut events = listen_for_events(&app).await;
    app.publish(&event("conv-tw", PHONE, minutes_ago(1))).await;
    assert_eq!(provider.wait_for(1).await, 1);
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    let params = [
        ("MessageSid", "SMin1"),
        ("From", PHONE),
        ("To", "+15005550006"),
        ("Body", "2"),
    ];
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let url = &format!("{TWILIO_PUBLIC_URL}/webhooks/twilio/inbound");
    let post = |signature: String| {
        reqwest::Client::new()
            .post(format!("{}/webhooks/twilio/inbound", app.http))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish(),
            )
            .send()
    };
    let forged = post(twilio::signature::compute("not-the-token", url, &owned))
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        app.count("SELECT count(*) FROM inbound_messages").await,
        0,
        "a forged reply changed something"
    );

    let response = post(twilio::signature::compute(TWILIO_TOKEN, url, &owned))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml");
    assert!(response.text().await.unwrap().contains("<Response/>"));
    assert_eq!(provider.wait_for(2).await, 2);
    assert!(sent_body(&provider, 1).contains("满意吗"));
    assert_eq!(
        answers(&app).await[0],
        ("resolved".to_owned(), json!(false), false)
    );

    // On to the end: each signed reply brings the next question, then the thank-you.
    for (n, (sid, text)) in [("SMin2", "1"), ("SMin3", "10/10"), ("SMin4", "谢谢")]
        .into_iter()
        .enumerate()
    {
        assert_eq!(twilio_reply(&app, sid, text).await, 200);
        assert_eq!(provider.wait_for(n + 3).await, n + 3);
    }
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'completed'", 1)
        .await;
    // One detractor event per reply that makes the customer one: "2" (not solved), then "1".
    let (key, first) = next_event(&mut events).await;
    assert_eq!(
        (key.as_str(), &first["reasons"]),
        ("survey.detractor", &json!(["fcr"]))
    );
    let (key, second) = next_event(&mut events).await;
    assert_eq!(
        (key.as_str(), &second["reasons"]),
        ("survey.detractor", &json!(["csat"]))
    );
    let (key, completed) = next_event(&mut events).await;
    assert_eq!(key, "survey.completed");
    assert_eq!(completed["answers"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_survey_expires_and_a_reply_after_that_is_late() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    let mut events = listen_for_events(&app).await;
    app.publish(&event("conv-expire", PHONE, minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;
    assert_eq!(sms_reply(&app, "in-1", "1").await, 204);
    assert_eq!(provider.wait_for(2).await, 2);

    // A day passes without a reply.
    sqlx::query("UPDATE surveys SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'expired'", 1)
        .await;
    let (key, completed) = next_event(&mut events).await;
    assert_eq!(key, "survey.completed");
    assert_eq!(
        completed["answers"],
        json!([{"question_id": "resolved", "value": true}]),
        "answers given count"
    );

    assert_eq!(sms_reply(&app, "in-2", "4").await, 204);
    let stored = answers(&app).await;
    assert_eq!(
        stored.last().unwrap(),
        &("satisfaction".to_owned(), json!(4), true),
        "stored, marked late"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(provider.count(), 2, "a late reply gets no answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_without_a_survey_gets_an_answer_only_to_a_keyword() {
    let provider = Provider::answering(|n| webhook_accepted(&format!("gw-{n}"))).await;
    let app = start(webhook_env(&provider.uri())).await;
    assert_eq!(sms_reply(&app, "in-1", "hello?").await, 204);
    assert_eq!(sms_reply(&app, "in-2", "帮助").await, 204);
    assert_eq!(provider.wait_for(1).await, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(provider.count(), 1);
    let help = sent_body(&provider, 0);
    assert!(
        help.starts_with("【小蓝钱包】") && help.contains("95188"),
        "{help}"
    );
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM inbound_messages ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(outcomes, ["unsolicited", "keyword"]);
}
