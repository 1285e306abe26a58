//! Schemathesis, run against the document the real app serves: every check, requests
//! generated from the document's own schemas (valid ones and invalid ones), and any finding
//! fails the test with schemathesis' report. The provider callbacks are left out:
//! schemathesis cannot sign them, and tests/it/openapi.rs and tests/it/callbacks.rs send
//! them signed.

use std::{path::PathBuf, process::Stdio, time::Duration};

use chrono::{TimeZone, Utc};
use serde_json::json;
use tokio::process::Command;

use crate::{
    helpers::TestApp,
    score_model::{Model, Step, Survey},
};

const API_TOKEN: &str = "sch3ma-t0ken-Vb8Kq2Zr6Xw1Nd4";
/// The `call_id` example in assets/openapi.json: a call that exists, so the survey view is
/// tested on a 200 and not only on 404s.
const EXAMPLE_CALL: &str = "call-20261103-0042";
/// Generated cases per operation and phase. The coverage phase reaches every parameter's
/// edges deterministically; this bounds the random ones. At 1,000 the run took 3 minutes
/// alone on this machine (fuzzing and the stateful phase's scenarios 85 s each) and more than
/// 5 beside the rest of the suite; at 300 it stays near a minute.
const MAX_EXAMPLES: &str = "300";
/// Fixed, so a finding reproduces run after run.
const SEED: &str = "20261124";
/// Only a guard against a run that hangs: several times the run's length on a busy machine.
const DEADLINE: Duration = Duration::from_secs(600);

/// `$POSTCALL_TOOLS_DIR/venv/bin/schemathesis`, by default under `~/.cache/postcall/tools`,
/// where `scripts/test` installs the pinned version.
fn schemathesis() -> PathBuf {
    let tools = std::env::var_os("POSTCALL_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/postcall/tools")
        });
    let binary = tools.join("venv/bin/schemathesis");
    assert!(
        binary.is_file(),
        "{} is missing: run scripts/test, which installs schemathesis into {}/venv",
        binary.display(),
        tools.display()
    );
    binary
}

/// Something for the generated requests to find: an answered survey (score cells once
/// aggregated) and cells of several agents, queues and days, one agent id a formula.
async fn seed(app: &TestApp) {
    let answered = Survey {
        call_id: EXAMPLE_CALL.into(),
        phone: "+8613800000042".into(),
        agent: "agent-7".into(),
        queue: "payment".into(),
        ended_at: Utc.with_ymd_and_hms(2026, 11, 3, 4, 0, 0).unwrap(),
        wait_seconds: Some(31.5),
        first_segments: 1,
        steps: vec![
            (0, Step::Create),
            (0, Step::Accept),
            (0, Step::Deliver),
            (
                0,
                Step::Answer {
                    question: "recommend",
                    value: json!(3),
                },
            ),
        ],
    };
    Model {
        surveys: vec![answered],
        stages: 1,
    }
    .apply(&app.pool, 0)
    .await;
    // Its NPS 3 announced as the reply path announces it, which opens its follow-up case:
    // the feedback list and the case routes have something to show and to move.
    sqlx::query(
        "INSERT INTO outbox (id, routing_key, payload)
         VALUES (gen_random_uuid(), 'survey.detractor',
                 jsonb_build_object('call_id', $1::text, 'reasons', jsonb_build_array('nps')))",
    )
    .bind(EXAMPLE_CALL)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO score_cells (day, agent_id, queue, sent, delivered, responses, csat_n,
                                  csat_satisfied, csat_sum, nps_n, promoters, passives,
                                  detractors, fcr_n, fcr_yes, wait_n, wait_ms_sum, sms_segments)
         SELECT date '2026-11-01' + d, a, q, 10, 9, 6, 5, 4, 21, 5, 1, 1, 3, 6, 5, 10, 315000, 24
           FROM generate_series(0, 9) d,
                unnest(ARRAY['agent-8', '=HYPERLINK(\"x\")', '客服-3']) a,
                unnest(ARRAY['payment', 'refund']) q",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_served_document() {
    let binary = schemathesis();
    let app = TestApp::spawn_with(&[
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__API__TOKEN", API_TOKEN),
    ])
    .await;
    seed(&app).await;
    let reports = tempfile::tempdir().unwrap();
    let junit = reports.path().join("junit.xml");

    let mut command = Command::new(&binary);
    command
        .arg("run")
        .arg(format!("{}/api/openapi.json", app.http))
        .args(["--url", &app.http])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--workers", "2"])
        .args(["--header", &format!("Authorization: Bearer {API_TOKEN}")])
        .args(["--exclude-path-regex", "^/webhooks/"])
        .args(["--request-timeout", "10"])
        .args(["--generation-database", "none"])
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(&junit)
        .arg("--no-color")
        // Nothing of the run is written into the source tree.
        .current_dir(reports.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    // Read as it runs, so a run stopped at the deadline still shows how far it got.
    let stdout = tokio::spawn(read_all(child.stdout.take().expect("piped stdout")));
    let stderr = tokio::spawn(read_all(child.stderr.take().expect("piped stderr")));
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;
    if status.is_err() {
        child.kill().await.expect("stopping schemathesis");
    }
    let report = format!("{}{}", stdout.await.unwrap(), stderr.await.unwrap());
    let status = status
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {DEADLINE:?}:\n{report}"))
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", binary.display()));
    assert!(
        status.success(),
        "schemathesis found problems ({status}, after {:?}):\n{report}",
        started.elapsed()
    );
    // A run that selected nothing would pass too: every operation ran but the callbacks and
    // the document itself, which schemathesis loads rather than tests.
    let tested = std::fs::read_to_string(&junit).expect("schemathesis wrote its junit report");
    for operation in [
        "GET /api/v1/scores",
        "GET /api/v1/surveys/{call_id}",
        "GET /api/v1/feedback",
        "GET /api/v1/cases/{call_id}",
        "POST /api/v1/cases/{call_id}/moves",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /dashboard",
    ] {
        assert!(
            tested.contains(&format!("\"{operation}\"")),
            "{operation} was not tested:\n{tested}\n{report}"
        );
    }
    assert!(!tested.contains("/webhooks/"), "{tested}");
    eprintln!("schemathesis, {:?}:\n{report}", started.elapsed());
}

async fn read_all(mut from: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut bytes = Vec::new();
    // A read error ends the report early; the exit status still decides the test.
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut from, &mut bytes).await;
    String::from_utf8_lossy(&bytes).into_owned()
}
