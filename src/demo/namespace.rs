//! Where the demo lives: its own database and broker names beside the real ones, made at
//! the start and removed at the end; and the settings that point the worker at them.

use std::{
    collections::HashMap,
    net::{SocketAddr, TcpListener},
    str::FromStr,
};

use anyhow::Context;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use reqwest::Url;
use sqlx::{ConnectOptions, Connection, PgConnection, postgres::PgConnectOptions};

use super::store;
use crate::{
    amqp,
    channels::ProviderKind,
    config::{ExposeSecret, Settings},
};

/// A suffix for the demo's names: `demo` gives database `postcall_demo` and queue
/// `postcall.call-completed.demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        check(raw).map_err(anyhow::Error::msg)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn database(&self) -> String {
        format!("postcall_{}", self.0.replace('-', "_"))
    }

    fn broker(&self, name: &str) -> String {
        format!("{name}.{}", self.0)
    }
}

/// Why `raw` cannot be a namespace (for the command line's parser too).
pub fn check(raw: &str) -> Result<String, String> {
    let ok = (1..=40).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(format!(
            "namespace {raw:?}: use 1 to 40 lowercase letters, digits, `-` or `_`, starting with a letter"
        ));
    }
    Ok(raw.to_owned())
}

/// The worker's settings for the demo: the hosts and credentials of `user` (config file
/// and environment), everything else from the defaults, then what the demo needs.
pub fn settings(user: &Settings, ns: &Namespace) -> anyhow::Result<Settings> {
    let mut demo = Settings::load_from(None, Some(HashMap::new()))?;
    demo.database.url = with_database(user.database.url.expose_secret(), &ns.database())?.into();
    demo.database.connect_timeout_seconds = user.database.connect_timeout_seconds;
    demo.amqp.url = user.amqp.url.clone();
    demo.amqp.connect_timeout_seconds = user.amqp.connect_timeout_seconds;
    let a = &mut demo.amqp;
    a.exchange = ns.broker(&a.exchange);
    a.queue = ns.broker(&a.queue);
    a.dead_letter_exchange = ns.broker(&a.dead_letter_exchange);
    a.dead_letter_queue = ns.broker(&a.dead_letter_queue);
    a.events_exchange = ns.broker(&a.events_exchange);
    demo.http.bind = user.http.bind.clone();
    demo.http.public_url = user.http.public_url.clone();
    demo.api = user.api.clone();
    demo.aggregation.timezone = user.aggregation.timezone.clone();
    demo.log = user.log.clone();

    demo.provider.kind = ProviderKind::Console;
    let e = &mut demo.eligibility;
    e.delay_seconds = 0;
    e.sample_rate = 1.0;
    // At night in Shanghai nothing would be sent; the demo says so when it starts.
    e.quiet_hours.enabled = false;
    // The console provider has no rate limit to respect: the demo should not wait.
    demo.dispatch.rate_limit.messages_per_second = 2000;
    demo.dispatch.rate_limit.segments_per_second = 4000;
    demo.dispatch.batch_size = 200;
    demo.ingest.batch_linger_ms = 5;
    // The demo aggregates itself, once every reply is in.
    demo.aggregation.enabled = false;
    demo.validate()?;
    Ok(demo)
}

/// `url` with its database name replaced (query parameters kept).
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let mut parsed = Url::parse(url).context("database.url is not a URL")?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.to_string())
}

/// The database name in `url`.
pub fn database_name(url: &str) -> String {
    Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .unwrap_or_default()
}

/// `psql` arguments for `url` (host, port, user and database, never the password).
pub fn psql(url: &str) -> String {
    psql_to(url, &database_name(url))
}

/// `psql` for another database on the server of `url`.
pub fn psql_to(url: &str, database: &str) -> String {
    let Ok(u) = Url::parse(url) else {
        return format!("psql {database}");
    };
    let mut line = String::from("psql");
    if let Some(host) = u.host_str() {
        line.push_str(&format!(" -h {host}"));
    }
    if let Some(port) = u.port() {
        line.push_str(&format!(" -p {port}"));
    }
    if !u.username().is_empty() {
        line.push_str(&format!(" -U {}", u.username()));
    }
    format!("{line} {database}")
}

