//! The dashboard's feedback (用户反馈) and follow-up (售后跟踪) views in headless Chromium, on
//! surveys answered through the real reply paths: what customers wrote, shown as text in
//! both languages and paged with "More", words written with an answer included; the callers not called back, longest waiting first;
//! a case moved from the page as the API then shows it, and a refused move's reason.

use chrono::{Duration, Utc};
use postcall::domain::phone::mask;
use serde_json::{Value, json};

use crate::{
    dashboard::browser::{Driver, Page},
    feedback_month::{AGENTS, Month, Planned, QUEUES, TOKEN, get_json, spawn},
    helpers::TestApp,
};

/// Written as a customer might, markup included: it must reach the page as text.
const MARKUP: &str = "<img src=x onerror=alert(1)> 还是扣款失败 <b>two</b>";

/// A score with words after it: stored as 4, the words only in the raw reply.
const REMARK: &str = "4分 等了很久";

/// 36 calls ended over the last six hours, each kind in turn: a comment only (one with
/// markup), a detractor on all three questions, a satisfied customer with nothing to say
/// (the first of them with words after a score, a remark).
fn recent_month() -> Month {
    let now = Utc::now();
    let surveys = (0..36)
        .map(|i| {
            let replies: &[&str] = match i % 3 {
                0 if i == 0 => &["是", "5", "10", MARKUP],
                0 => &["是", "4", "9", "客服态度很好，谢谢"],
                1 => &["否", "2", "3"],
                _ if i == 2 => &["是", REMARK, "9"],
                _ => &["是", "4", "9"],
            };
            Planned {
                call_id: format!("dv-{i:02}"),
                phone: format!("+8613912{i:05}"),
                agent: AGENTS[(i / 3) % AGENTS.len()],
                queue: QUEUES[i % QUEUES.len()],
                ended_at: now - Duration::minutes(10 * (i as i64 + 1)),
                replies: replies.iter().map(|r| (*r).to_owned()).collect(),
            }
        })
        .collect();
    Month { surveys }
}

/// A worker with the month answered, and the dashboard open on it with the token, in English.
async fn open(driver: &Driver) -> (TestApp, crate::provider_double::Provider, Month, Page) {
    let (app, provider) = spawn().await;
    let month = recent_month();
    month.insert_and_reply(&app).await;
    // The scores of those answers too, for the agents table.
    let settings = app.names.settings(&[]);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    let page = driver.open(&format!("{}/dashboard", app.http), &[]).await;
    page.wait_for_state("auth").await;
    page.type_into("#token", TOKEN).await;
    page.click("#token-submit").await;
    page.wait_for_state("ready").await;
    page.click("#lang-en").await;
    (app, provider, month, page)
}

const CALLS: &str = "return [...document.querySelectorAll(arguments[0])].map(e => e.dataset.call)";

