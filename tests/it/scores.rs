//! Scores: incremental aggregation agrees with a rebuild and with a direct count of what was
//! stored; one replica aggregates each tick; the API serves the cells as DESIGN.md §5 says.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use postcall::{
    aggregate::{Aggregator, TickRun},
    domain::scores::scores,
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    helpers::{Names, TestApp},
    score_model::Model,
};

/// Aggregation only when a test asks: nothing else writes the cells under it.
const MANUAL: [(&str, &str); 2] = [
    ("POSTCALL__AGGREGATION__ENABLED", "false"),
    ("POSTCALL__DISPATCH__ENABLED", "false"),
];

fn november(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

async fn cells(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar("SELECT to_jsonb(c) FROM score_cells c ORDER BY day, agent_id, queue")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Every sent survey's counted figures, as the incremental runs keep them.
async fn survey_rows(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar("SELECT to_jsonb(s) FROM score_surveys s ORDER BY survey_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn aggregator(app: &TestApp, overrides: &[(&str, &str)]) -> Aggregator {
    let settings = app.names.settings(overrides);
    Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_after_each_batch_equal_one_rebuild() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let agg = aggregator(&app, &[]);
    let model = Model::month(600, november(1), 5, 7);

    let first = agg.run_now().await.unwrap();
    assert!(first.rebuilt.is_some(), "the first run builds: {first}");
    for stage in 0..model.stages {
        model.apply(&app.pool, stage).await;
        let run = agg.run_now().await.unwrap();
        assert_eq!(run.rebuilt, None, "stage {stage}: {run}");
        assert!(
            run.folded.changes > 0,
            "stage {stage} changed something: {run}"
        );
        assert!(run.folded.cells > 0, "stage {stage}: {run}");
    }
    let idle = agg.run_now().await.unwrap();
    assert_eq!((idle.folded.changes, idle.folded.cells), (0, 0), "{idle}");

    let incremental = cells(&app.pool).await;
    let incremental_surveys = survey_rows(&app.pool).await;
    let rebuilt = agg.rebuild().await.unwrap();
    assert!(rebuilt.rebuilt.is_some());
    assert_eq!(incremental.len(), rebuilt.folded.cells as usize);
    assert_eq!(incremental, cells(&app.pool).await, "incremental ≠ rebuild");
    assert_eq!(
        incremental_surveys,
        survey_rows(&app.pool).await,
        "the per-survey rows the incremental runs kept ≠ a rebuild's"
    );
    assert_eq!(incremental_surveys.len(), rebuilt.folded.surveys as usize);

    // And both equal the counts made here from the model, cell by cell.
    let expected = model.expected();
    assert_eq!(incremental.len(), expected.len());
    for (cell, ((day, agent, queue), t)) in incremental.iter().zip(&expected) {
        assert_eq!(cell["day"], day.to_string());
        assert_eq!(cell["agent_id"], *agent);
        assert_eq!(cell["queue"], *queue);
        for (column, want) in [
            ("sent", t.sent),
            ("delivered", t.delivered),
            ("responses", t.responses),
            ("csat_n", t.csat_n),
            ("csat_satisfied", t.csat_satisfied),
            ("csat_sum", t.csat_sum),
            ("nps_n", t.nps_n),
            ("promoters", t.promoters),
            ("passives", t.passives),
            ("detractors", t.detractors),
            ("fcr_n", t.fcr_n),
            ("fcr_yes", t.fcr_yes),
            ("wait_n", t.wait_n),
            ("sms_segments", t.sms_segments),
        ] {
            assert_eq!(cell[column], want, "{column} of {day} {agent} {queue}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_time_zone_rebuilds_on_the_next_run() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let model = Model::month(80, november(1), 1, 3);
    model.apply(&app.pool, 0).await;
    aggregator(&app, &[]).run_now().await.unwrap();
    let shanghai = cells(&app.pool).await;

    let utc = aggregator(&app, &[("POSTCALL__AGGREGATION__TIMEZONE", "UTC")]);
    let run = utc.run_now().await.unwrap();
    let why = run.rebuilt.expect("a new zone rebuilds");
    assert!(why.contains("UTC"), "{why}");
    assert_ne!(
        shanghai,
        cells(&app.pool).await,
        "days now end at UTC midnight"
    );
    assert_eq!(utc.run_now().await.unwrap().rebuilt, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_at_the_same_tick_aggregate_once() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let (a, b) = (aggregator(&app, &[]), aggregator(&app, &[]));
    a.run_now().await.unwrap();
    let model = Model::month(300, november(1), 1, 11);
    model.apply(&app.pool, 0).await;

    let tick = Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap();
    let (ra, rb) = tokio::join!(a.run_tick(tick), b.run_tick(tick));
    let outcomes = [ra.unwrap(), rb.unwrap()];
    let done: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            TickRun::Done(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 1, "{outcomes:?}");
    assert!(done[0].folded.changes > 0);
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, TickRun::Busy | TickRun::AlreadyDone))
    );
    // The tick is recorded once, and asking again for it does nothing.
    assert_eq!(a.run_tick(tick).await.unwrap(), TickRun::AlreadyDone);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM score_runs WHERE scheduled_for = $1")
        .bind(tick)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_a_schedule_aggregate_each_tick_once() {
    let names = Names::new();
    let every_second = [
        ("POSTCALL__AGGREGATION__SCHEDULE", "* * * * * *"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
    ];
    let mut one = TestApp::spawn_named(names.clone(), &every_second).await;
    let mut two = TestApp::spawn_named(names.clone(), &every_second).await;
    let model = Model::month(200, november(1), 1, 5);
    model.apply(&one.pool, 0).await;
    // At least four ticks: the count goes on growing every second, so a poll that lands
    // after the fifth must not miss "four".
    one.wait_for_count(
        "SELECT least(count(*), 4) FROM score_runs WHERE scheduled_for IS NOT NULL",
        4,
    )
    .await;
    one.wait_for_count("SELECT count(*) FROM score_changes", 0)
        .await;
    two.stop().await;
    one.stop().await;
    let pool = PgPool::connect(&names.database_url).await.unwrap();

    let (ticks, runs): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT scheduled_for), count(*) FROM score_runs
          WHERE scheduled_for IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ticks, runs, "a tick aggregated twice");
    let snapshot = cells(&pool).await;
    assert_eq!(snapshot.len(), model.expected().len());
    let settings = names.settings(&[]);
    Aggregator::new(pool.clone(), &settings.runtime().unwrap())
        .rebuild()
        .await
        .unwrap();
    assert_eq!(snapshot, cells(&pool).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_matches_a_direct_count_of_a_generated_month() {
    let mut overrides = MANUAL.to_vec();
    overrides.push(("POSTCALL__API__TOKEN", "t0ken-M7nU-h2PpY3S-ggKKem8yQC-1d"));
    let app = TestApp::spawn_with(&overrides).await;
    let model = Model::month(1_500, november(1), 1, 42);
    model.apply(&app.pool, 0).await;
    aggregator(&app, &[]).run_now().await.unwrap();

    let client = reqwest::Client::new();
    let get = |query: &str| {
        client
            .get(format!("{}/api/v1/scores?{query}", app.http))
            .bearer_auth("t0ken-M7nU-h2PpY3S-ggKKem8yQC-1d")
            .send()
    };
    let unauthenticated = client
        .get(format!("{}/api/v1/scores", app.http))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);

    let response = get("from=2026-11-01&to=2026-11-30&group_by=agent,day")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-postcall-aggregated-at"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["from"], "2026-11-01");
    assert_eq!(body["to"], "2026-11-30");
    assert_eq!(body["group_by"], json!(["agent", "day"]));

    // Expected: the model's cells summed per (agent, day), scored by the domain module.
    let mut expected: BTreeMap<(String, NaiveDate), postcall::domain::scores::Tally> =
        BTreeMap::new();
    for ((day, agent, _), t) in model.expected() {
        expected.entry((agent, day)).or_default().add(&t);
    }
    let groups = body["groups"].as_array().unwrap();
    assert_eq!(groups.len(), expected.len());
    for (group, ((agent, day), tally)) in groups.iter().zip(&expected) {
        assert_eq!(
            group["key"],
            json!({"agent_id": agent, "day": day.to_string()})
        );
        let mut want = serde_json::to_value(scores(tally)).unwrap();
        let mut got = group.clone();
        got.as_object_mut().unwrap().remove("key");
        // The model announces no detractor, so no group has a follow-up case (those figures
        // are counted in tests/it/cases.rs).
        let follow_up = got.as_object_mut().unwrap().remove("follow_up");
        assert_eq!(
            follow_up,
            Some(json!({"detractors": 0, "contacted": 0, "resolved": 0,
                        "median_hours_to_contact": null}))
        );
        // Wait is summed in ms by the aggregation: equal to the model's to rounding.
        let wait = |v: &mut Value| v.as_object_mut().unwrap().remove("avg_wait_seconds");
        let (got_wait, want_wait) = (wait(&mut got), wait(&mut want));
        assert_close(&got, &want, 1e-12, &format!("{agent} {day}"));
        assert_close(
            &got_wait.unwrap(),
            &want_wait.unwrap(),
            1e-6,
            "avg_wait_seconds",
        );
    }

    // Totals over a sub-range: one group, key {}, equal to the model's sum of those days.
    let body: Value = get("from=2026-11-10&to=2026-11-12")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut total = postcall::domain::scores::Tally::default();
    for ((day, ..), t) in model.expected() {
        if (november(10)..=november(12)).contains(&day) {
            total.add(&t);
        }
    }
    assert_eq!(body["group_by"], json!([]));
    assert_eq!(body["groups"].as_array().unwrap().len(), 1);
    assert_eq!(body["groups"][0]["key"], json!({}));
    assert_eq!(body["groups"][0]["sent"], total.sent);
    assert_eq!(body["groups"][0]["nps"]["n"], total.nps_n);
    assert_close(
        &body["groups"][0]["nps"]["score"],
        &json!(scores(&total).nps.score),
        1e-12,
        "total nps",
    );

    // CSV: the same groups, one row each, after a header.
    let response = get("from=2026-11-01&to=2026-11-30&group_by=queue&format=csv")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("queue,sent,delivered,responses,response_rate,"));
    assert_eq!(lines.len(), 1 + 3, "{text}");
    assert!(lines[1].starts_with("\"account\","), "{text}");

    // A range with nothing in it: no groups, not zeros.
    let body: Value = get("from=2025-01-01&to=2025-01-31&group_by=agent")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["groups"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_dates_and_groups_get_clear_400s() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let client = reqwest::Client::new();
    for (query, mentions) in [
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-01&to=tomorrow", "to"),
        ("from=-001-11-30&to=2026-11-01", "from"),
        ("group_by=agent,team", "team"),
        ("group_by=day,day", "twice"),
        ("format=xlsx", "format"),
    ] {
        let response = client
            .get(format!("{}/api/v1/scores?{query}", app.http))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let text = response.text().await.unwrap();
        assert!(text.contains(mentions), "{query}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_counts_on_its_calls_local_day() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let mut model = Model::month(1, november(1), 1, 1);
    // 17:30 UTC on the 1st is 01:30 on the 2nd in Shanghai.
    model.surveys[0].ended_at = Utc.with_ymd_and_hms(2026, 11, 1, 17, 30, 0).unwrap();
    model.surveys[0]
        .steps
        .retain(|(_, s)| !matches!(s, crate::score_model::Step::Fail));
    if !model.surveys[0]
        .steps
        .iter()
        .any(|(_, s)| matches!(s, crate::score_model::Step::Accept))
    {
        model.surveys[0]
            .steps
            .push((0, crate::score_model::Step::Accept));
    }
    model.apply(&app.pool, 0).await;
    aggregator(&app, &[]).run_now().await.unwrap();
    let snapshot = cells(&app.pool).await;
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0]["day"], "2026-11-02");
}

/// Equal JSON, numbers to within `tolerance` (a float through JSON text may move by an ulp).
fn assert_close(got: &Value, want: &Value, tolerance: f64, what: &str) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= tolerance, "{what}: {g} vs {w}");
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{what}");
            for (g, w) in g.iter().zip(w) {
                assert_close(g, w, tolerance, what);
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(
                g.keys().collect::<Vec<_>>(),
                w.keys().collect::<Vec<_>>(),
                "{what}"
            );
            for (k, g) in g {
                assert_close(g, &w[k], tolerance, &format!("{what}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_off_its_scale_is_ignored_and_does_not_stop_aggregation() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let mut model = Model::month(1, november(1), 1, 9);
    let survey = &mut model.surveys[0];
    survey.steps = vec![
        (0, crate::score_model::Step::Create),
        (0, crate::score_model::Step::Accept),
    ];
    model.apply(&app.pool, 0).await;
    // What the parser never stores, but a hand-edited row or a future bug could.
    for (question, value) in [
        ("satisfaction", "4.5"),
        ("recommend", "1e400"),
        ("resolved", "\"yes\""),
    ] {
        sqlx::query(
            "INSERT INTO answers (survey_id, question_id, value, raw, received_at)
             SELECT id, $1, $2::jsonb, $2, now() FROM surveys",
        )
        .bind(question)
        .bind(value)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let run = aggregator(&app, &[])
        .run_now()
        .await
        .expect("the run commits");
    assert!(run.folded.changes >= 3, "{run}");
    let snapshot = cells(&app.pool).await;
    assert_eq!(snapshot.len(), 1);
    let cell = &snapshot[0];
    assert_eq!((&cell["sent"], &cell["responses"]), (&json!(1), &json!(1)));
    for column in ["csat_n", "nps_n", "fcr_n"] {
        assert_eq!(cell[column], 0, "{column}: {cell}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cells_built_before_the_per_survey_table_are_rebuilt_once() {
    let app = TestApp::spawn_with(&MANUAL).await;
    let agg = aggregator(&app, &[]);
    let model = Model::month(120, november(1), 2, 13);
    model.apply(&app.pool, 0).await;
    agg.run_now().await.unwrap();
    let built = cells(&app.pool).await;
    // As a database aggregated before migration 0006 is: a basis without `model`, cells
    // current, score_surveys empty, changes pending.
    sqlx::query("UPDATE score_basis SET basis = basis - 'model'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("TRUNCATE score_surveys")
        .execute(&app.pool)
        .await
        .unwrap();
    model.apply(&app.pool, 1).await;

    let run = agg.run_now().await.unwrap();
    let why = run.rebuilt.expect("cells of the older model are rebuilt");
    assert!(why.contains("model"), "{why}");
    assert_ne!(built, cells(&app.pool).await, "stage 1 is counted");
    assert_eq!(
        survey_rows(&app.pool).await.len(),
        model
            .expected()
            .values()
            .map(|t| t.sent as usize)
            .sum::<usize>()
    );
    assert_eq!(agg.run_now().await.unwrap().rebuilt, None, "rebuilt once");
}
