//! kill -9 of the worker at random moments while 10,000 events flow and their first SMS go
//! out: every eligible call ends with exactly one survey whose first question reached the
//! provider once. A message id may arrive again after a kill (its send was cut off before
//! the outcome was recorded): that is `resent`, absorbed by the idempotency key.

use std::time::Duration;

use rand::Rng;

use crate::{
    lab::Lab,
    provider::Provider,
    publisher::{Publisher, event, phone},
    report::Report,
    tally::{self, FirstSms},
    worker::{self, Worker},
};

const EVENTS: u32 = 10_000;
const KILLS: u32 = 6;
/// Sends the worker may have in flight at a kill: one claimed batch.
const BATCH: usize = 50;

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("kill9").await?;
    let provider = Provider::start().await?;
    let mut env = provider.env();
    env.extend(worker::env(&[
        // A killed worker's leases come back after 10 s rather than the default minute.
        ("POSTCALL__DISPATCH__LEASE_SECONDS", "10"),
        ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "3"),
        ("POSTCALL__DISPATCH__BATCH_SIZE", &BATCH.to_string()),
        ("POSTCALL__DISPATCH__RATE_LIMIT__MESSAGES_PER_SECOND", "500"),
        (
            "POSTCALL__DISPATCH__RATE_LIMIT__SEGMENTS_PER_SECOND",
            "2000",
        ),
    ]));
    let mut w = Worker::start(&site, "worker", &env)?;
    report.watch(&w.log);
    let client = reqwest::Client::new();
    w.ready(&client, Duration::from_secs(60)).await?;

    let calls: Vec<String> = (0..EVENTS).map(|i| format!("kill9-{i}")).collect();
    let ended = chrono::Utc::now() - chrono::TimeDelta::minutes(2);
    let events: Vec<_> = (0..EVENTS)
        .map(|i| event(&calls[i as usize], &phone(1, i), ended, None))
        .collect();
    let publishing = async {
        let mut publisher = Publisher::new(&site.amqp_url);
        let published = publisher
            .publish(&events, 400.0, Duration::from_secs(60))
            .await;
        publisher.close().await;
        published
    };
    let killing = async {
        for _ in 0..KILLS {
            let pause = rand::rng().random_range(1500..4000);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            w.restart()?;
        }
        anyhow::Ok(())
    };
    let (published, killed) = tokio::join!(publishing, killing);
    published?;
    killed?;

    let reached = tally::wait_for(Duration::from_secs(120), || async {
        tally::phones_reached(&provider) >= EVENTS as usize
    })
    .await;
    // The last kill's leases expire and are sent or settled.
    let settled = tally::wait_for(Duration::from_secs(60), || async {
        tally::in_flight(&site).await == 0
    })
    .await;
    let first = FirstSms::count(&site, &provider, &calls).await?;
    let surveys = site.count("SELECT count(*) FROM surveys").await;
    let misjudged = site
        .count("SELECT count(*) FROM calls WHERE decision <> 'scheduled'")
        .await;
    let restarts = w.starts - 1;
    let stopped = w.terminate(Duration::from_secs(40)).await;

    report
        .show("events", EVENTS)
        .show("surveys", surveys)
        .show("sent", first.reached)
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .show("resent", first.resent)
        .zero("misjudged", misjudged)
        .zero("stuck", tally::in_flight(&site).await)
        .zero("unknown", first.unknown)
        .zero("malformed", first.malformed)
        .show("restarts", restarts)
        .check(restarts >= 5, format!("only {restarts} restarts"))
        .check(
            first.resent <= restarts as usize * BATCH && first.max_per_id <= 1 + restarts as usize,
            format!(
                "resent {} (at most {} a message id): more than one batch per kill",
                first.resent, first.max_per_id
            ),
        )
        .check(
            reached.is_some() && settled.is_some(),
            format!("did not drain: {}", tally::states(&site).await),
        )
        .check(
            stopped.is_some_and(|s| s.success()),
            format!("SIGTERM at the end: {stopped:?}"),
        );
    Ok(())
}
