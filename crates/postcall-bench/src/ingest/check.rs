//! Did every event arrive exactly once? Counted from the database and the broker after the
//! consumer stopped, so unacked deliveries are back in the queue and would show.

use anyhow::{Context, ensure};
use lapin::{options::QueueDeclareOptions, types::FieldTable};
use sqlx::PgPool;

use crate::services::{Names, amqp_connect};

pub async fn count(pool: &PgPool, sql: &str) -> anyhow::Result<usize> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(n.try_into()?)
}

pub async fn count_calls(pool: &PgPool) -> anyhow::Result<usize> {
    count(pool, "SELECT count(*) FROM calls").await
}

/// `n` calls recorded (the primary key makes a second row for a call impossible), and,
/// when `surveys` is given, that many scheduled surveys; nothing left in the queue or
/// dead-lettered.
pub async fn exactly_once(
    names: &Names,
    pool: &PgPool,
    n: usize,
    surveys: Option<usize>,
) -> anyhow::Result<()> {
    let calls = count_calls(pool).await?;
    ensure!(calls == n, "{calls} calls recorded for {n} events");
    if let Some(expected) = surveys {
        let scheduled = count(
            pool,
            "SELECT count(*) FROM calls c JOIN surveys s USING (call_id) \
             WHERE c.decision = 'scheduled' AND s.state = 'scheduled'",
        )
        .await?;
        ensure!(
            scheduled == expected,
            "{scheduled} scheduled surveys, expected {expected}"
        );
    }
    let (ready, dead) = (queued(&names.queue).await?, queued(&names.dlq).await?);
    ensure!(
        ready == 0 && dead == 0,
        "{ready} events left in the queue and {dead} dead-lettered after the run"
    );
    Ok(())
}

/// Messages ready in `queue` (a passive declare: fails if the queue is gone).
async fn queued(queue: &str) -> anyhow::Result<u32> {
    let connection = amqp_connect("postcall-bench-check").await?;
    let channel = connection.create_channel().await?;
    let options = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let declared = channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .with_context(|| format!("looking at queue {queue}"))?;
    let _ = connection.close(200, "bench check done".into()).await;
    Ok(declared.message_count())
}