async fn calls(page: &Page, css: &str) -> Vec<String> {
    serde_json::from_value(page.js(CALLS, json!(css)).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feedback_view_shows_what_customers_said_as_text_in_both_languages() {
    let driver = Driver::start().await;
    let (_app, _provider, month, page) = open(&driver).await;
    let feedback: Vec<&Planned> = month.surveys.iter().filter(|s| s.is_feedback()).collect();
    assert_eq!(feedback.len(), 25);
    // Newest call first; the month was made newest first.
    let newest: Vec<String> = feedback.iter().map(|s| s.call_id.clone()).collect();

    assert_eq!(page.text("[data-card='feedback'] .card-value").await, "25");
    assert_eq!(calls(&page, "#fb-list article").await, newest[..20]);
    page.click("#fb-more").await;
    page.wait_for("#feedback[data-state='ready'] #fb-more[hidden]")
        .await;
    assert_eq!(calls(&page, "#fb-list article").await, newest);

    // The markup arrives as the customer wrote it, and as text: no element was made of it.
    let first = "#fb-list article[data-call='dv-00']";
    assert_eq!(page.text(&format!("{first} .fb-comment")).await, MARKUP);
    assert_eq!(page.count("#fb-list img, #fb-list b").await, 0);
    // The phone as the API masks it, never whole.
    for s in &feedback {
        let item = format!("#fb-list article[data-call='{}']", s.call_id);
        assert_eq!(
            page.text(&format!("{item} .fb-phone")).await,
            mask(&s.phone)
        );
    }
    let all = page.text("#fb-list").await;
    assert!(feedback.iter().all(|s| !all.contains(&s.phone)));
    // The words written with the score are shown, beside the answer they came with.
    let remarked = "#fb-list article[data-call='dv-02']";
    assert_eq!(
        page.texts(&format!("{remarked} .fb-remark")).await,
        [format!("satisfaction: 4 {REMARK}")]
    );
    assert_eq!(
        page.text(&format!("{remarked} .fb-remark-text")).await,
        REMARK
    );
    assert_eq!(page.count("#fb-list .fb-remark").await, 1);
    let detractor = "#fb-list article[data-call='dv-01']";
    assert_eq!(
        page.texts(&format!("{detractor} .chip.reason")).await,
        ["not resolved", "dissatisfied", "would not recommend"]
    );
    assert_eq!(
        page.text(&format!("{detractor} .chip.state")).await,
        "Not called back"
    );

    page.click("#lang-zh").await;
    assert_eq!(page.text("#feedback-title").await, "用户反馈");
    assert_eq!(
        page.texts(&format!("{detractor} .chip.reason")).await,
        ["问题未解决", "不满意", "不愿推荐"]
    );
    assert_eq!(
        page.text(&format!("{detractor} .chip.state")).await,
        "未回访"
    );
    assert_eq!(page.text(&format!("{first} .chip.state")).await, "无需回访");
    assert_eq!(
        page.texts("#fb-kind option").await,
        ["全部", "有留言", "不满意回答", "有附言"]
    );

    // What customers said about one agent: that agent's items only, newest first.
    let agent = AGENTS[1];
    page.type_into("#fb-agent", agent).await;
    page.click("#fb-apply").await;
    page.wait_for("#feedback[data-state='ready']").await;
    let theirs: Vec<String> = feedback
        .iter()
        .filter(|s| s.agent == agent)
        .map(|s| s.call_id.clone())
        .collect();
    assert_eq!(calls(&page, "#fb-list article").await, theirs);
    let agents = page.texts("#fb-list .fb-agent").await;
    assert!(agents.iter().all(|a| a == agent), "{agents:?}");

    // And from the agents table: one click on a name shows that agent's feedback.
    page.click(&format!(
        "#agent-table tr[data-key='{}'] .to-feedback",
        AGENTS[2]
    ))
    .await;
    page.wait_for("#feedback[data-state='ready']").await;
    let theirs: Vec<String> = feedback
        .iter()
        .filter(|s| s.agent == AGENTS[2])
        .map(|s| s.call_id.clone())
        .collect();
    assert!(!theirs.is_empty());
    assert_eq!(calls(&page, "#fb-list article").await, theirs);

    // Remarks only, of anyone: the one survey whose words came with an answer.
    page.click("#lang-en").await;
    page.js(
        "document.getElementById('fb-agent').value = '';
         document.getElementById('fb-kind').value = 'remark'",
        Value::Null,
    )
    .await;
    page.click("#fb-apply").await;
    page.wait_for("#feedback[data-state='ready']").await;
    assert_eq!(calls(&page, "#fb-list article").await, ["dv-02"]);
    assert_eq!(
        page.texts("#fb-kind option:checked").await,
        ["With remarks"]
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_moved_from_the_follow_up_view_and_a_refusal_says_why() {
    let driver = Driver::start().await;
    let (app, _provider, _month, page) = open(&driver).await;
    // The open cases, longest waiting first, as the database orders them.
    let waiting: Vec<String> = sqlx::query_scalar(
        "SELECT call_id FROM follow_up_cases WHERE state = 'open' ORDER BY detractor_at, survey_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(waiting.len(), 12);
    assert_eq!(calls(&page, "#fu-table tbody tr").await, waiting);
    for hours in page.texts("#fu-table .fu-waited").await {
        assert!(hours.ends_with(" h") && hours.starts_with("0."), "{hours}");
    }
    let row = |call: &str| format!("#fu-table tr[data-call='{call}']");

    // Without a name, nothing moves: every move records who made it.
    let (first, second) = (&waiting[0], &waiting[1]);
    page.js("document.getElementById('fu-by').value = ''", Value::Null)
        .await;
    page.click(&format!("{} button[data-to='contacted']", row(first)))
        .await;
    let message = page.text(&format!("{} .fu-message", row(first))).await;
    assert!(message.contains("Enter your name"), "{message}");
    let case = get_json(&app, &format!("/api/v1/cases/{first}")).await;
    assert_eq!(case["state"], "open");

    page.type_into("#fu-by", "Wang Li").await;
    page.type_into(
        &format!("{} .fu-note", row(first)),
        "called back, refund promised",
    )
    .await;
    page.click(&format!("{} button[data-to='contacted']", row(first)))
        .await;
    page.wait_for(&format!("{} .fu-message[data-kind='ok']", row(first)))
        .await;
    assert_eq!(
        page.text(&format!("{} .fu-message", row(first))).await,
        "Moved to Contacted."
    );
    let case = get_json(&app, &format!("/api/v1/cases/{first}")).await;
    assert_eq!(case["state"], "contacted", "{case:#}");
    let moves = case["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 1);
    assert_eq!(
        (&moves[0]["by"], &moves[0]["note"]),
        (&json!("Wang Li"), &json!("called back, refund promised"))
    );
    // The row now offers only what the case may do next.
    assert_eq!(
        page.texts(&format!("{} button.move", row(first))).await,
        ["Resolved"]
    );
    let remembered = page
        .js(
            "return localStorage.getItem('postcall.dashboard.by')",
            Value::Null,
        )
        .await;
    assert_eq!(remembered, "Wang Li");

    // Someone else reached the second caller meanwhile: the page's stale "unreachable" is
    // refused with the server's reason, and the case stays as it was.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/cases/{second}/moves", app.http))
        .bearer_auth(TOKEN)
        .json(&json!({"to": "contacted", "by": "zhao.min"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    page.click(&format!("{} button[data-to='unreachable']", row(second)))
        .await;
    page.wait_for(&format!("{} .fu-message[data-kind='error']", row(second)))
        .await;
    let refusal = page.text(&format!("{} .fu-message", row(second))).await;
    assert!(
        refusal.starts_with("Not moved:") && refusal.contains("already reached"),
        "{refusal}"
    );
    let case = get_json(&app, &format!("/api/v1/cases/{second}")).await;
    assert_eq!(case["state"], "contacted");
    assert_eq!(case["moves"].as_array().unwrap().len(), 1);

    // Reloaded, the open list no longer holds either; in Chinese, as the hotline says it.
    page.click("#fu-apply").await;
    page.wait_for("#follow-up[data-state='ready']").await;
    assert_eq!(calls(&page, "#fu-table tbody tr").await, waiting[2..]);
    page.click("#lang-zh").await;
    assert_eq!(page.text("#follow-up-title").await, "售后跟踪");
    assert_eq!(
        page.text(&format!("{} .chip.state", row(&waiting[2])))
            .await,
        "未回访"
    );
    assert_eq!(
        page.texts(&format!("{} button.move", row(&waiting[2])))
            .await,
        ["已联系", "联系不上"]
    );
    // For a reviewer: the feedback and follow-up views as a person sees them.
    page.js(
        "document.getElementById('feedback').scrollIntoView()",
        Value::Null,
    )
    .await;
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/dashboard-views-screenshot.png");
    page.screenshot(&shot).await;
    page.close().await;
}
