//! A rebuild cut into parts (`aggregation.rebuild_parts`): the same per-survey rows and
//! cells as one pass, whatever staging tables an earlier rebuild left; a part that fails
//! fails the rebuild and leaves the old scores.

use std::time::Duration;

use chrono::NaiveDate;
use postcall::aggregate::{Aggregator, Folded};
use serde_json::Value;
use sqlx::PgPool;

use crate::{helpers::TestApp, score_model::Model};

/// Aggregation only when a test asks: nothing else writes the cells under it.
const MANUAL: [(&str, &str); 2] = [
    ("POSTCALL__AGGREGATION__ENABLED", "false"),
    ("POSTCALL__DISPATCH__ENABLED", "false"),
];

fn in_parts(app: &TestApp, parts: &str) -> Aggregator {
    let settings = app
        .names
        .settings(&[("POSTCALL__AGGREGATION__REBUILD_PARTS", parts)]);
    Aggregator::new(app.pool.clone(), &settings.runtime().unwrap())
}

/// Every per-survey row and every cell, in key order.
async fn scores(pool: &PgPool) -> (Vec<Value>, Vec<Value>) {
    let rows = sqlx::query_scalar("SELECT to_jsonb(s) FROM score_surveys s ORDER BY survey_id")
        .fetch_all(pool)
        .await
        .unwrap();
    let cells =
        sqlx::query_scalar("SELECT to_jsonb(c) FROM score_cells c ORDER BY day, agent_id, queue")
            .fetch_all(pool)
            .await
            .unwrap();
    (rows, cells)
}

async fn staging_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'score\\_surveys\\_part\\_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A month of generated surveys, every stage applied: sent and never sent, delivered or
/// not, follow-ups, answers and late answers.
async fn month(app: &TestApp, seed: u64) {
    let model = Model::month(400, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), 3, seed);
    for stage in 0..model.stages {
        model.apply(&app.pool, stage).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_or_three_parts_give_exactly_the_rows_and_cells_of_one_pass() {
    let app = TestApp::spawn_with(&MANUAL).await;
    month(&app, 17).await;
    let one = in_parts(&app, "1").rebuild().await.unwrap();
    let single = scores(&app.pool).await;
    assert!(single.0.len() > 300 && !single.1.is_empty(), "{one}");

    for parts in ["2", "3"] {
        let run = in_parts(&app, parts).rebuild().await.unwrap();
        let counted = |f: Folded| (f.surveys, f.cells);
        assert_eq!(
            counted(run.folded),
            counted(one.folded),
            "{parts}: {run} vs {one}"
        );
        assert_eq!(scores(&app.pool).await, single, "{parts} parts ≠ one pass");
        assert_eq!(staging_tables(&app.pool).await, Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_tables_left_by_a_failed_rebuild_are_dropped_and_do_not_count() {
    let app = TestApp::spawn_with(&MANUAL).await;
    month(&app, 29).await;
    in_parts(&app, "1").rebuild().await.unwrap();
    let single = scores(&app.pool).await;
    // As a rebuild that died after its parts committed leaves them: rows that must not be
    // appended (a whole copy of the table), and a part of a layout since changed.
    for leftover in [
        "CREATE UNLOGGED TABLE score_surveys_part_1_2 AS SELECT * FROM score_surveys",
        "CREATE UNLOGGED TABLE score_surveys_part_1_3 (survey_id text)",
    ] {
        sqlx::query(leftover).execute(&app.pool).await.unwrap();
    }

    in_parts(&app, "2").rebuild().await.unwrap();
    assert_eq!(scores(&app.pool).await, single, "leftovers counted");
    assert_eq!(staging_tables(&app.pool).await, Vec::<String>::new());
    // One part drops them too: going back to a single pass leaves nothing behind.
    sqlx::query("CREATE UNLOGGED TABLE score_surveys_part_2_2 (x int)")
        .execute(&app.pool)
        .await
        .unwrap();
    in_parts(&app, "1").rebuild().await.unwrap();
    assert_eq!(staging_tables(&app.pool).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_fails_fails_the_rebuild_and_the_old_scores_stay() {
    let app = TestApp::spawn_with(&MANUAL).await;
    month(&app, 41).await;
    in_parts(&app, "1").rebuild().await.unwrap();
    let before = scores(&app.pool).await;
    sqlx::query("DELETE FROM score_cells WHERE day = (SELECT min(day) FROM score_cells)")
        .execute(&app.pool)
        .await
        .unwrap();
    let damaged = scores(&app.pool).await;
    assert_ne!(damaged, before);

    // Someone's DDL holds `calls`: the part on the second connection gives up after its
    // lock timeout, while the rebuild's own statement waits for the lock.
    let mut ddl = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *ddl)
        .await
        .unwrap();
    let agg = in_parts(&app, "2");
    let rebuild = tokio::spawn(async move { agg.rebuild().await });
    wait_for_the_part_to_give_up(&app.pool).await;
    ddl.rollback().await.unwrap();

    let err = rebuild.await.unwrap().expect_err("the part failed");
    assert!(format!("{err:#}").contains("lock timeout"), "{err:#}");
    assert_eq!(scores(&app.pool).await, damaged, "the old scores stay");
    in_parts(&app, "2").rebuild().await.unwrap();
    assert_eq!(scores(&app.pool).await, before, "the next rebuild repairs");
}

/// Until a part's statement has waited on a lock and stopped waiting.
async fn wait_for_the_part_to_give_up(pool: &PgPool) {
    let waiting = || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                             WHERE datname = current_database() AND state = 'active'
                               AND wait_event_type = 'Lock'
                               AND query LIKE '%UNLOGGED TABLE score_surveys_part_%')",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while tokio::time::Instant::now() < deadline {
        match (seen, waiting().await) {
            (false, true) => seen = true,
            (true, false) => return,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the part never waited on the lock, or never gave up (seen: {seen})");
}
