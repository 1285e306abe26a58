//! PostgreSQL CPU spent for one database only: the machine's other tenants use the same
//! server, so the server's total says little about what a reply costs.

use sqlx::PgPool;

use crate::proc_stats;

/// The backends serving `pool`'s database (its pool's connections, once warm).
pub async fn pids(pool: &PgPool) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database()",
    )
    .fetch_all(pool)
    .await?)
}

/// Their CPU time so far, in seconds.
pub fn cpu_seconds(pids: &[String]) -> f64 {
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| proc_stats::process_ticks(p))
        .sum();
    ticks as f64 / 100.0
}
