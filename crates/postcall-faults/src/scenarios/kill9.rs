//! kill -9 of the worker at random moments while 10,000 events flow and their first SMS go
//! out: every eligible call ends with exactly one survey whose first question reached the
//! provider once. A message id may arrive again after a kill (its send was cut off before
//! the outcome was recorded): that is `resent`, absorbed by the idempotency key.

use std::time::Duration;

use rand::Rng;

use super::{calls, drain, publish, start_worker, stop_workers};
use crate::{
    lab::Lab,
    provider::Provider,
    report::Report,
    tally::{self, FirstSms},
};

const EVENTS: u32 = 10_000;
const KILLS: u32 = 6;
/// Sends the worker may have in flight at a kill: one claimed batch.
const BATCH: usize = 50;

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("kill9").await?;
    let provider = Provider::start().await?;
    let batch = BATCH.to_string();
    let settings = [
        // A killed worker's leases come back after 10 s rather than the default minute.
        ("POSTCALL__DISPATCH__LEASE_SECONDS", "10"),
        ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "3"),
        ("POSTCALL__DISPATCH__BATCH_SIZE", batch.as_str()),
    ];
    let mut w = start_worker(&site, &provider, &settings, report).await?;

    let (calls, events) = calls("kill9", 1, EVENTS, |_| None);
    let publishing = publish(&site, &events, 400.0, Duration::from_secs(60));
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

    // The last kill's leases expire and are sent or settled.
    let (reached, settled) = drain(&site, &provider, EVENTS as usize).await;
    let first = FirstSms::count(&site, &provider.receipts(), &calls).await?;
    let surveys = site.count("SELECT count(*) FROM surveys").await;
    let misjudged = site
        .count("SELECT count(*) FROM calls WHERE decision <> 'scheduled'")
        .await;
    let restarts = w.starts - 1;
    stop_workers(std::slice::from_mut(&mut w), report).await;

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
        );
    Ok(())
}
