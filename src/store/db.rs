//! Connecting (creating the database if needed) and migrating.

use std::time::Duration;

use anyhow::Context;
use sqlx::{
    PgPool,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::{self, ExposeSecret};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A pool for the configured database, created first if it does not exist. Fails at
/// once if the server is unreachable: callers decide whether to retry.
pub async fn connect(settings: &config::Database) -> anyhow::Result<PgPool> {
    let url = settings.url.expose_secret();
    ensure_database(url).await?;
    let options: PgConnectOptions = url.parse().context("parsing database.url")?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.connect_timeout_seconds))
        // No round trip to test an idle connection before lending it: sqlx already pings
        // every connection as it comes back (and drops one that does not answer), so the
        // test only catches a connection broken while idle — a server restart — whose first
        // statement then fails: the caller's error path (a provider retries a callback the
        // server answered 5xx, a role's loop retries) and sqlx discards the connection.
        // The test cost every acquire a round trip (BENCHMARKS.md, webhook).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL")
}

async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let exists = sqlx::Postgres::database_exists(url)
        .await
        .context("checking that the database exists")?;
    if !exists {
        match sqlx::Postgres::create_database(url).await {
            Ok(()) => tracing::info!("created the database"),
            // Another replica may have created it between our check and our create.
            Err(e) if sqlx::Postgres::database_exists(url).await.unwrap_or(false) => {
                tracing::debug!(error = %e, "database appeared concurrently");
            }
            Err(e) => return Err(e).context("creating the database"),
        }
    }
    Ok(())
}

/// Applies pending migrations; several replicas may run it at once (sqlx takes a lock).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")
}

/// One round trip: the database answers.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop)
}
