//! How far behind the dispatchers are, read from `messages` for `/metrics`.

use sqlx::PgPool;

/// Seconds since the oldest due pending message became due; none if nothing is due.
pub async fn dispatch_lag_seconds(pool: &PgPool) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - min(next_attempt_at))::float8 FROM messages
          WHERE status = 'pending' AND next_attempt_at <= now()",
    )
    .fetch_one(pool)
    .await
}
