//! Follow-up cases (售后跟踪) through the real reply paths and the API: one case per detractor
//! survey however many detractor answers it gives, moves made as a QA lead makes them and
//! counted back, a forbidden move a 409 that changes nothing, nothing without the token; the
//! worklist of cases by state, longest waiting first.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use postcall::domain::phone::mask;
use serde_json::{Value, json};

use crate::{
    feedback_month::{Month, Planned, TOKEN, all_feedback, get, get_json, spawn},
    helpers::TestApp,
};

async fn post_move(app: &TestApp, call_id: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/cases/{call_id}/moves", app.http))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn moved(app: &TestApp, call_id: &str, to: &str) -> Value {
    let body = json!({"to": to, "by": "qa-lead", "note": format!("{to} by phone")});
    let response = post_move(app, call_id, &body).await;
    assert_eq!(response.status(), 200, "{call_id} → {to}");
    let case: Value = response.json().await.unwrap();
    assert_eq!(case["state"], to, "{case:#}");
    case
}

/// What the database holds of a case: its row and its moves, to see a refusal changed nothing.
async fn stored(app: &TestApp, call_id: &str) -> (String, String, i64) {
    sqlx::query_as(
        "SELECT k.state, k.updated_at::text, (SELECT count(*) FROM follow_up_moves m WHERE m.survey_id = k.survey_id)
           FROM follow_up_cases k WHERE k.call_id = $1",
    )
    .bind(call_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The states the month's cases are moved to: by index, left open, contacted, contacted and
/// then resolved, or unreachable.
fn plan(i: usize) -> &'static [&'static str] {
    match i % 4 {
        0 => &[],
        1 => &["contacted"],
        2 => &["contacted", "resolved"],
        _ => &["unreachable"],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_detractors_gets_one_case_each_and_the_moves_count_as_made() {
    let (app, _provider) = spawn().await;
    let month = Month::generate(80, 1, 18);
    month.insert_and_reply(&app).await;
    let detractors: Vec<&Planned> = month.detractors().collect();
    assert!(
        detractors.iter().any(|s| s.reasons().len() >= 2),
        "the month must hold a survey with two detractor answers"
    );

    // One case per detractor survey, with every reason in the order given.
    let cases: BTreeMap<String, Vec<String>> =
        sqlx::query_as("SELECT call_id, reasons FROM follow_up_cases")
            .fetch_all(&app.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let expected: BTreeMap<String, Vec<String>> = detractors
        .iter()
        .map(|s| {
            let reasons = s.reasons().into_iter().map(str::to_owned).collect();
            (s.call_id.clone(), reasons)
        })
        .collect();
    assert_eq!(cases, expected);
    // survey.detractor still goes out as before: one per reply that gave a reason.
    let events = app
        .count("SELECT count(*) FROM outbox WHERE routing_key = 'survey.detractor'")
        .await;
    let answers: usize = detractors.iter().map(|s| s.reasons().len()).sum();
    assert_eq!(events, answers as i64);

    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in detractors.iter().enumerate() {
        for to in plan(i) {
            moved(&app, &s.call_id, to).await;
        }
        *want
            .entry(plan(i).last().copied().unwrap_or("open"))
            .or_default() += 1;
    }

    // Counted back from the feedback list, as a QA lead's client would.
    let items = all_feedback(&app, "kind=detractor").await;
    assert_eq!(items.len(), detractors.len());
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &items {
        let state = item["follow_up"]["state"].as_str().unwrap();
        *got.entry(state).or_default() += 1;
        let reached = matches!(state, "contacted" | "resolved");
        assert_eq!(
            !item["follow_up"]["contacted_at"].is_null(),
            reached,
            "{item:#}"
        );
    }
    assert_eq!(got, want);

    // The scores carry them per group, counted again here: per agent and in total.
    let settings = app.names.settings(&[]);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    let times: BTreeMap<String, f64> = sqlx::query_as::<_, (String, f64)>(
        "SELECT call_id, extract(epoch FROM contacted_at - detractor_at)::float8
           FROM follow_up_cases WHERE contacted_at IS NOT NULL",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let figures = |keep: &dyn Fn(&Planned) -> bool| {
        let mine: Vec<(usize, &&Planned)> = detractors
            .iter()
            .enumerate()
            .filter(|(_, s)| keep(s))
            .collect();
        let reached = |i: usize| plan(i).contains(&"contacted");
        let mut hours: Vec<f64> = mine
            .iter()
            .filter(|(i, _)| reached(*i))
            .map(|(_, s)| times[&s.call_id] / 3600.0)
            .collect();
        json!({
            "detractors": mine.len(),
            "contacted": mine.iter().filter(|(i, _)| reached(*i)).count(),
            "resolved": mine.iter().filter(|(i, _)| plan(*i).contains(&"resolved")).count(),
            "median_hours_to_contact": median(&mut hours),
        })
    };
    let range = "from=2026-11-01&to=2026-11-30";
    let by_agent = get_json(&app, &format!("/api/v1/scores?{range}&group_by=agent")).await;
    let groups = by_agent["groups"].as_array().unwrap();
    assert_eq!(groups.len(), crate::feedback_month::AGENTS.len());
    for group in groups {
        let agent = group["key"]["agent_id"].as_str().unwrap();
        assert_close(&group["follow_up"], &figures(&|s| s.agent == agent), agent);
    }
    // Per local day too: the cases count on their call's day, as the cells do.
    let by_day = get_json(&app, &format!("/api/v1/scores?{range}&group_by=day")).await;
    for group in by_day["groups"].as_array().unwrap() {
        let day = group["key"]["day"].as_str().unwrap();
        let want = figures(&|s| s.day().to_string() == day);
        assert_close(&group["follow_up"], &want, day);
    }
    assert!(figures(&|_| true)["median_hours_to_contact"].is_f64());
    let totals = get_json(&app, &format!("/api/v1/scores?{range}")).await;
    assert_close(
        &totals["groups"][0]["follow_up"],
        &figures(&|_| true),
        "totals",
    );

    // A resolved case keeps its history: who, when, and the note of each move.
    let resolved = detractors.iter().enumerate().find(|(i, _)| i % 4 == 2);
    let (_, s) = resolved.expect("the month has at least three detractors");
    let case = get_json(&app, &format!("/api/v1/cases/{}", s.call_id)).await;
    let moves: Vec<(&str, &str, &str)> = case["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(m["at"].is_string(), "{m}");
            (
                m["from"].as_str().unwrap(),
                m["to"].as_str().unwrap(),
                m["note"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("open", "contacted", "contacted by phone"),
            ("contacted", "resolved", "resolved by phone")
        ]
    );
    assert_eq!(case["next"], json!([]));
}

/// The median as `percentile_cont(0.5)` takes it: the middle value, or the mean of the two
/// middle ones; none of nothing.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Equal counts, and medians equal to within floating-point noise.
fn assert_close(got: &Value, want: &Value, at: &str) {
    for count in ["detractors", "contacted", "resolved"] {
        assert_eq!(got[count], want[count], "{at} {count}: {got} vs {want}");
    }
    let (g, w) = (
        got["median_hours_to_contact"].as_f64(),
        want["median_hours_to_contact"].as_f64(),
    );
    match (g, w) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{at}: {g} vs {w}"),
        _ => assert_eq!(g, w, "{at}"),
    }
}

/// One detractor survey answered "否" (not resolved): its case is open.
async fn one_case(app: &TestApp) -> String {
    let mut month = Month::generate(1, 2, 7);
    month.surveys[0].replies = vec!["否".into()];
    month.insert_and_reply(app).await;
    month.surveys[0].call_id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_move_is_409_says_why_and_changes_nothing() {
    let (app, _provider) = spawn().await;
    let call = one_case(&app).await;
    let before = stored(&app, &call).await;
    assert_eq!(before.0, "open");

    let response = post_move(&app, &call, &json!({"to": "resolved", "by": "qa-lead"})).await;
    assert_eq!(response.status(), 409);
    let why = response.text().await.unwrap();
    assert!(why.contains("move it to contacted first"), "{why}");
    assert_eq!(stored(&app, &call).await, before);

    // Bad bodies are 400s naming what is wrong, and change nothing either.
    for (body, names) in [
        ("{", "body"),
        (r#"{"to": "closed", "by": "qa-lead"}"#, "to"),
        (r#"{"to": "contacted"}"#, "by"),
        (r#"{"to": "contacted", "by": " "}"#, "by"),
        (r#"{"to": "contacted", "by": "x", "extra": 1}"#, "extra"),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/cases/{call}/moves", app.http))
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let text = response.text().await.unwrap();
        assert!(text.contains(names), "{body}: {text}");
    }
    assert_eq!(stored(&app, &call).await, before);

    // Resolved is final.
    moved(&app, &call, "contacted").await;
    moved(&app, &call, "resolved").await;
    let after = stored(&app, &call).await;
    let response = post_move(&app, &call, &json!({"to": "contacted", "by": "qa-lead"})).await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("final"));
    assert_eq!(stored(&app, &call).await, after);

    // A call with no case, known or not.
    let response = post_move(&app, "no-such-call", &json!({"to": "contacted", "by": "x"})).await;
    assert_eq!(response.status(), 404);
    assert_eq!(get(&app, "/api/v1/cases/no-such-call").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_token_nothing_is_read_or_moved() {
    let (app, _provider) = spawn().await;
    let call = one_case(&app).await;
    let before = stored(&app, &call).await;
    let client = reqwest::Client::new();
    for token in [None, Some("not-the-token")] {
        let with = |r: reqwest::RequestBuilder| match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        let requests = [
            with(client.get(format!("{}/api/v1/feedback", app.http))),
            with(client.get(format!("{}/api/v1/cases/{call}", app.http))),
            with(
                client
                    .post(format!("{}/api/v1/cases/{call}/moves", app.http))
                    .json(&json!({"to": "contacted", "by": "intruder"})),
            ),
        ];
        for request in requests {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{token:?}");
            let body = response.text().await.unwrap();
            assert!(!body.contains(&call), "{body}");
        }
    }
    assert_eq!(stored(&app, &call).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_at_once_on_one_case_are_judged_one_after_the_other() {
    let (app, _provider) = spawn().await;
    let call = one_case(&app).await;
    let body = json!({"to": "contacted", "by": "qa-lead"});
    let statuses: Vec<u16> = futures_util::future::join_all(
        (0..8).map(|_| async { post_move(&app, &call, &body).await.status().as_u16() }),
    )
    .await;
    let mut counted = BTreeMap::new();
    for s in statuses {
        *counted.entry(s).or_insert(0) += 1;
    }
    assert_eq!(counted, BTreeMap::from([(200, 1), (409, 7)]));
    let (state, _, moves) = stored(&app, &call).await;
    assert_eq!((state.as_str(), moves), ("contacted", 1));
}

/// A detractor answer after the survey expired is stored late and announces nothing: it
/// opens no case, and the feedback list leaves it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_detractor_answer_opens_no_case() {
    let (app, _provider) = spawn().await;
    let mut month = Month::generate(1, 3, 5);
    month.surveys[0].replies = vec!["否".into()];
    month.insert(&app).await;
    sqlx::query("UPDATE surveys SET expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    month.reply(&app).await;
    assert_eq!(
        app.count("SELECT count(*) FROM answers WHERE late").await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM follow_up_cases").await, 0);
    assert_eq!(all_feedback(&app, "").await, Vec::<Value>::new());
}

/// Every case `GET /api/v1/cases?{query}` lists, following `next_cursor` with pages of `limit`.
async fn all_cases(app: &TestApp, query: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = get_json(app, &format!("/api/v1/cases?limit={limit}&{query}{after}")).await;
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= limit);
        items.extend(page_items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

fn call_ids(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["call_id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worklist_lists_the_callers_not_called_back_longest_waiting_first() {
    let (app, _provider) = spawn().await;
    let month = Month::generate(60, 4, 77);
    month.insert_and_reply(&app).await;
    let detractors: Vec<&Planned> = month.detractors().collect();
    assert!(detractors.len() >= 8, "{} detractors", detractors.len());
    for (i, s) in detractors.iter().enumerate() {
        for to in plan(i) {
            moved(&app, &s.call_id, to).await;
        }
    }
    let state_of = |i: usize| plan(i).last().copied().unwrap_or("open");
    // What the list must hold, counted from the plan, in the order the database keeps
    // (first detractor answer, then the survey).
    let order: Vec<(String, String)> = sqlx::query_as(
        "SELECT call_id, state FROM follow_up_cases ORDER BY detractor_at, survey_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let by_call = month.by_call();
    let index: BTreeMap<&str, usize> = detractors
        .iter()
        .enumerate()
        .map(|(i, s)| (s.call_id.as_str(), i))
        .collect();
    for (call, state) in &order {
        assert_eq!(state, state_of(index[call.as_str()]), "{call}");
    }
    let want = |states: &[&str]| -> Vec<&str> {
        order
            .iter()
            .filter(|(_, s)| states.contains(&s.as_str()))
            .map(|(c, _)| c.as_str())
            .collect()
    };

    let open = all_cases(&app, "state=open", 3).await;
    assert_eq!(call_ids(&open), want(&["open"]));
    for item in &open {
        let call = item["call_id"].as_str().unwrap();
        let planned = by_call[call];
        assert_eq!(item["agent_id"], planned.agent);
        assert_eq!(item["queue"], planned.queue);
        assert_eq!(item["day"], planned.day().to_string());
        assert_eq!(item["customer_phone"], mask(&planned.phone), "{item}");
        assert_eq!(item["reasons"], json!(planned.reasons()));
        assert_eq!(item["comment"], json!(planned.comment()));
        assert_eq!(item["next"], json!(["contacted", "unreachable"]));
        assert_eq!(item["last_move"], Value::Null);
        // The replies came in just now: waiting for minutes, not hours or negative.
        let hours = item["hours_waiting"].as_f64().unwrap();
        assert!((0.0..0.5).contains(&hours), "{item}");
    }
    let waiting = all_cases(&app, "state=open,unreachable", 200).await;
    assert_eq!(call_ids(&waiting), want(&["open", "unreachable"]));
    for item in waiting.iter().filter(|i| i["state"] == "unreachable") {
        assert_eq!(item["last_move"]["by"], "qa-lead", "{item}");
        assert_eq!(item["last_move"]["note"], "unreachable by phone");
        assert!(item["hours_waiting"].is_f64());
    }
    for item in all_cases(&app, "state=contacted,resolved", 4).await {
        assert!(item["hours_waiting"].is_null(), "{item}");
        assert!(item["contacted_at"].is_string(), "{item}");
    }
    assert_eq!(
        call_ids(&all_cases(&app, "", 5).await),
        want(&["open", "contacted", "resolved", "unreachable"])
    );

    // Filtered by agent and by the call's local days, as the feedback list is.
    let agent = detractors[0].agent;
    let theirs = all_cases(&app, &format!("state=open&agent={agent}"), 200).await;
    let expected: Vec<&str> = want(&["open"])
        .into_iter()
        .filter(|c| by_call[c].agent == agent)
        .collect();
    assert_eq!(call_ids(&theirs), expected);
    let early = all_cases(&app, "from=2026-11-01&to=2026-11-10", 200).await;
    let expected: Vec<&str> = want(&["open", "contacted", "resolved", "unreachable"])
        .into_iter()
        .filter(|c| by_call[c].day() <= NaiveDate::from_ymd_opt(2026, 11, 10).unwrap())
        .collect();
    assert_eq!(call_ids(&early), expected);

    // A move takes a case out of the open list at once.
    let first = want(&["open"])[0].to_owned();
    moved(&app, &first, "contacted").await;
    let open = all_cases(&app, "state=open", 200).await;
    assert!(!call_ids(&open).contains(&first.as_str()));
    assert_eq!(open.len(), want(&["open"]).len() - 1);

    // And the survey view carries the case with its moves.
    let view = get_json(&app, &format!("/api/v1/surveys/{first}")).await;
    assert_eq!(view["follow_up"]["state"], "contacted", "{view:#}");
    assert_eq!(view["follow_up"]["moves"][0]["to"], "contacted");
    let calm = month.surveys.iter().find(|s| !s.is_feedback()).unwrap();
    let view = get_json(&app, &format!("/api/v1/surveys/{}", calm.call_id)).await;
    assert_eq!(view["follow_up"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worklist_refuses_bad_parameters_by_name() {
    let (app, _provider) = spawn().await;
    for (query, name) in [
        ("state=new", "state"),
        ("state=", "state"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("from=2026-02-30", "from"),
        ("cursor=v1.x.1", "cursor"),
        ("agent=a%00b", "agent"),
    ] {
        let response = get(&app, &format!("/api/v1/cases?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let text = response.text().await.unwrap();
        assert!(text.contains(&format!("{name}:")), "{query}: {text}");
    }
    let response = reqwest::get(format!("{}/api/v1/cases?state=open", app.http))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
