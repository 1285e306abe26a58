//! Reconcile before resend, with two replicas, against a platform with no idempotency key
//! (Tencent, Aliyun or Twilio, each played strictly by its double) that loses answers: on first attempts it takes the send and answers past the worker's timeout, holds
//! it untaken past the timeout, or takes it and answers a timeout or system error of its
//! own (Tencent's `InternalError.Timeout`, Aliyun's `isp.SYSTEM_ERROR`, Twilio's 500); on any
//! later send it may, at random, take it and answer too late again; and one replica is
//! killed with SIGKILL mid-flow, leaving sends and lookups under leases nobody will record
//! (its sends are looked up once the leases run out). Every survey must open
//! (lost = 0) and no customer may get a first question twice: under one message id
//! (duplicate_sms, which no idempotency key absorbs here) or under two (duplicate).

use std::time::Duration;

use super::{
    LOOKUP_SOON, calls, config_args,
    platform::{Platform, Running},
    publish, start_replicas, stop_workers,
};
use crate::{
    lab::Lab,
    ledger::Fault,
    report::Report,
    tally::{self, FirstSms},
};

const N: u32 = 200;
/// Past the worker's 2 s request timeout.
const HANG: Duration = Duration::from_millis(3500);

fn fault(phone: &str, attempt: u32) -> Fault {
    let n: u32 = phone[phone.len() - 7..].parse().unwrap_or(0);
    match (attempt, n % 4) {
        (1, 0) => Fault::None,
        (1, 1) => Fault::TakeThenHang(HANG),
        (1, 2) => Fault::HangUntaken(HANG),
        (1, _) => Fault::TakenButTimedOut,
        _ if rand::random_bool(0.3) => Fault::TakeThenHang(HANG),
        _ => Fault::None,
    }
}

pub async fn run(lab: &Lab, report: &mut Report, platform: Platform) -> anyhow::Result<()> {
    let name = match platform {
        Platform::Tencent => "provider_faults_tencent",
        Platform::Aliyun => "provider_faults_aliyun",
        Platform::Twilio => "provider_faults_twilio",
    };
    let site = lab.site(name).await?;
    let double = Running::start(platform).await?;
    double.ledger().plan(fault);
    let args = config_args(&site, double.templates())?;
    let settings = [
        LOOKUP_SOON.as_slice(),
        &[
            ("POSTCALL__DISPATCH__LEASE_SECONDS", "15"),
            ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "1"),
            ("POSTCALL__DISPATCH__RETRY__MAX_DELAY_SECONDS", "4"),
            ("POSTCALL__DISPATCH__RETRY__MAX_ATTEMPTS", "6"),
        ],
    ]
    .concat();
    let names = ["worker-a", "worker-b"];
    let mut workers = start_replicas(&site, double.env(), &args, &names, &settings, report).await?;
    let client = reqwest::Client::new();

    let (calls, events) = calls("reconcile", 9, N, |_| None);
    publish(&site, &events, 200.0, Duration::from_secs(60)).await?;
    // Mid-flow: sends hanging on the platform, lookups under way.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    workers[0].restart()?;
    workers[0].ready(&client, Duration::from_secs(60)).await?;
    let settled = tally::wait_for(Duration::from_secs(150), || async {
        site.count("SELECT count(*) FROM surveys").await == i64::from(N)
            && tally::in_flight(&site).await == 0
    })
    .await;
    let receipts = tally::keyed_by_message(&site, double.ledger().receipts()).await?;
    let first = FirstSms::count(&site, &receipts, &calls).await?;
    let open = site
        .count("SELECT count(*) FROM surveys WHERE state = 'open'")
        .await;
    let looked_up = site
        .count("SELECT count(*) FROM messages WHERE reconcile_checks > 0")
        .await;
    let resent = site
        .count("SELECT count(*) FROM messages WHERE reconcile_checks > 0 AND attempts > 1")
        .await;
    let refused = double.ledger().refused();
    stop_workers(&mut workers, report).await;

    report
        .show("surveys", N)
        .show("open", open)
        .show("requests", receipts.len())
        .show("taken", receipts.iter().filter(|r| r.accepted()).count())
        .show("looked_up", looked_up)
        .show("resent_after_not_found", resent)
        .show("lookups", double.ledger().lookups())
        .show("killed", 1)
        .zero("lost", first.lost)
        .zero("duplicate", first.duplicate)
        .zero("duplicate_sms", first.resent)
        .zero("refused", refused.len())
        .check(refused.is_empty(), format!("refused: {refused:?}"))
        .zero("stuck", tally::in_flight(&site).await)
        .check(
            open == i64::from(N) && settled.is_some(),
            format!("did not all open: {}", tally::states(&site).await),
        );
    Ok(())
}
