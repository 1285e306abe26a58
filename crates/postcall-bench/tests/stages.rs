//! `postcall-bench` builds and runs: one tiny iteration of every stage (`--quick`), each
//! printing its one result line. It measures nothing here; it proves the bench still works.

use std::{collections::HashMap, process::Command};

/// Runs one stage and returns its line's `key=value` fields.
fn quick(stage: &str) -> HashMap<String, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall-bench"));
    cmd.args([stage, "--quick"]);
    // A developer's tuning must not change what the test sees.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
        cmd.env_remove(k);
    }
    let out = cmd.output().expect("running postcall-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "postcall-bench {stage} --quick failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one result line on stdout, got:\n{stdout}");
    let mut words = lines[0].split_whitespace();
    assert_eq!(words.next(), Some(stage), "the line starts with the stage");
    words
        .map(|w| {
            let (k, v) = w
                .split_once('=')
                .unwrap_or_else(|| panic!("`{w}` is not key=value in {}", lines[0]));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The figure of `key`, its unit (`/s`, `s`, `ms`) stripped; positive and finite.
fn figure(fields: &HashMap<String, String>, key: &str) -> f64 {
    let raw = fields
        .get(key)
        .unwrap_or_else(|| panic!("no {key}= in {fields:?}"));
    let number = raw.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '/');
    let value: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("{key}={raw} is not a number"));
    assert!(value.is_finite() && value > 0.0, "{key}={raw}");
    value
}

fn rate_against_baseline(stage: &str) -> HashMap<String, String> {
    let fields = quick(stage);
    ratio_is(&fields, "ratio", "baseline");
    fields
}

/// One run: `ratio_key` is exactly that run's rate over `base_key` (rounded in print).
fn ratio_is(fields: &HashMap<String, String>, ratio_key: &str, base_key: &str) {
    let rate = figure(fields, "rate");
    let base = figure(fields, base_key);
    let ratio = figure(fields, ratio_key);
    assert!(
        (ratio - rate / base).abs() <= 0.01 + 0.01 * ratio,
        "{ratio_key}={ratio} but rate/{base_key}={}",
        rate / base
    );
}

#[test]
fn ingest_stage_runs() {
    rate_against_baseline("ingest");
}

/// `--quick` drains this many due rows, once.
const QUICK_DISPATCH: f64 = 300.0;

#[test]
fn dispatch_stage_runs() {
    let fields = rate_against_baseline("dispatch");
    ratio_is(&fields, "ratio_durable", "durable");
    ratio_is(&fields, "ratio_floor", "floor");
    // A quick drain is over in a tenth of a second: a few CPU ticks, maybe none.
    for key in [
        "pg_us_per_sms",
        "durable_pg_us_per_sms",
        "floor_pg_us_per_sms",
    ] {
        let us: f64 = fields[key]
            .parse()
            .unwrap_or_else(|_| panic!("{key}={} is not a number", fields[key]));
        assert!(us.is_finite() && us >= 0.0, "{key}={us}");
    }
    // Every row of the durable baseline sent exactly once: each recorded sent after one
    // attempt and its id seen at the provider, and the provider got no other request.
    assert_eq!(figure(&fields, "durable_rows_sent"), QUICK_DISPATCH);
    assert_eq!(figure(&fields, "durable_requests"), QUICK_DISPATCH);
    // The schema floor: every survey opened with one queued message whose id the provider
    // saw once (the provider double fails the run on a second).
    assert_eq!(figure(&fields, "floor_rows_sent"), QUICK_DISPATCH);
    let (floor, durable) = (figure(&fields, "floor"), figure(&fields, "durable"));
    assert!(
        (figure(&fields, "floor_to_durable") - floor / durable).abs()
            <= 0.01 + 0.01 * floor / durable,
        "floor_to_durable against floor={floor}, durable={durable}"
    );
}

#[test]
fn webhook_stage_runs() {
    let fields = rate_against_baseline("webhook");
    figure(&fields, "p99");
    // The durable baseline: one run, so the ratio is that run's rate over it, and the
    // spread is that one ratio twice.
    ratio_is(&fields, "ratio_durable", "durable");
    let ratio = figure(&fields, "ratio_durable");
    let spread = &fields["ratio_durable_spread"];
    let (lo, hi) = spread
        .split_once('-')
        .unwrap_or_else(|| panic!("ratio_durable_spread={spread} is not lo-hi"));
    for end in [lo, hi] {
        let end: f64 = end
            .parse()
            .unwrap_or_else(|_| panic!("ratio_durable_spread={spread} is not two numbers"));
        assert!(
            (end - ratio).abs() <= 0.01 + 0.01 * ratio,
            "ratio_durable_spread={spread} around ratio_durable={ratio}"
        );
    }
    // A quick run is a few CPU ticks of PostgreSQL, maybe none.
    let ms: f64 = fields["durable_db_cpu"]
        .trim_end_matches("ms")
        .parse()
        .unwrap_or_else(|_| panic!("durable_db_cpu={} is not ms", fields["durable_db_cpu"]));
    assert!(ms.is_finite() && ms >= 0.0, "durable_db_cpu={ms}");
}

#[test]
fn aggregate_stage_runs() {
    rate_against_baseline("aggregate");
}

#[test]
fn memory_stage_runs() {
    let fields = quick("memory");
    let rss = figure(&fields, "rss");
    assert!(rss < 4096.0, "rss={rss} MiB is not a plausible MiB figure");
}

#[test]
fn retention_stage_runs() {
    let fields = rate_against_baseline("retention");
    figure(&fields, "slice_calls");
    figure(&fields, "day_at_1m_calls_s");
}

#[test]
fn history_stage_runs() {
    let fields = quick("history");
    for stage in ["ingest", "dispatch", "webhook"] {
        figure(&fields, &format!("{stage}_full_ratio"));
        figure(&fields, &format!("{stage}_cold_ratio"));
        figure(&fields, &format!("{stage}_full"));
        figure(&fields, &format!("{stage}_empty"));
    }
    figure(&fields, "full_ratio");
    assert_eq!(
        fields["history_calls"], "3000",
        "--quick seeds its own tiny history"
    );
}
