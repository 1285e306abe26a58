//! Abuse of the callback endpoints: forged, unsigned, tampered, stale, future-dated,
//! oversized and malformed callbacks are refused with a 4xx and change nothing; a replayed
//! callback (the same webhook id, or the same provider message under a new id, also ten at
//! once) changes nothing beyond what the original did. Every attack carries a message that
//! would change something if it were let in ("TD" from a customer in a survey, an answer,
//! a delivery failure), and a properly signed one at the end shows that it would.

use std::time::Duration;

use postcall::channels::webhook::signature::Secret;
use reqwest::StatusCode;
use serde_json::json;

use super::{open_surveys, start_worker, stop_workers};
use crate::{
    customer::{Callback, Customers},
    lab::{Lab, Site},
    provider::Provider,
    report::Report,
    tally::{self, snapshot},
};

const CUSTOMERS: u32 = 3;

pub async fn run(lab: &Lab, report: &mut Report) -> anyhow::Result<()> {
    let site = lab.site("abuse").await?;
    let provider = Provider::start().await?;
    let mut w = start_worker(&site, &provider, &[], report).await?;

    // Three customers in an open survey, waiting to answer.
    let phones = open_surveys(&site, "abuse", 2, CUSTOMERS).await?;
    let sent_id: String = sqlx::query_scalar(
        "SELECT provider_message_id FROM messages WHERE to_phone = $1 AND provider_message_id IS NOT NULL",
    )
    .bind(&phones[2])
    .fetch_one(&site.pool)
    .await?;

    let customers = Customers::new();
    let before = snapshot(&site).await;
    let receipts_before = site.count("SELECT count(*) FROM webhook_receipts").await;
    let attacks = attacks(&customers, &w.base, &phones, &sent_id).await?;
    let refused = attacks.iter().filter(|(_, s)| s.is_client_error()).count();
    let let_in: Vec<String> = attacks
        .iter()
        .filter(|(_, s)| !s.is_client_error())
        .map(|(name, s)| format!("{name}→{}", s.as_u16()))
        .collect();
    let after = snapshot(&site).await;
    let receipts_after = site.count("SELECT count(*) FROM webhook_receipts").await;

    // The control: the same kind of message, properly signed, does change things.
    let genuine = customers.sign(Customers::received(&phones[0], "TD"));
    let control = customers.post(&w.base, &genuine).await?;
    // Its confirmation SMS goes out before the replays are compared with it.
    settle(&site).await;
    let applied = snapshot(&site).await;
    let replays = replays(&customers, &w.base, &genuine).await?;
    settle(&site).await;
    let replayed = snapshot(&site).await;

    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for (_, status) in &attacks {
        *answers.entry(status.as_u16()).or_default() += 1;
    }
    let answers: Vec<String> = answers.iter().map(|(s, n)| format!("{s}x{n}")).collect();
    report
        .show("attacks", attacks.len())
        .show("refused", refused)
        .show("answers", answers.join(","))
        .zero("let_in", let_in.len())
        .check(
            let_in.is_empty(),
            format!("not refused: {}", let_in.join(", ")),
        )
        .zero("changed", usize::from(before != after))
        .check(
            before == after,
            format!("attacks changed {before} → {after}"),
        )
        .check(
            receipts_before == receipts_after,
            "a refused callback was remembered as received",
        )
        .show("replays", replays.len())
        .zero("replay_changed", usize::from(applied != replayed))
        .check(
            applied == replayed,
            format!("a replay changed {applied} → {replayed}"),
        )
        .check(
            replays
                .iter()
                .all(|s| s.is_success() || s.is_client_error()),
            format!("replays answered {replays:?}"),
        )
        .show("control", control.as_u16())
        .check(
            control.is_success() && applied != after,
            format!("the genuine callback ({control}) changed nothing: {applied}"),
        );
    stop_workers(std::slice::from_mut(&mut w), report).await;
    Ok(())
}

