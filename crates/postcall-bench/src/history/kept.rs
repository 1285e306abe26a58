//! The full database, kept between invocations: seeding 10 M calls takes many minutes, a
//! measurement a few. Used again only when it holds exactly what its seed recorded — the
//! calls asked for, by this generator, every table's rows counted equal — and this build's
//! migrations apply to it (added ones are applied on top, as a production upgrade would).
//! Runs take their rows out again (`cleanup`), so the counts stay those of the seed.

use std::time::Instant;

use anyhow::Context;
use postcall::{
    config::{ExposeSecret, Settings},
    store::db,
};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::seed::{self, GENERATOR, TABLES};
use crate::{aggregate::seed::Survey, services};

/// Opens `name`, seeding it first when it cannot be used as it is.
pub async fn open(
    settings: &Settings,
    name: &str,
    survey: &Survey,
    calls: i64,
) -> anyhow::Result<PgPool> {
    if let Some(pool) = reuse(settings, name, calls).await? {
        return Ok(pool);
    }
    services::drop_database(name).await;
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    eprintln!("history: seeding {name} with {calls} calls of history…");
    let started = Instant::now();
    let mut conn = PgConnection::connect(settings.database.url.expose_secret()).await?;
    let steps = seed::history(&mut conn, survey, calls).await?;
    let counts = seed::rows(&mut conn).await?;
    conn.close().await?;
    let steps: Vec<String> = steps
        .iter()
        .map(|(step, s)| format!("{step} {s:.0}s"))
        .collect();
    eprintln!(
        "history: seeded in {:.0}s ({}); rows {}; kept for the next invocation",
        started.elapsed().as_secs_f64(),
        steps.join(", "),
        describe(&counts)
    );
    sqlx::query(
        "CREATE TABLE bench.history_seeded (calls bigint NOT NULL, generator int NOT NULL,
                                            rows bigint[] NOT NULL, seeded_at timestamptz NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO bench.history_seeded VALUES ($1, $2, $3, now())")
        .bind(calls)
        .bind(GENERATOR)
        .bind(&counts)
        .execute(&pool)
        .await?;
    Ok(pool)
}

async fn reuse(settings: &Settings, name: &str, calls: i64) -> anyhow::Result<Option<PgPool>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut services::admin().await?)
            .await?;
    if !exists {
        eprintln!("history: no kept database {name}: seeding one");
        return Ok(None);
    }
    let pool = db::connect(&settings.database).await?;
    let verdict = check(&pool, calls).await?;
    if let Some(why) = verdict {
        eprintln!("history: {name} {why}: seeding again");
        pool.close().await;
        return Ok(None);
    }
    if let Err(e) = db::migrate(&pool).await {
        eprintln!("history: {name}'s migrations differ from this build's ({e:#}): seeding again");
        pool.close().await;
        return Ok(None);
    }
    eprintln!("history: reusing the kept database {name} ({calls} calls; rows as seeded)");
    Ok(Some(pool))
}

/// Why the database cannot be used, if it cannot.
async fn check(pool: &PgPool, calls: i64) -> anyhow::Result<Option<String>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('bench.history_seeded') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(Some("has no completed seed".into()));
    }
    let recorded: Option<(i64, Vec<i64>)> =
        sqlx::query_as("SELECT calls, rows FROM bench.history_seeded WHERE generator = $1")
            .bind(GENERATOR)
            .fetch_optional(pool)
            .await
            .context("reading bench.history_seeded")?;
    let Some((seeded, expected)) = recorded else {
        return Ok(Some("was seeded by another generator".into()));
    };
    if seeded != calls {
        return Ok(Some(format!("holds {seeded} calls, {calls} asked for")));
    }
    let started = Instant::now();
    let counted = seed::rows(&mut *pool.acquire().await?).await?;
    eprintln!(
        "history: rows counted in {:.0}s: {}",
        started.elapsed().as_secs_f64(),
        describe(&counted)
    );
    if counted != expected {
        return Ok(Some(format!(
            "holds {} rows, its seed recorded {}",
            describe(&counted),
            describe(&expected)
        )));
    }
    Ok(None)
}

fn describe(counts: &[i64]) -> String {
    TABLES
        .iter()
        .zip(counts)
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
