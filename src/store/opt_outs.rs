//! Opting out: recorded once, and from then on nothing more is sent to the phone.

use sqlx::PgConnection;

/// What recording an opt-out did.
#[derive(Debug, Clone, Copy)]
pub struct OptOut {
    /// The phone was not opted out before (for the opt-out metric).
    pub recorded: bool,
}

/// Records the opt-out and closes every survey in flight for the phone, cancelling their
/// unsent messages, in the caller's transaction.
pub async fn record(conn: &mut PgConnection, phone: &str, source: &str) -> sqlx::Result<OptOut> {
    let recorded = sqlx::query(
        "INSERT INTO opt_outs (customer_phone, source) VALUES ($1, $2) ON CONFLICT (customer_phone) DO NOTHING",
    )
    .bind(phone)
    .bind(source)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query(
        "UPDATE surveys SET state = 'cancelled', updated_at = now()
          WHERE customer_phone = $1 AND state IN ('scheduled', 'sending', 'open')",
    )
    .bind(phone)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE messages SET status = 'cancelled', error_message = 'opted out', updated_at = now()
          WHERE to_phone = $1 AND status = 'pending' AND direction = 'outbound'",
    )
    .bind(phone)
    .execute(&mut *conn)
    .await?;
    Ok(OptOut { recorded })
}

/// The phone opted back in (START): surveys may reach it again.
pub async fn remove(conn: &mut PgConnection, phone: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM opt_outs WHERE customer_phone = $1")
        .bind(phone)
        .execute(conn)
        .await?;
    Ok(())
}
