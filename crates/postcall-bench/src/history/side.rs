//! The two databases a measurement runs against, and what each run leaves behind.
//!
//! Full: the kept database with its year of history. A run's rows have phones of their own
//! (`+86139…`; history's are `+86138…`) and call ids of their own, so they never meet the
//! history in a unique index or a phone's frequency cap, and are deleted after the run so the
//! database stays as seeded. Empty: a database freshly migrated for the one run, dropped after
//! it; it holds a token history (`EMPTY_CALLS`) from the same generator so its tables have
//! statistics — a never-analyzed table is planned as empty and a cached foreign-key check
//! then scans it (webhook/seed.rs tells that story).

use std::fmt;

use anyhow::Context;
use postcall::{config::ExposeSecret, store::db};
use sqlx::{Connection as _, Executor, PgConnection, PgPool};

use super::seed;
use crate::{
    aggregate::seed::Survey,
    services::{self, Names},
};

/// The token history of an "empty" database: about an hour of a 1 M-calls-a-day centre.
const EMPTY_CALLS: i64 = 1_000;

/// The first and the last phone (exclusive) a run's rows may have: a range of
/// `calls_customer_phone_idx`, `surveys_phone_send_at_idx`, `messages_to_phone_idx` and
/// `inbound_messages_phone_idx` (the databases' collation orders these bytes as C).
const PHONES: (&str, &str) = ("+86139", "+8613:");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Full,
    Empty,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Full => "full",
            Side::Empty => "empty",
        })
    }
}

/// One run's database and broker names, and a pool for the bench's own statements.
pub struct Db {
    pub side: Side,
    pub names: Names,
    pub pool: PgPool,
}

impl Db {
    /// The kept database, under this run's broker names.
    pub async fn full(database: &str) -> anyhow::Result<Self> {
        let names = Names {
            database: database.to_owned(),
            ..Names::new("history")
        };
        let pool = PgPool::connect(&names.database_url()).await?;
        Ok(Self {
            side: Side::Full,
            names,
            pool,
        })
    }

    /// A fresh database with the token history.
    pub async fn empty(survey: &Survey) -> anyhow::Result<Self> {
        let names = Names::new("history_empty");
        let settings = names.settings(&[])?;
        let pool = db::connect(&settings.database).await?;
        db::migrate(&pool).await?;
        let mut conn = PgConnection::connect(settings.database.url.expose_secret()).await?;
        seed::history(&mut conn, survey, EMPTY_CALLS)
            .await
            .context("seeding the empty side's token history")?;
        conn.close().await?;
        Ok(Self {
            side: Side::Empty,
            names,
            pool,
        })
    }

    /// Leaves the full database as seeded, or drops the empty one; the broker names go.
    pub async fn finish(self) -> anyhow::Result<()> {
        let result = match self.side {
            Side::Full => remove_run_rows(&self.pool).await,
            Side::Empty => Ok(()),
        };
        self.pool.close().await;
        match self.side {
            Side::Full => services::delete_topology(&self.names).await,
            Side::Empty => self.names.clean_up().await,
        }
        result
    }
}

/// `column` within the run's phones, for a statement's WHERE.
pub fn run_phones(column: &str) -> String {
    format!("{column} >= '{}' AND {column} < '{}'", PHONES.0, PHONES.1)
}

/// The phone of a run's i-th row (as `webhook::replies::phone` and the ingest events make).
pub fn phone_sql(i: &str) -> String {
    format!("'{}' || lpad({i}::text, 8, '0')", PHONES.0)
}

/// Deletes every row a run made, children first, in one transaction. Rows the triggers
/// logged for the aggregation (`score_changes`) and events are left: no count checks them.
/// Foreign-key triggers are off for the transaction (children go first, so none could
/// fail): `inbound_messages.survey_id` has no index, nor `answers.survey_id` one usable for
/// a late answer, so each deleted survey's key check scanned both tables — minutes for a
/// run's 100 k rows. Production never deletes a survey.
async fn remove_run_rows(pool: &PgPool) -> anyhow::Result<()> {
    let surveys = format!(
        "SELECT id FROM surveys WHERE {}",
        run_phones("customer_phone")
    );
    // `calls` has no index on the phone (ingest does not need one): its rows go by the call
    // ids of the run's surveys, through the primary key, before the surveys. Every row a run
    // makes in `calls` has a survey (ingest's events are all scheduled; the other stages
    // insert both). A scan of the 10 M calls instead read 6 GB between runs and pushed the
    // indexes the next run probes out of the page cache.
    let statements = [
        (
            "answers",
            format!("DELETE FROM answers WHERE survey_id IN ({surveys})"),
        ),
        (
            "follow_up_moves",
            format!("DELETE FROM follow_up_moves WHERE survey_id IN ({surveys})"),
        ),
        (
            "follow_up_cases",
            format!("DELETE FROM follow_up_cases WHERE survey_id IN ({surveys})"),
        ),
        (
            "inbound_messages",
            format!(
                "DELETE FROM inbound_messages WHERE {}",
                run_phones("from_phone")
            ),
        ),
        (
            "messages",
            format!("DELETE FROM messages WHERE {}", run_phones("to_phone")),
        ),
        (
            "calls",
            format!(
                "DELETE FROM calls WHERE call_id IN (SELECT call_id FROM surveys WHERE {})",
                run_phones("customer_phone")
            ),
        ),
        (
            "surveys",
            format!("DELETE FROM surveys WHERE {}", run_phones("customer_phone")),
        ),
    ];
    let mut touched = Vec::new();
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    for (table, sql) in &statements {
        let deleted = sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("removing a run's rows: {sql}"))?
            .rows_affected();
        if deleted > 0 {
            touched.push(*table);
        }
    }
    tx.commit().await?;
    if touched.is_empty() {
        return Ok(());
    }
    // The deleted rows sit at the right-hand end of the phone indexes, where the next run
    // inserts and looks up: left for autovacuum (which on a large table comes rarely), they
    // made the full side visit dead tuples the empty side never had — dispatch measured
    // 0.67 of the empty side with them, most of it that (BENCHMARKS.md, history). A
    // production table has no such pile of deletions; vacuumed, the history is as seeded.
    // INDEX_CLEANUP ON: on a large table the deleted pages are too few for VACUUM to
    // clean the indexes by itself. Only the tables the run wrote: vacuuming the others read
    // every one of their indexes (gigabytes) for nothing, evicting the ones measured.
    pool.execute(format!("VACUUM (INDEX_CLEANUP ON) {}", touched.join(", ")).as_str())
        .await
        .context("vacuuming after removing a run's rows")?;
    Ok(())
}
