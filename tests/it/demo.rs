//! `postcall demo` as a person runs it, but not at a terminal: the real binary against the
//! local services, in a namespace of its own, printing a checked table and cleaning up.

use std::{
    process::{Command, Output},
    time::Duration,
};

use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::helpers::{AMQP_URL, Cleanup, Names, PG_ADMIN_URL};

const AGENTS: [&str; 7] = [
    "agent-li",
    "agent-wang",
    "agent-zhang",
    "agent-liu",
    "agent-chen",
    "agent-yang",
    "agent-zhao",
];

/// A namespace no other run uses, and the names the demo derives from it.
struct Demo {
    namespace: String,
    database: String,
    queues: [String; 2],
    exchanges: [String; 3],
}

impl Demo {
    fn new() -> Self {
        let id = &Uuid::new_v4().simple().to_string()[..8];
        let namespace = format!("demo-t{id}");
        Self {
            database: format!("postcall_demo_t{id}"),
            queues: [
                format!("postcall.call-completed.{namespace}"),
                format!("postcall.call-completed.dead.{namespace}"),
            ],
            exchanges: [
                format!("calls.{namespace}"),
                format!("postcall.dlx.{namespace}"),
                format!("postcall.events.{namespace}"),
            ],
            namespace,
        }
    }

    /// Runs `postcall demo` with `args`, only our POSTCALL__ variables, and no terminal.
    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Output, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall"));
        cmd.arg("demo").args(args);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL")) {
            cmd.env_remove(k);
        }
        cmd.env_remove("RUST_LOG")
            .env("POSTCALL_DEMO_NAMESPACE", &self.namespace)
            .env("POSTCALL__HTTP__BIND", "127.0.0.1:0")
            .envs(env.iter().copied());
        let output = tokio::time::timeout(
            Duration::from_secs(90),
            tokio::task::spawn_blocking(move || cmd.output()),
        )
        .await
        .expect("the demo ends within 90 s")
        .unwrap()
        .expect("running the postcall binary");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output, text)
    }

    async fn database_exists(&self) -> bool {
        let mut admin = PgConnection::connect(PG_ADMIN_URL).await.unwrap();
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&self.database)
            .fetch_one(&mut admin)
            .await
            .unwrap()
    }

    /// The demo's queues and exchanges that still exist (a passive declare succeeds).
    async fn broker_names_left(&self) -> Vec<String> {
        let connection =
            lapin::Connection::connect(AMQP_URL, lapin::ConnectionProperties::default())
                .await
                .expect("RabbitMQ is reachable");
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let mut left = Vec::new();
        // A failed passive declare closes its channel: one channel per name.
        for queue in &self.queues {
            let channel = connection.create_channel().await.unwrap();
            let declared = channel
                .queue_declare(queue.as_str().into(), passive, Default::default())
                .await;
            if declared.is_ok() {
                left.push(queue.clone());
            }
        }
        for exchange in &self.exchanges {
            let channel = connection.create_channel().await.unwrap();
            let declared = channel
                .exchange_declare(
                    exchange.as_str().into(),
                    lapin::ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await;
            if declared.is_ok() {
                left.push(exchange.clone());
            }
        }
        left
    }

    /// Drops whatever a failed run left, so a failing test does not pile up databases.
    fn cleanup(&self) -> Cleanup {
        Cleanup(Names {
            database_url: format!("postgres://postgres@127.0.0.1:5432/{}", self.database),
            exchange: self.exchanges[0].clone(),
            queue: self.queues[0].clone(),
            dlx: self.exchanges[1].clone(),
            dlq: self.queues[1].clone(),
            events: self.exchanges[2].clone(),
        })
    }
}

