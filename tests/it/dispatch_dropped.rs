//! The dispatch loops run on a thread of their own, outside the runtime that started them.
//! A dispatcher whose future is dropped unfinished (its runtime shut down, as an embedding
//! program or a test does) must take them down with it: a loop left running would go on
//! claiming surveys no send task would ever take, leaving them `sending` until their lease
//! ran out.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use postcall::app;
use sqlx::PgPool;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::{
    helpers::{Cleanup, Names, insert_surveys},
    provider_double::{Provider, webhook_accepted, webhook_env},
};

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_dispatcher_dropped_with_its_runtime_stops_claiming() {
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    // The provider double and the checks live on a runtime of their own, which outlasts the
    // worker's.
    let checks = runtime();
    let provider = checks.block_on(Provider::start(vec![webhook_accepted("prov-1")]));
    let mut env = webhook_env(&provider.uri());
    env.push(("POSTCALL__DISPATCH__POLL_INTERVAL_MS".into(), "100".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let settings = names.settings(&env);

    let worker = runtime();
    let running = worker
        .block_on(app::start(settings, CancellationToken::new()))
        .expect("the worker starts (are PostgreSQL and RabbitMQ running?)");
    worker.spawn(running.wait());

    let pool = checks
        .block_on(PgPool::connect(&names.database_url))
        .unwrap();
    let later = Utc::now() + TimeDelta::hours(1);
    let ids = checks.block_on(insert_surveys(&pool, 2, later, "Etc/UTC"));
    let (first, after) = (ids[0], ids[1]);
    // The loops run: a due survey is sent.
    checks.block_on(make_due(&pool, first));
    assert_eq!(
        checks.block_on(provider.wait_for(1)),
        1,
        "the first survey was not sent"
    );
    checks.block_on(until_open(&pool, first));

    drop(worker);
    // Whatever claim was under way when the runtime went has finished by now.
    std::thread::sleep(Duration::from_millis(500));
    checks.block_on(make_due(&pool, after));
    // Twenty polls of a loop that kept running.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        checks.block_on(state(&pool, after)),
        "scheduled",
        "a survey made due after the dispatcher was dropped was claimed"
    );
    assert_eq!(provider.count(), 1);
    checks.block_on(pool.close());
}

async fn state(pool: &PgPool, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM surveys WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn until_open(pool: &PgPool, id: i64) {
    for _ in 0..200 {
        if state(pool, id).await == "open" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("survey {id} was sent but not recorded open within 10 s");
}

async fn make_due(pool: &PgPool, id: i64) {
    sqlx::query("UPDATE surveys SET send_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
}
