//! The baseline: what RabbitMQ, lapin and PostgreSQL allow for the same rows with no logic.
//! Raw lapin consume with the worker's prefetch, batches of the worker's size, one
//! `INSERT … SELECT FROM unnest(…)` of the same rows into the same `calls` table (fresh
//! database, postcall's migrations, so the same indexes), then one ack-multiple. No
//! validation, no eligibility, no surveys, no dedup; the body is pulled apart with a
//! borrowing serde struct only to get the columns.

use anyhow::Context;
use futures_util::StreamExt;
use lapin::{
    Channel,
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use sqlx::{PgPool, postgres::PgPoolOptions};

use super::{STAGE_TIMEOUT, check, events};
use crate::{
    proc_stats::{Rate, Window},
    services::{Names, amqp_connect, create_database},
};

const INSERT: &str = r#"
    INSERT INTO calls (call_id, event_id, customer_phone, agent_id, queue, started_at,
                       answered_at, ended_at, disposition, language, wait_seconds,
                       talk_seconds, decision, event)
    SELECT c, e, p, a, q, s, an, en, d, l, extract(epoch FROM an - s),
           extract(epoch FROM en - an), 'scheduled', b
      FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                  $6::text[]::timestamptz[], $7::text[]::timestamptz[],
                  $8::text[]::timestamptz[], $9::text[], $10::text[],
                  $11::text[]::jsonb[]) AS t(c, e, p, a, q, s, an, en, d, l, b)
"#;

pub async fn run(names: &Names, bodies: &[Vec<u8>]) -> anyhow::Result<Rate> {
    let settings = names.settings(&[])?;
    create_database(&names.database).await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&names.database_url())
        .await?;
    let result = async {
        postcall::store::db::migrate(&pool).await?;
        let publisher = amqp_connect("postcall-bench-publisher").await?;
        let channel = publisher.create_channel().await?;
        postcall::amqp::declare_topology(&channel, &settings.amqp).await?;
        events::publish(&channel, &names.exchange, bodies.len(), |i| {
            bodies[i].clone()
        })
        .await?;
        let _ = publisher.close(200, "bench done".into()).await;

        let consumer = amqp_connect("postcall-bench-baseline").await?;
        let limits = (settings.ingest.prefetch, settings.ingest.batch_size);
        let rate = tokio::time::timeout(
            STAGE_TIMEOUT,
            consume(&consumer, &pool, &names.queue, bodies.len(), limits),
        )
        .await
        .context("the baseline did not drain its queue in time")??;
        let _ = consumer.close(200, "bench done".into()).await;
        check::exactly_once(names, &pool, bodies.len(), None).await?;
        anyhow::Ok(rate)
    }
    .await;
    pool.close().await;
    result
}

/// Like the worker's clock, this one starts at the first commit: connecting and filling
/// the prefetch window are startup, the rest is steady state against a full queue.
async fn consume(
    connection: &lapin::Connection,
    pool: &PgPool,
    queue: &str,
    n: usize,
    (prefetch, batch_size): (u16, usize),
) -> anyhow::Result<Rate> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut done = 0;
    let started = Window::start();
    let mut clock: Option<(Window, usize)> = None;
    let mut batch = Vec::with_capacity(batch_size);
    while done < n {
        batch.clear();
        while batch.len() < batch_size.min(n - done) {
            let delivery = consumer
                .next()
                .await
                .context("the consumer stream ended")??;
            batch.push(delivery);
        }
        insert(pool, &batch).await?;
        ack(&channel, batch.last().expect("a batch").delivery_tag).await?;
        done += batch.len();
        clock.get_or_insert_with(|| (Window::start(), done));
    }
    let (window, first) = clock.expect("n >= 1");
    if first >= n {
        // One batch (--quick): no steady state to time, so from the consumer's start.
        return Ok(started.finish(n));
    }
    Ok(window.finish(n - first))
}

async fn ack(channel: &Channel, tag: u64) -> anyhow::Result<()> {
    channel
        .basic_ack(tag, BasicAckOptions { multiple: true })
        .await?;
    Ok(())
}

async fn insert(pool: &PgPool, batch: &[lapin::message::Delivery]) -> anyhow::Result<()> {
    let rows = batch
        .iter()
        .map(|d| Ok((serde_json::from_slice::<events::Body>(&d.data)?, &d.data)))
        .collect::<serde_json::Result<Vec<_>>>()?;
    let col = |f: for<'r> fn(&'r events::Body<'r>) -> &'r str| {
        rows.iter().map(|(r, _)| f(r)).collect::<Vec<&str>>()
    };
    let bodies: Vec<&str> = rows
        .iter()
        .map(|(_, b)| std::str::from_utf8(b))
        .collect::<Result<_, _>>()?;
    sqlx::query(INSERT)
        .bind(col(|r| r.call_id))
        .bind(rows.iter().map(|(r, _)| r.event_id).collect::<Vec<_>>())
        .bind(col(|r| r.customer_phone))
        .bind(col(|r| r.agent_id))
        .bind(col(|r| r.queue))
        .bind(col(|r| r.started_at))
        .bind(col(|r| r.answered_at))
        .bind(col(|r| r.ended_at))
        .bind(col(|r| r.disposition))
        .bind(col(|r| r.language))
        .bind(bodies)
        .execute(pool)
        .await?;
    Ok(())
}
