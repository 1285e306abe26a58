//! Delivery reports from provider callbacks: idempotent, never moving a status back, and
//! safe to receive before the send's own response has recorded the provider's id.

use sqlx::{PgConnection, PgPool};

use crate::domain::delivery::DeliveryStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The message moved forward to the reported status.
    Updated,
    /// The message is already at or past it (a duplicate or a late report).
    Unchanged,
    /// No message has this provider id yet: kept until the send records it.
    Early,
}

/// Serialises a report and the send's own record for one provider message, so a report
/// cannot fall between the send's check for early reports and its commit.
pub async fn lock(
    conn: &mut PgConnection,
    provider: &str,
    provider_message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))")
        .bind(provider)
        .bind(provider_message_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A delivery report: `billed_segments`, where the provider says what it billed, replaces
/// the stored count whether or not the status moves.
pub async fn report(
    pool: &PgPool,
    provider: &str,
    provider_message_id: &str,
    status: DeliveryStatus,
    error_code: Option<&str>,
    billed_segments: Option<i32>,
) -> sqlx::Result<Applied> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, provider, provider_message_id).await?;
    let (known, moved): (i64, i64) = sqlx::query_as(
        "WITH target AS (
             SELECT id, status, postcall_status_rank(status) < postcall_status_rank($3) AS forward
               FROM messages WHERE provider = $1 AND provider_message_id = $2
         ), changed AS (
             UPDATE messages m
                SET status = CASE WHEN t.forward THEN $3 ELSE m.status END,
                    error_code = CASE WHEN t.forward THEN coalesce($4, m.error_code) ELSE m.error_code END,
                    segments = coalesce($5, m.segments), updated_at = now(),
                    delivered_at = CASE WHEN t.forward AND $3 = 'delivered' THEN now() ELSE m.delivered_at END
               FROM target t
              WHERE m.id = t.id AND (t.forward OR m.segments IS DISTINCT FROM coalesce($5, m.segments))
          RETURNING t.forward
         )
         SELECT (SELECT count(*) FROM target), (SELECT count(*) FROM changed WHERE forward)",
    )
    .bind(provider)
    .bind(provider_message_id)
    .bind(status.as_str())
    .bind(error_code)
    .bind(billed_segments)
    .fetch_one(&mut *tx)
    .await?;
    let applied = match (known, moved) {
        (_, 1..) => Applied::Updated,
        (1.., 0) => Applied::Unchanged,
        _ => {
            sqlx::query(
                "INSERT INTO early_delivery_reports (provider, provider_message_id, status, error_code, billed_segments)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(provider)
            .bind(provider_message_id)
            .bind(status.as_str())
            .bind(error_code)
            .bind(billed_segments)
            .execute(&mut *tx)
            .await?;
            Applied::Early
        }
    };
    tx.commit().await?;
    Ok(applied)
}