/// Whether `text` holds `+` and 8 or more digits: a phone number shown whole.
fn has_whole_phone(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).find_map(|i| {
        let digits = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (chars[i] == '+' && digits >= 8).then(|| chars[i..=i + digits].iter().collect())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_a_checked_score_table_and_removes_what_it_made() {
    let demo = Demo::new();
    let _cleanup = demo.cleanup();
    let (out, text) = demo.run(&["--calls", "60", "--seed", "3"], &[]).await;
    assert!(out.status.success(), "exit {:?}:\n{text}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);

    assert!(
        stdout.contains(&format!(
            "database {} and exchange {}",
            demo.database, demo.exchanges[0]
        )),
        "the demo names its own database and exchange:\n{stdout}"
    );
    let header = stdout
        .lines()
        .find(|l| l.starts_with("agent "))
        .unwrap_or_else(|| panic!("no table header:\n{stdout}"));
    for column in [
        "sent",
        "delivered",
        "responses",
        "rate",
        "CSAT [95% CI]",
        "NPS [95% CI]",
        "FCR [95% CI]",
        "segments",
    ] {
        assert!(header.contains(column), "{column} in {header:?}");
    }
    for agent in AGENTS {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{agent} "))),
            "a row for {agent}:\n{stdout}"
        );
    }
    let total = stdout
        .lines()
        .find(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("no totals row:\n{stdout}"));
    assert!(total.contains('%'), "{total}");
    assert!(
        stdout.contains("check: scores match the replies played ✓"),
        "{stdout}"
    );
    for section in [
        "calls ",
        "replies ",
        "opt-outs ",
        "invalid_phone",
        "too_short",
        "unsolicited 1",
    ] {
        assert!(stdout.contains(section), "{section}:\n{stdout}");
    }
    let dashboard = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("dashboard"))
        .unwrap_or_else(|| panic!("no dashboard line:\n{stdout}"));
    assert!(dashboard.contains("http://127.0.0.1:") && dashboard.ends_with("/dashboard"));
    assert!(stdout.contains("group_by=agent"), "{stdout}");
    assert!(
        stdout.contains(&format!("Removed database {}", demo.database)),
        "{stdout}"
    );

    assert_eq!(
        has_whole_phone(&text),
        None,
        "a phone number shown whole:\n{text}"
    );
    assert!(
        !demo.database_exists().await,
        "the demo database is dropped"
    );
    assert_eq!(demo.broker_names_left().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keep_the_database_stays_and_the_worker_logs_mask_every_phone() {
    let demo = Demo::new();
    let _cleanup = demo.cleanup();
    // An explicit filter is honoured: the console provider logs every SMS it "sends".
    let (out, text) = demo
        .run(
            &["--calls", "20", "--keep"],
            &[("POSTCALL__LOG__FILTER", "info")],
        )
        .await;
    assert!(out.status.success(), "exit {:?}:\n{text}", out.status);
    assert!(text.contains("SMS (console provider)"), "{text}");
    assert_eq!(
        has_whole_phone(&text),
        None,
        "a phone number shown whole:\n{text}"
    );
    assert!(
        text.contains(&format!("Kept database {}", demo.database)),
        "{text}"
    );
    assert!(text.contains("POSTCALL__DATABASE__URL="), "{text}");

    assert!(demo.database_exists().await);
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", demo.database);
    let mut db = PgConnection::connect(&url).await.unwrap();
    let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM calls")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(calls, 20);
    db.close().await.unwrap();
    assert_eq!(demo.broker_names_left().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rabbitmq_the_demo_fails_at_once_saying_so_and_cleans_up() {
    let demo = Demo::new();
    let _cleanup = demo.cleanup();
    let (out, text) = demo
        .run(
            &["--calls", "5"],
            &[
                ("POSTCALL__AMQP__URL", "amqp://guest:guest@127.0.0.1:1/%2f"),
                ("POSTCALL__AMQP__CONNECT_TIMEOUT_SECONDS", "2"),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("is RabbitMQ running?"), "{text}");
    assert!(!demo.database_exists().await, "no database left behind");
}