/// Each attack and the worker's answer.
async fn attacks(
    customers: &Customers,
    base: &str,
    phones: &[String],
    sent_id: &str,
) -> anyhow::Result<Vec<(&'static str, StatusCode)>> {
    let stop = || Customers::received(&phones[0], "TD");
    let answer = || Customers::received(&phones[1], "1");
    let failure = || {
        json!({"type": "message.status",
               "data": {"provider_message_id": sent_id, "status": "failed", "error_code": "30003"}})
        .to_string()
        .into_bytes()
    };
    let now = chrono::Utc::now().timestamp();
    let other = Secret::parse("whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtb25lLWNvbmZpZ3VyZWQ=")?;
    let good = customers.sign(stop());
    let mut sent = Vec::new();
    let mut post = async |name: &'static str, headers: Vec<(&str, String)>, body: Vec<u8>| {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let status = customers.post_with(base, &pairs, body).await?;
        sent.push((name, status));
        anyhow::Ok(())
    };
    let signed = |c: &Callback| {
        vec![
            ("webhook-id", c.id.clone()),
            ("webhook-timestamp", c.timestamp.clone()),
            ("webhook-signature", c.signature.clone()),
        ]
    };

    post("unsigned", vec![], stop()).await?;
    let mut no_signature = signed(&good);
    no_signature.pop();
    post("no-signature", no_signature, stop()).await?;
    let forged = customers.sign_as(&other, stop(), now);
    post("forged-stop", signed(&forged), forged.body.clone()).await?;
    let forged = customers.sign_as(&other, failure(), now);
    post("forged-status", signed(&forged), forged.body.clone()).await?;
    let forged = customers.sign_as(&other, answer(), now);
    post("forged-answer", signed(&forged), forged.body.clone()).await?;
    // A genuine signature over one body, sent with another.
    let original = customers.sign(answer());
    post("tampered-body", signed(&original), stop()).await?;
    let mut other_id = signed(&good);
    other_id[0].1 = format!("{}x", good.id);
    post("tampered-id", other_id, good.body.clone()).await?;
    // Captured six minutes ago, replayed now.
    let stale = customers.sign_as(&customers_secret(), stop(), now - 6 * 60);
    post("stale", signed(&stale), stale.body.clone()).await?;
    let future = customers.sign_as(&customers_secret(), stop(), now + 6 * 60);
    post("future", signed(&future), future.body.clone()).await?;
    let mut bad_time = signed(&good);
    bad_time[1].1 = "soon".into();
    post("bad-timestamp", bad_time, good.body.clone()).await?;
    let mut v2 = signed(&good);
    v2[2].1 = v2[2].1.replacen("v1,", "v2,", 1);
    post("wrong-scheme", v2, good.body.clone()).await?;
    // Validly signed, but larger than any callback (64 KiB).
    let mut big: serde_json::Value = serde_json::from_slice(&stop())?;
    big["padding"] = json!("x".repeat(70 * 1024));
    let big = customers.sign(serde_json::to_vec(&big)?);
    post("oversized", signed(&big), big.body.clone()).await?;
    // Validly signed, but not a callback.
    let junk = customers.sign(b"{\"type\":\"message.received\",\"data\":".to_vec());
    post("signed-junk", signed(&junk), junk.body.clone()).await?;
    let unknown = customers.sign(br#"{"type":"account.deleted","data":{}}"#.to_vec());
    post("signed-unknown", signed(&unknown), unknown.body.clone()).await?;
    let bad_status = json!({"type": "message.status",
        "data": {"provider_message_id": sent_id, "status": "exploded"}});
    let bad_status = customers.sign(serde_json::to_vec(&bad_status)?);
    post(
        "signed-bad-status",
        signed(&bad_status),
        bad_status.body.clone(),
    )
    .await?;

    // Twilio's endpoints, with no auth token configured, refuse everything.
    for (name, path) in [
        ("twilio-inbound", "/webhooks/twilio/inbound"),
        ("twilio-status", "/webhooks/twilio/status"),
    ] {
        let form = format!(
            "MessageSid=SM{}&From={}&To=%2B8610690000&Body=TD&MessageStatus=failed",
            uuid::Uuid::new_v4().simple(),
            phones[0].replace('+', "%2B")
        );
        let status = customers
            .client()
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", "bm90IGEgc2lnbmF0dXJl")
            .body(form)
            .send()
            .await?
            .status();
        sent.push((name, status));
    }
    Ok(sent)
}

fn customers_secret() -> Secret {
    Secret::parse(crate::provider::SECRET).expect("the suite's secret parses")
}

/// The genuine callback again: the same webhook id, at once and ten at a time; then the
/// same provider message under a new webhook id.
async fn replays(
    customers: &Customers,
    base: &str,
    genuine: &Callback,
) -> anyhow::Result<Vec<StatusCode>> {
    let mut statuses = vec![customers.post(base, genuine).await?];
    let burst = (0..10).map(|_| customers.post(base, genuine));
    for status in futures_util::future::join_all(burst).await {
        statuses.push(status?);
    }
    let same_message = customers.sign(genuine.body.clone());
    statuses.push(customers.post(base, &same_message).await?);
    Ok(statuses)
}

async fn settle(site: &Site) {
    tally::wait_for(Duration::from_secs(30), || async {
        tally::in_flight(site).await == 0
    })
    .await;
}
