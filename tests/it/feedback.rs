//! `GET /api/v1/feedback` over a generated month answered through the real reply paths:
//! pages that list every item once while new surveys arrive between them, the filters
//! against a count made here, the item's contents, answers with a remark, and masked
//! phones.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use postcall::domain::phone::mask;
use serde_json::{Value, json};

use crate::feedback_month::{Month, Planned, all_feedback, get, get_json, spawn};

fn calls(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["call_id"].as_str().unwrap().to_owned())
        .collect()
}

fn expected(month: &Month, keep: impl Fn(&Planned) -> bool) -> BTreeSet<&str> {
    month
        .surveys
        .iter()
        .filter(|s| s.is_feedback() && keep(s))
        .map(|s| s.call_id.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_list_every_item_once_while_new_surveys_arrive() {
    let (app, _provider) = spawn().await;
    let month = Month::generate(60, 10, 1803);
    month.insert_and_reply(&app).await;
    let before = expected(&month, |_| true);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut batch = 11;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = get_json(&app, &format!("/api/v1/feedback?limit=7{after}")).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        // Newest call first, ties broken the same way on every page.
        let ended: Vec<&str> = items
            .iter()
            .map(|i| i["ended_at"].as_str().unwrap())
            .collect();
        assert!(ended.is_sorted_by(|a, b| a >= b), "{ended:?}");
        seen.extend(calls(items));
        // New surveys between pages, their calls anywhere in the month: before the cursor
        // and after it.
        Month::generate(3, batch, u64::from(batch))
            .insert_and_reply(&app)
            .await;
        batch += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let distinct: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
    assert_eq!(distinct.len(), seen.len(), "an item came twice: {seen:?}");
    let missing: Vec<&&str> = before.difference(&distinct).collect();
    assert!(missing.is_empty(), "never listed: {missing:?}");
    assert!(batch > 12, "surveys arrived between pages");
}

/// Which of the month's surveys a query should list.
type Keep = Box<dyn Fn(&Planned) -> bool>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_what_the_month_says() {
    let (app, _provider) = spawn().await;
    let mut month = Month::generate(60, 20, 2611);
    // Detractors on both sides of the week's first and last local midnight (UTC+8).
    for (s, ended_at) in month.surveys.iter_mut().zip([
        "2026-11-07T16:00:00Z",
        "2026-11-07T15:59:59Z",
        "2026-11-14T15:59:59Z",
        "2026-11-14T16:00:00Z",
    ]) {
        s.ended_at = ended_at.parse().unwrap();
        s.replies = vec!["否".into()];
    }
    // Scores with words after them: a remark alone, and one on a detractor (written under
    // the lock, with its event).
    month.surveys[4].replies = vec!["是".into(), "4分 等了很久".into(), "9".into()];
    month.surveys[5].replies = vec!["是".into(), "2分 等了太久".into()];
    month.insert_and_reply(&app).await;
    let week = |s: &Planned| {
        (NaiveDate::from_ymd_opt(2026, 11, 8).unwrap()
            ..=NaiveDate::from_ymd_opt(2026, 11, 14).unwrap())
            .contains(&s.day())
    };
    let cases: [(&str, Keep); 8] = [
        ("", Box::new(|_| true)),
        ("kind=comment", Box::new(|s| s.comment().is_some())),
        ("kind=detractor", Box::new(|s| !s.reasons().is_empty())),
        ("kind=remark", Box::new(Planned::remark)),
        ("agent=a-li", Box::new(|s| s.agent == "a-li")),
        (
            "queue=refund&kind=detractor",
            Box::new(|s| s.queue == "refund" && !s.reasons().is_empty()),
        ),
        ("from=2026-11-08&to=2026-11-14", Box::new(week)),
        ("from=2026-11-14&to=2026-11-08", Box::new(|_| false)),
    ];
    for (query, keep) in cases {
        let got = calls(&all_feedback(&app, query).await);
        let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        let want = expected(&month, keep);
        assert!(
            !want.is_empty() || query.contains("2026-11-14&to"),
            "{query}: an empty expectation tests nothing"
        );
        assert_eq!(got, want, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_item_says_what_the_customer_said_with_the_phone_masked() {
    let (app, _provider) = spawn().await;
    let month = Month::generate(30, 30, 77);
    month.insert_and_reply(&app).await;
    let planned = month.by_call();

    let response = get(&app, "/api/v1/feedback?limit=200").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for s in &month.surveys {
        assert!(!text.contains(&s.phone), "{} appears whole", s.phone);
    }
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["next_cursor"], Value::Null);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), expected(&month, |_| true).len());
    for item in items {
        let s = planned[item["call_id"].as_str().unwrap()];
        assert_eq!(item["customer_phone"], mask(&s.phone));
        assert_eq!(item["agent_id"], s.agent);
        assert_eq!(item["queue"], s.queue);
        assert_eq!(item["day"], s.day().to_string());
        assert_eq!(item["comment"], json!(s.comment()));
        assert_eq!(item["detractor_reasons"], json!(s.reasons()));
        let raws: Vec<&str> = item["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["raw"].as_str().unwrap())
            .collect();
        assert_eq!(raws, s.replies, "{item:#}");
        match s.reasons().is_empty() {
            true => assert_eq!(item["follow_up"], Value::Null),
            false => assert_eq!(item["follow_up"]["state"], "open"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_with_words_around_it_is_listed_with_what_the_customer_wrote() {
    let (app, _provider) = spawn().await;
    let mut month = Month::generate(3, 40, 18);
    for (s, replies) in month.surveys.iter_mut().zip([
        // Satisfied enough, nothing to comment: only the remark says it.
        &["是", "4分 等了很久", "9"][..],
        &["是", "4", "9"],
        &["是", "5", "10", "很好"],
    ]) {
        s.replies = replies.iter().map(|r| (*r).to_owned()).collect();
    }
    month.insert_and_reply(&app).await;
    let [remarked, bare, commented] = [0, 1, 2].map(|i| month.surveys[i].call_id.as_str());

    for (query, want) in [
        ("", vec![remarked, commented]),
        ("kind=remark", vec![remarked]),
        ("kind=comment", vec![commented]),
        ("kind=detractor", vec![]),
    ] {
        let got = calls(&all_feedback(&app, query).await);
        let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        assert_eq!(got, want.into_iter().collect(), "{query}");
    }
    assert!(!calls(&all_feedback(&app, "").await).contains(&bare.to_owned()));

    let items = all_feedback(&app, "kind=remark").await;
    let [item] = items.as_slice() else {
        panic!("{items:#?}")
    };
    assert_eq!(item["comment"], Value::Null);
    assert_eq!(item["detractor_reasons"], json!([]));
    assert_eq!(item["follow_up"], Value::Null);
    let answers: Vec<(&Value, &Value, &Value)> = item["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (&a["value"], &a["raw"], &a["remark"]))
        .collect();
    assert_eq!(
        answers,
        [
            (&json!(true), &json!("是"), &json!(false)),
            (&json!(4), &json!("4分 等了很久"), &json!(true)),
            (&json!(9), &json!("9"), &json!(false)),
        ]
    );
    // The commented survey's bare answers say no remark either.
    let items = all_feedback(&app, "kind=comment").await;
    let flags: Vec<&Value> = items[0]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["remark"])
        .collect();
    assert_eq!(flags, [&json!(false); 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_parameter_is_a_400_naming_it() {
    let (app, _provider) = spawn().await;
    let mut refusals = BTreeMap::new();
    for query in [
        "limit=201",
        "limit=0",
        "kind=praise",
        "from=2026-1-1",
        "cursor=abc",
    ] {
        let response = get(&app, &format!("/api/v1/feedback?{query}")).await;
        refusals.insert(
            query,
            (response.status().as_u16(), response.text().await.unwrap()),
        );
    }
    for (query, (status, body)) in refusals {
        let name = query.split('=').next().unwrap();
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(&format!("{name}:")), "{query}: {body}");
    }
}