/// `url` with any password replaced, for printing.
pub fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("PASSWORD"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Drops the demo database if a previous demo left it, and creates it empty. Fails at once
/// (no retry) when PostgreSQL cannot be reached: the demo is run by a person, now.
pub async fn recreate_database(url: &str) -> anyhow::Result<()> {
    let name = database_name(url);
    let mut admin = admin(url).await?;
    drop_in(&mut admin, &name).await?;
    store::create_database(&mut admin, &name)
        .await
        .with_context(|| format!("creating database {name}"))?;
    Ok(())
}

pub async fn drop_database(url: &str) -> anyhow::Result<()> {
    let name = database_name(url);
    let mut admin = admin(url).await?;
    drop_in(&mut admin, &name).await
}

/// A connection to the server's maintenance database, as `createdb` uses.
async fn admin(url: &str) -> anyhow::Result<PgConnection> {
    let server = with_database(url, "postgres")?;
    let options = PgConnectOptions::from_str(&server)
        .context("database.url")?
        // DROP DATABASE takes seconds; sqlx would log it as a slow statement.
        .disable_statement_logging();
    PgConnection::connect_with(&options)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", redacted(&server)))
}

async fn drop_in(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    // FORCE ends sessions a previous, interrupted demo may have left (PostgreSQL 13+).
    if store::drop_database(admin, name, true).await.is_ok() {
        return Ok(());
    }
    store::drop_database(admin, name, false)
        .await
        .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}

/// Declares the demo's exchanges and queues before anything is published, so no event
/// can arrive before the queue that keeps it; fails at once if RabbitMQ is unreachable.
pub async fn declare_broker_names(settings: &crate::config::Amqp) -> anyhow::Result<()> {
    let connection = amqp::connect(settings, "postcall-demo").await?;
    let channel = connection.create_channel().await?;
    amqp::declare_topology(&channel, settings).await?;
    let _ = connection.close(200, "done".into()).await;
    Ok(())
}

/// Deletes the demo's queues (with anything left in them) and exchanges.
pub async fn delete_broker_names(settings: &crate::config::Amqp) -> anyhow::Result<()> {
    let connection = amqp::connect(settings, "postcall-demo-cleanup").await?;
    let channel = connection.create_channel().await?;
    for queue in [&settings.queue, &settings.dead_letter_queue] {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .with_context(|| format!("deleting queue {queue}"))?;
    }
    for exchange in [
        &settings.exchange,
        &settings.dead_letter_exchange,
        &settings.events_exchange,
    ] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .with_context(|| format!("deleting exchange {exchange}"))?;
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(())
}

/// `bind`, or the same address on a free port when something (a worker already running)
/// holds it; the second value says whether it moved.
pub fn free_bind(bind: SocketAddr) -> (SocketAddr, bool) {
    if bind.port() == 0 || TcpListener::bind(bind).is_ok() {
        return (bind, false);
    }
    (SocketAddr::new(bind.ip(), 0), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_namespace_and_leave_the_real_ones_alone() {
        let user = Settings::load_from(None, Some(HashMap::new())).unwrap();
        let ns = Namespace::parse("demo").unwrap();
        let demo = settings(&user, &ns).unwrap();
        assert_eq!(
            demo.database.url.expose_secret(),
            "postgres://postgres@127.0.0.1:5432/postcall_demo"
        );
        assert_eq!(demo.amqp.exchange, "calls.demo");
        assert_eq!(demo.amqp.queue, "postcall.call-completed.demo");
        assert_eq!(demo.amqp.dead_letter_exchange, "postcall.dlx.demo");
        assert_eq!(
            demo.amqp.dead_letter_queue,
            "postcall.call-completed.dead.demo"
        );
        assert_eq!(demo.amqp.events_exchange, "postcall.events.demo");
        assert_eq!(demo.provider.kind, ProviderKind::Console);
        assert!(!demo.eligibility.quiet_hours.enabled && !demo.aggregation.enabled);
        assert_eq!(demo.eligibility.delay_seconds, 0);
    }

    #[test]
    fn hosts_and_credentials_come_from_the_user_the_rest_from_defaults() {
        let env: HashMap<String, String> = [
            (
                "POSTCALL__DATABASE__URL",
                "postgres://app:s3cret@db.internal:6543/prod?sslmode=require",
            ),
            ("POSTCALL__AMQP__URL", "amqp://u:p@mq.internal:5672/vh"),
            ("POSTCALL__PROVIDER__KIND", "webhook"),
            (
                "POSTCALL__PROVIDER__WEBHOOK__URL",
                "https://sms.example.com",
            ),
            (
                "POSTCALL__PROVIDER__WEBHOOK__SECRET",
                "whsec_Jx4zxFZWz8KUsr7V4nzayGgk8n2p/+2vQa0w5EUMf9Y=",
            ),
            ("POSTCALL__ELIGIBILITY__MIN_TALK_SECONDS", "300"),
            ("POSTCALL__HTTP__ENABLED", "false"),
            ("POSTCALL__INGEST__ENABLED", "false"),
            ("POSTCALL__HTTP__BIND", "0.0.0.0:9090"),
            // A wildcard bind needs a token (config refuses an open API off loopback).
            ("POSTCALL__API__TOKEN", "dm0-7f3c9a51e2b84d06a9c1f5e8"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let user = Settings::load_from(None, Some(env)).unwrap();
        let demo = settings(&user, &Namespace::parse("demo-x1").unwrap()).unwrap();
        assert_eq!(
            demo.database.url.expose_secret(),
            "postgres://app:s3cret@db.internal:6543/postcall_demo_x1?sslmode=require"
        );
        assert_eq!(
            demo.amqp.url.expose_secret(),
            "amqp://u:p@mq.internal:5672/vh"
        );
        assert_eq!(demo.amqp.queue, "postcall.call-completed.demo-x1");
        assert_eq!(demo.provider.kind, ProviderKind::Console);
        assert_eq!(demo.eligibility.min_talk_seconds, 20);
        // The demo runs every role it needs, where the user's worker would listen.
        assert!(demo.http.enabled && demo.ingest.enabled && demo.dispatch.enabled);
        assert_eq!(demo.http.bind, "0.0.0.0:9090");
        assert_eq!(
            demo.api.token.expose_secret(),
            "dm0-7f3c9a51e2b84d06a9c1f5e8"
        );
        assert_eq!(
            redacted(demo.database.url.expose_secret()),
            "postgres://app:PASSWORD@db.internal:6543/postcall_demo_x1?sslmode=require"
        );
        assert_eq!(
            psql(demo.database.url.expose_secret()),
            "psql -h db.internal -p 6543 -U app postcall_demo_x1"
        );
    }

    #[test]
    fn a_namespace_is_a_plain_name() {
        assert!(Namespace::parse("demo-1a2b_c").is_ok());
        for bad in [
            "",
            "Demo",
            "1demo",
            "demo.x",
            "demo x",
            "demo\"",
            &"d".repeat(41),
        ] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_taken_port_moves_to_a_free_one() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = held.local_addr().unwrap();
        assert_eq!(free_bind(taken), (SocketAddr::new(taken.ip(), 0), true));
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(free_bind(any), (any, false));
    }
}
