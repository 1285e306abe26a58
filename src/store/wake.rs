//! The channel that wakes the dispatchers: the migrations' triggers and [`notify`] send on
//! it, the dispatch feed listens on it; [`Waker`] sends on it for writers that must not wait.

use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

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

/// Wake-ups asked for by the reply path after its commit, sent by one task one at a time:
/// requests that arrive while one is on its way are folded into the next. A dispatcher
/// woken claims everything due, so one notification serves every reply committed before
/// it; each reply then costs neither a round trip of its own nor a wake-up of every
/// dispatcher (BENCHMARKS.md, webhook). A wake-up lost to a crash or a failed statement is
/// covered by the dispatchers' poll, as any lost notification is.
#[derive(Clone, Debug)]
pub struct Waker(mpsc::Sender<()>);

impl Waker {
    /// Starts the task that sends the wake-ups over `pool`; it ends when the last clone of
    /// the returned waker is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        // One slot: a request finding it taken is already covered by the wake-up waiting
        // there, which has not started yet.
        let (tx, mut rx) = mpsc::channel(1);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                if let Err(e) = send(&pool).await {
                    tracing::warn!(error = %e, "could not wake the dispatchers; they find the work at their next poll");
                }
            }
        });
        Self(tx)
    }

    /// Asks for a wake-up that starts after everything this caller committed; returns at
    /// once.
    pub fn request(&self) {
        // Full: a wake-up not yet started is queued and covers this one. Closed: the
        // process is stopping, and the next dispatcher to start claims what is due.
        let _ = self.0.try_send(());
    }
}

async fn send(pool: &PgPool) -> sqlx::Result<()> {
    notify(&mut *pool.acquire().await?).await
}
