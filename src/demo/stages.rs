//! The stages the demo walks through, each bounded: publishing and ingest, the first SMS,
//! the customers' replies, aggregation. Each draws its progress and says what it did.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::PgPool;

use super::{
    STALL, bounded,
    calls::Call,
    customers::Customer,
    play::Player,
    progress::{Progress, reach},
    publish, store,
};
use crate::{aggregate::Aggregator, config::Settings, store::outbox};

/// Publishing, then waiting until every call is recorded and every first SMS accepted.
pub async fn ingest(
    settings: &Settings,
    pool: &PgPool,
    calls: &[Call],
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let n = calls.len() as u64;
    progress.stage("publishing", n);
    bounded(publish::publish(&settings.amqp, calls, progress))
        .await
        .context("publishing the calls")?;
    progress.done(format!(
        "published {n} call.completed events to {}",
        settings.amqp.exchange
    ));

    progress.stage("ingested", n);
    let hint = format!("is the worker consuming {}?", settings.amqp.queue);
    reach(progress, "ingest", n, STALL, &hint, || store::calls(pool)).await?;
    let scheduled = store::surveys(pool).await? as u64;
    progress.done(format!(
        "ingested {n} calls: {scheduled} surveys scheduled, {} calls skipped with a reason",
        n - scheduled
    ));

    progress.stage("SMS sent", scheduled);
    let hint = "is the dispatcher sending? (quiet hours are off, the provider is console)";
    reach(progress, "sending", scheduled, STALL, hint, || {
        store::surveys_sent(pool)
    })
    .await?;
    progress.done(format!(
        "{scheduled} first SMS accepted by the console provider"
    ));
    Ok(())
}

/// The customers read their SMS and reply until every conversation has come to rest.
pub async fn play(
    settings: &Settings,
    pool: &PgPool,
    customers: &[Customer],
    progress: &mut Progress,
) -> anyhow::Result<Player> {
    let survey = settings.runtime()?.survey;
    let mut player = Player::new(pool.clone(), survey, customers.to_vec());
    progress.stage("replies played", player.planned());
    player.stranger().await?;
    let mut moved = Instant::now();
    loop {
        let handled = player.round().await?;
        progress.set(player.played());
        if handled > 0 {
            moved = Instant::now();
            continue;
        }
        if player.finished().await? {
            break;
        }
        if moved.elapsed() > STALL {
            bail!(
                "replies stalled: {} of {} replies played after {} s without a new SMS; {}",
                player.played(),
                player.planned(),
                STALL.as_secs(),
                player.waiting()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let talkers = customers
        .iter()
        .filter(|c| c.delivered() && !c.planned.is_empty())
        .count();
    progress.done(format!(
        "{} replies played by {talkers} customers (and one wrong number); {} stayed silent",
        player.played(),
        customers.len() - talkers
    ));
    Ok(player)
}

pub async fn aggregate(
    settings: &Settings,
    pool: &PgPool,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    progress.stage("aggregating", 1);
    let folded = bounded(Aggregator::new(pool.clone(), &settings.runtime()?).run_now())
        .await
        .context("aggregating")?;
    progress.inc();
    progress.done(format!("aggregated: {folded}"));
    // Survey events leave through the outbox shortly after the replies that caused them:
    // a moment's wait makes the printed counts final. A slow broker is not a failure.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && outbox::unpublished(pool).await? > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
