//! The binary's contract: subcommands, config refusal naming the key, database creation.

use std::process::Command;

use sqlx::{Connection, PgConnection};

use crate::helpers::{Cleanup, Names};

fn postcall(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall"));
    cmd.args(args);
    // Only our variables: a developer's POSTCALL__* must not change what the test sees.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("running the postcall binary")
}

#[test]
fn check_config_accepts_the_defaults_and_hides_secrets() {
    let out = postcall(
        &["check-config"],
        &[("POSTCALL__API__TOKEN", "s3cr3t-token-M7nU-h2PpY3S-ggK")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("postcall.call-completed"));
    assert!(!shown.contains("s3cr3t-token"));
}

#[test]
fn check_config_masks_the_passwords_in_connection_urls() {
    let out = postcall(
        &["check-config"],
        &[
            (
                "POSTCALL__DATABASE__URL",
                "postgres://postgres:s3cret-pw@127.0.0.1:5432/postcall",
            ),
            (
                "POSTCALL__AMQP__URL",
                "amqp://guest:amqp-s3cret@127.0.0.1:5672/%2f?auth_mechanism=plain",
            ),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for secret in ["s3cret-pw", "amqp-s3cret"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} printed:\n{stdout}\n{stderr}"
        );
    }
    assert!(
        stdout.contains("postgres://postgres:****@127.0.0.1:5432/postcall")
            && stdout.contains("amqp://guest:****@127.0.0.1:5672/%2f?auth_mechanism=plain"),
        "{stdout}"
    );
}

#[test]
fn a_bad_value_refuses_to_start_naming_the_key() {
    for (var, value, key) in [
        (
            "POSTCALL__ELIGIBILITY__SAMPLE_RATE",
            "2",
            "eligibility.sample_rate",
        ),
        (
            "POSTCALL__AGGREGATION__SCHEDULE",
            "*/5 * * * *",
            "aggregation.schedule",
        ),
        (
            "POSTCALL__ELIGIBILITY__QUIET_HOURS__START",
            "nine",
            "eligibility.quiet_hours.start",
        ),
        (
            "POSTCALL__SCORES__MIN_ANSWERS_TO_RANK",
            "0",
            "scores.min_answers_to_rank",
        ),
        (
            "POSTCALL__SCORES__MIN_ANSWERS_TO_RANK",
            "ten",
            "scores.min_answers_to_rank",
        ),
    ] {
        for command in ["check-config", "run"] {
            let out = postcall(&[command], &[(var, value)]);
            assert_eq!(out.status.code(), Some(2), "{command} with {var}={value}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(key), "{command}: {err}");
        }
    }
}

#[test]
fn a_config_file_given_with_dash_dash_config_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, "[eligibility]\nmin_talk_seconds = 99\n").unwrap();
    let out = postcall(&["--config", path.to_str().unwrap(), "check-config"], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("min_talk_seconds = 99"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_database_and_its_tables() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let out = postcall(
        &["migrate"],
        &[("POSTCALL__DATABASE__URL", &names.database_url)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = PgConnection::connect(&names.database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "answers",
            "callback_inbox",
            "calls",
            "early_delivery_reports",
            "follow_up_cases",
            "follow_up_moves",
            "inbound_messages",
            "messages",
            "opt_outs",
            "outbox",
            "retention_cursors",
            "score_basis",
            "score_cells",
            "score_changes",
            "score_runs",
            "score_surveys",
            "surveys",
            "webhook_receipts"
        ]
    );
    // A second run is a no-op.
    let again = postcall(
        &["migrate"],
        &[("POSTCALL__DATABASE__URL", &names.database_url)],
    );
    assert!(again.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_builds_then_folds_in_and_rebuilds_on_request() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let env = [("POSTCALL__DATABASE__URL", names.database_url.as_str())];
    let run = |args: &[&str]| {
        let out = postcall(args, &env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A new database: the first run builds the scores, the next folds in (nothing).
    let first = run(&["aggregate"]);
    assert!(
        first.contains("rebuilt (no scores have been built yet)"),
        "{first}"
    );
    let second = run(&["aggregate"]);
    assert!(
        second.contains("folded in 0 changes: 0 surveys counted into 0 cells"),
        "{second}"
    );
    let rebuilt = run(&["aggregate", "--rebuild"]);
    assert!(rebuilt.contains("rebuilt (requested)"), "{rebuilt}");
    let mut conn = PgConnection::connect(&names.database_url).await.unwrap();
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM score_runs ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(kinds, ["rebuild", "manual", "rebuild"]);
}
