//! The channel that wakes the dispatchers: the migrations' triggers and [`notify`] send on
//! it, the dispatch feed listens on it.

use sqlx::PgConnection;

/// Must match the `pg_notify('postcall_dispatch', '')` of the migrations' triggers.
pub const DISPATCH_CHANNEL: &str = "postcall_dispatch";

/// Wakes every dispatcher listening on [`DISPATCH_CHANNEL`].
pub async fn notify(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(DISPATCH_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}
