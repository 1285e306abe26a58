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

/// Folds reports that arrived before the provider id was recorded into the message: the
/// furthest status wins, and the latest billed parts replace the count. Runs in the send's
/// transaction, under `lock`.
pub async fn fold_early(
    conn: &mut PgConnection,
    provider: &str,
    provider_message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH early AS (
             DELETE FROM early_delivery_reports
              WHERE provider = $1 AND provider_message_id = $2
          RETURNING status, error_code, received_at, billed_segments
         ), furthest AS (
             SELECT status, error_code, received_at,
                    postcall_status_rank(status) AS rank,
                    (SELECT b.billed_segments FROM early b WHERE b.billed_segments IS NOT NULL
                      ORDER BY b.received_at DESC LIMIT 1) AS billed
               FROM early
              ORDER BY postcall_status_rank(status) DESC, received_at LIMIT 1
         )
         UPDATE messages m
            SET status = CASE WHEN postcall_status_rank(m.status) < f.rank THEN f.status ELSE m.status END,
                error_code = CASE WHEN postcall_status_rank(m.status) < f.rank
                                  THEN coalesce(f.error_code, m.error_code) ELSE m.error_code END,
                delivered_at = CASE WHEN postcall_status_rank(m.status) < f.rank AND f.status = 'delivered'
                                    THEN f.received_at ELSE m.delivered_at END,
                segments = coalesce(f.billed, m.segments)
           FROM furthest f
          WHERE m.provider = $1 AND m.provider_message_id = $2
            AND (postcall_status_rank(m.status) < f.rank OR f.billed IS NOT NULL)",
    )
    .bind(provider)
    .bind(provider_message_id)
    .execute(conn)
    .await?;
    Ok(())
}
