//! The seeded database, kept between invocations: seeding 10 M answers takes minutes, a
//! measurement a few. Seeded again only when it is missing, was seeded with another
//! `--size` or by another generator, or its applied migrations are not a prefix of this
//! build's (one was edited or removed). Migrations added since are applied on top, as a
//! production upgrade would; the aggregation rebuilds by itself if they change its basis.

use std::time::Instant;

use anyhow::Context;
use postcall::{
    config::{ExposeSecret, Settings},
    store::db,
};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::seed::{self, Seeded, Survey};
use crate::services;

pub struct Kept {
    pub pool: PgPool,
    pub next: i64,
}

/// Opens `name`, seeding it first when it cannot be used as it is.
pub async fn open(
    settings: &Settings,
    name: &str,
    survey: &Survey,
    answers: i64,
) -> anyhow::Result<Kept> {
    if let Some(kept) = reuse(settings, name, answers).await? {
        return Ok(kept);
    }
    services::drop_database(name).await;
    let pool = db::connect(&settings.database).await?;
    db::migrate(&pool).await?;
    let calls = seed::history_calls(answers as u64);
    eprintln!("aggregate: seeding {name}: {calls} calls of history for ~{answers} answers…");
    let started = Instant::now();
    let mut conn = PgConnection::connect(settings.database.url.expose_secret()).await?;
    let (next, timings) = seed::history(&mut conn, survey, calls).await?;
    conn.close().await?;
    let steps: Vec<String> = timings
        .0
        .iter()
        .map(|(step, s)| format!("{step} {s:.1}s"))
        .collect();
    eprintln!(
        "aggregate: seeded in {:.0}s ({}); kept for the next invocation",
        started.elapsed().as_secs_f64(),
        steps.join(", ")
    );
    seed::mark_seeded(&pool, Seeded { answers, next }).await?;
    Ok(Kept { pool, next })
}

/// The kept database, if it exists, holds what was asked for and takes this build's
/// migrations.
async fn reuse(settings: &Settings, name: &str, answers: i64) -> anyhow::Result<Option<Kept>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut services::admin().await?)
            .await?;
    if !exists {
        eprintln!("aggregate: no kept database {name}: seeding one");
        return Ok(None);
    }
    let pool = db::connect(&settings.database).await?;
    let seeded = seed::seeded(&pool).await.context("reading bench.seeded")?;
    let Some(seeded) = seeded else {
        eprintln!("aggregate: {name} has no completed seed of this generator: seeding again");
        pool.close().await;
        return Ok(None);
    };
    if seeded.answers != answers {
        eprintln!(
            "aggregate: {name} was seeded with {} answers, {answers} asked for: seeding again",
            seeded.answers
        );
        pool.close().await;
        return Ok(None);
    }
    if let Err(e) = db::migrate(&pool).await {
        eprintln!("aggregate: {name}'s migrations differ from this build's ({e:#}): seeding again");
        pool.close().await;
        return Ok(None);
    }
    eprintln!(
        "aggregate: reusing the kept database {name} (seeded with {answers} answers; \
         migrations current); drop it to seed afresh"
    );
    Ok(Some(Kept {
        pool,
        next: seeded.next,
    }))
}
