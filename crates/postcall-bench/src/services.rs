//! The local PostgreSQL and RabbitMQ as the bench uses them: a fresh database and a fresh set
//! of broker names per measurement, dropped afterwards, and settings that are the shipped
//! defaults with only addresses and names replaced, so the bench measures what production
//! runs. `POSTCALL__*` variables of this process are passed on (except the bench's own
//! addresses and names), so tuning can be tried without editing code.

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use lapin::{
    Connection, ConnectionProperties,
    options::{ExchangeDeleteOptions, QueueDeleteOptions},
};
use postcall::config::Settings;
use sqlx::{Connection as _, Executor, PgConnection};
use uuid::Uuid;

pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Logs of postcall's own code, off unless `BENCH_LOG` (an env-filter) asks, on stderr.
pub fn init_tracing() {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .init();
    }
}

/// One measurement's own database and broker names, unique per run.
#[derive(Debug, Clone)]
pub struct Names {
    pub database: String,
    pub exchange: String,
    pub queue: String,
    pub dlx: String,
    pub dlq: String,
}

impl Names {
    pub fn new(stage: &str) -> Self {
        let id = Uuid::new_v4().simple().to_string();
        Self {
            database: format!("postcall_bench_{stage}_{id}"),
            exchange: format!("calls.bench-{id}"),
            queue: format!("postcall.call-completed.bench-{id}"),
            dlx: format!("postcall.dlx.bench-{id}"),
            dlq: format!("postcall.call-completed.dead.bench-{id}"),
        }
    }

    pub fn database_url(&self) -> String {
        format!("{PG_SERVER}/{}", self.database)
    }

    /// Shipped defaults, tuning from `POSTCALL__*`, then `stage` (the stage's own choices,
    /// e.g. roles off or rate limits out of the way), then this run's addresses and names.
    pub fn settings(&self, stage: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let mut env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("POSTCALL__"))
            .collect();
        env.extend(pairs(stage));
        env.extend(pairs(&[
            ("POSTCALL__DATABASE__URL", &self.database_url()),
            ("POSTCALL__AMQP__URL", AMQP_URL),
            ("POSTCALL__AMQP__EXCHANGE", &self.exchange),
            ("POSTCALL__AMQP__QUEUE", &self.queue),
            ("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &self.dlx),
            ("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &self.dlq),
            ("POSTCALL__HTTP__BIND", "127.0.0.1:0"),
        ]));
        Settings::load_from(None, Some(env)).context("the bench's settings")
    }

    /// Drops the database and deletes the broker names; warns, never fails.
    pub async fn clean_up(&self) {
        drop_database(&self.database).await;
        delete_topology(self).await;
    }
}

fn pairs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub async fn admin() -> anyhow::Result<PgConnection> {
    PgConnection::connect(&format!("{PG_SERVER}/postgres"))
        .await
        .context("connecting to PostgreSQL at 127.0.0.1:5432")
}

pub async fn create_database(name: &str) -> anyhow::Result<()> {
    let sql = format!("CREATE DATABASE \"{name}\"");
    admin().await?.execute(sql.as_str()).await?;
    Ok(())
}

pub async fn drop_database(name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    match admin().await {
        Ok(mut conn) => {
            if let Err(e) = conn.execute(sql.as_str()).await {
                eprintln!("warning: could not drop {name}: {e}");
            }
        }
        Err(e) => eprintln!("warning: could not drop {name}: {e:#}"),
    }
}

pub async fn amqp_connect(name: &str) -> anyhow::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(AMQP_URL, properties),
    )
    .await
    .context("connecting to RabbitMQ timed out")?
    .context("connecting to RabbitMQ at 127.0.0.1:5672")
}

pub async fn delete_topology(names: &Names) {
    let connection = match amqp_connect("postcall-bench-cleanup").await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warning: could not delete {}: {e:#}", names.queue);
            return;
        }
    };
    if let Ok(channel) = connection.create_channel().await {
        for q in [&names.queue, &names.dlq] {
            let _ = channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for x in [&names.exchange, &names.dlx] {
            let _ = channel
                .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
    }
    let _ = connection.close(200, "bench done".into()).await;
}
