//! Callback ids already acted on: the Standard Webhooks replay guard.

use std::time::Duration;

use sqlx::PgPool;

pub async fn seen(pool: &PgPool, webhook_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_receipts WHERE webhook_id = $1)")
        .bind(webhook_id)
        .fetch_one(pool)
        .await
}

/// Remembers a processed id for `keep`, and forgets ids older than that.
pub async fn remember(pool: &PgPool, webhook_id: &str, keep: Duration) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO webhook_receipts (webhook_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(webhook_id)
        .execute(pool)
        .await?;
    sqlx::query(
        "DELETE FROM webhook_receipts WHERE received_at < now() - make_interval(secs => $1)",
    )
    .bind(keep.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(())
}
