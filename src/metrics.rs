//! Prometheus metrics: one process-wide recorder, rendered at `GET /metrics`. Names and
//! labels are listed in README's runbook.

use std::{sync::OnceLock, time::Duration};

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Installs the recorder on first use; later calls (tests run several workers in one
/// process) share it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Buckets, not the exporter's default summaries: histograms aggregate across
        // replicas, quantiles do not.
        PrometheusBuilder::new()
            .set_buckets(&[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .expect("a non-empty bucket list")
            .install_recorder()
            .expect("no other metrics recorder is installed")
    })
}

pub fn events_consumed(valid: usize, poison: usize) {
    counter!("postcall_events_consumed_total").increment((valid + poison) as u64);
    counter!("postcall_events_dead_lettered_total").increment(poison as u64);
}

pub fn decision(reason: &'static str, n: usize) {
    counter!("postcall_ingest_decisions_total", "reason" => reason).increment(n as u64);
}

pub fn duplicates(n: usize) {
    counter!("postcall_events_duplicate_total").increment(n as u64);
}

/// One send attempt's outcome: accepted, retry, failed, cancelled or deferred.
pub fn sms(provider: &'static str, outcome: &'static str) {
    counter!("postcall_sms_total", "provider" => provider, "outcome" => outcome).increment(1);
}

/// A send a per-number cap held back: the provider, the cap (`per_natural_day`, …, or the
/// platform's code when the platform refused it) and what happened (deferred, dropped,
/// ended, refused).
pub fn cap_hit(provider: &'static str, cap: &str, outcome: &'static str) {
    counter!("postcall_cap_hits_total", "provider" => provider, "cap" => cap.to_owned(),
        "outcome" => outcome)
    .increment(1);
}

pub fn segments(provider: &'static str, n: u32) {
    counter!("postcall_sms_segments_total", "provider" => provider).increment(u64::from(n));
}

pub fn reply(outcome: &'static str) {
    counter!("postcall_replies_total", "outcome" => outcome).increment(1);
}

pub fn opt_out(source: &'static str) {
    counter!("postcall_opt_outs_total", "source" => source).increment(1);
}

pub fn http_request(route: String, status: u16, elapsed: Duration) {
    let status = status.to_string();
    counter!("postcall_http_requests_total", "route" => route.clone(), "status" => status.clone())
        .increment(1);
    histogram!("postcall_http_request_duration_seconds", "route" => route, "status" => status)
        .record(elapsed.as_secs_f64());
}

/// A request refused (400, 401, 403): counted always, while its log line is sampled.
pub fn http_refused(status: u16) {
    counter!("postcall_http_refusals_total", "status" => status.to_string()).increment(1);
}

/// Seconds the oldest due, unsent SMS has been waiting: the dispatcher's lag.
pub fn dispatch_lag(seconds: f64) {
    gauge!("postcall_dispatch_lag_seconds").set(seconds);
}

/// One aggregation run that committed: its kind, duration and what it folded in.
pub fn aggregation(kind: &'static str, elapsed: Duration, changes: i64) {
    counter!("postcall_aggregation_runs_total", "kind" => kind, "outcome" => "ok").increment(1);
    histogram!("postcall_aggregation_duration_seconds", "kind" => kind)
        .record(elapsed.as_secs_f64());
    counter!("postcall_aggregation_changes_total").increment(changes.max(0) as u64);
    gauge!("postcall_aggregation_last_success_timestamp_seconds")
        .set(chrono::Utc::now().timestamp() as f64);
}

/// Records whose personal data a retention batch erased (or deleted), per part.
pub fn retention_erased(part: &'static str, n: i64) {
    counter!("postcall_retention_erased_total", "part" => part).increment(n.max(0) as u64);
}

pub fn retention_failed() {
    counter!("postcall_retention_runs_failed_total").increment(1);
}

pub fn aggregation_failed() {
    counter!("postcall_aggregation_runs_total", "kind" => "scheduled", "outcome" => "error")
        .increment(1);
}
