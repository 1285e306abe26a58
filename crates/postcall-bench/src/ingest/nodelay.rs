//! TCP_NODELAY on sqlx's sockets (DESIGN.md §7, sqlx#4335): a statement larger than one
//! segment must not wait ~40 ms for a delayed ACK. Large and 1-row `INSERT … UNNEST`
//! statements interleave on one connection, so both see the same noise.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{Executor, PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

use crate::{
    services::{Names, create_database, drop_database},
    stats::median,
};

/// Linux's minimum delayed-ACK timeout: a statement stalled by Nagle waits at least this.
pub const DELAYED_ACK_FLOOR_MS: f64 = 40.0;
const BATCH_ROWS: usize = 500;
const SINGLES_PER_BATCH: usize = 5;

pub struct Nodelay {
    pub batch_ms: f64,
    pub single_ms: f64,
    pub statement_bytes: usize,
    /// Statements (of either size) at or above the delayed-ACK floor: a stall that hits
    /// only some statements would not move the median, but shows here.
    pub stalled: usize,
    pub statements: usize,
}

impl Nodelay {
    /// Nagle + delayed ACK would put the median large statement at the floor or above.
    pub fn ok(&self) -> bool {
        self.batch_ms < DELAYED_ACK_FLOOR_MS
    }
}

/// Six text/timestamptz columns, like `calls` minus the indexes: this is about the wire,
/// not about PostgreSQL's index maintenance.
const SCRATCH_TABLE: &str = "CREATE TABLE scratch (id text, phone text, agent text, \
    note text, started_at timestamptz, ended_at timestamptz)";
const SCRATCH_INSERT: &str = "INSERT INTO scratch SELECT * FROM unnest($1::text[], \
    $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])";

struct Rows {
    ids: Vec<String>,
    phones: Vec<String>,
    agents: Vec<String>,
    notes: Vec<String>,
    started: Vec<DateTime<Utc>>,
    ended: Vec<DateTime<Utc>>,
}

fn rows(n: usize) -> Rows {
    let now = Utc::now();
    Rows {
        ids: (0..n).map(|_| Uuid::new_v4().to_string()).collect(),
        phones: (0..n).map(|i| format!("+86139{i:08}")).collect(),
        agents: (0..n).map(|i| format!("agent-{}", i % 50)).collect(),
        // ~100 bytes of text per row: 500 rows make a ~96 KiB statement, more than one
        // segment even on loopback (64 KiB MSS): the shape DESIGN.md §7 saw stall.
        notes: (0..n).map(|i| format!("{i:0>100}")).collect(),
        started: vec![now - TimeDelta::minutes(6); n],
        ended: vec![now; n],
    }
}

/// Bytes of bound parameters on the wire: each array element carries a 4-byte length.
fn statement_bytes(rows: &Rows) -> usize {
    let text: usize = [&rows.ids, &rows.phones, &rows.agents, &rows.notes]
        .iter()
        .flat_map(|column| column.iter().map(|s| s.len() + 4))
        .sum();
    text + rows.started.len() * 2 * (8 + 4)
}

async fn insert(pool: &PgPool, rows: &Rows) -> anyhow::Result<f64> {
    let started = Instant::now();
    sqlx::query(SCRATCH_INSERT)
        .bind(&rows.ids)
        .bind(&rows.phones)
        .bind(&rows.agents)
        .bind(&rows.notes)
        .bind(&rows.started)
        .bind(&rows.ended)
        .execute(pool)
        .await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// `statements` large ones, each followed by a few 1-row ones; a few of each go first so
/// that statement preparation is not timed.
pub async fn measure(statements: usize) -> anyhow::Result<Nodelay> {
    let names = Names::new("nodelay");
    create_database(&names.database).await?;
    let result = async {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&names.database_url())
            .await?;
        pool.execute(SCRATCH_TABLE).await?;
        let (batch, single) = (rows(BATCH_ROWS), rows(1));
        for _ in 0..3 {
            insert(&pool, &batch).await?;
            insert(&pool, &single).await?;
        }
        let (mut batch_ms, mut single_ms) = (Vec::new(), Vec::new());
        for _ in 0..statements {
            batch_ms.push(insert(&pool, &batch).await?);
            for _ in 0..SINGLES_PER_BATCH {
                single_ms.push(insert(&pool, &single).await?);
            }
        }
        pool.close().await;
        let all = batch_ms.iter().chain(&single_ms);
        anyhow::Ok(Nodelay {
            batch_ms: median(&batch_ms),
            single_ms: median(&single_ms),
            statement_bytes: statement_bytes(&batch),
            stalled: all.filter(|&&ms| ms >= DELAYED_ACK_FLOOR_MS).count(),
            statements: batch_ms.len() + single_ms.len(),
        })
    }
    .await;
    drop_database(&names.database).await;
    result
}
