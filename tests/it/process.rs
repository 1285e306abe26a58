//! The real `postcall` binary as a child process, for what only a process shows: signals,
//! exit codes, and what it prints.

use std::{
    io::Read,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::Duration,
};

use crate::helpers::{Names, Publisher};

/// A running `postcall` whose output is read as it comes: a pipe nobody reads fills up and
/// blocks the worker on its next log line.
pub struct Worker {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// Starts `postcall run` on `names` with quiet hours off and no send delay, plus `env`.
pub fn spawn_worker(names: &Names, env: &[(&str, &str)]) -> Worker {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall"));
    cmd.arg("run");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
        cmd.env_remove(k);
    }
    cmd.env("POSTCALL__DATABASE__URL", &names.database_url)
        .env("POSTCALL__AMQP__EXCHANGE", &names.exchange)
        .env("POSTCALL__AMQP__QUEUE", &names.queue)
        .env("POSTCALL__AMQP__DEAD_LETTER_EXCHANGE", &names.dlx)
        .env("POSTCALL__AMQP__DEAD_LETTER_QUEUE", &names.dlq)
        .env("POSTCALL__AMQP__EVENTS_EXCHANGE", &names.events)
        .env("POSTCALL__HTTP__BIND", "127.0.0.1:0")
        .env("POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED", "false")
        .env("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Worker::reading)
        .expect("starting postcall")
}

impl Worker {
    fn reading(mut child: Child) -> Self {
        let output = Arc::new(Mutex::new(Vec::new()));
        let stdout: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        let readers = [stdout, stderr]
            .into_iter()
            .map(|mut pipe| {
                let output = output.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = pipe.read(&mut buf) {
                        output.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                })
            })
            .collect();
        Self {
            child,
            output,
            readers,
        }
    }
}

impl Worker {
    /// Everything the worker has printed so far.
    pub fn printed(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }
}

/// Sends `signal` (`INT`, `TERM`, `KILL`) to the worker.
pub fn signal(worker: &Worker, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &worker.child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits for the worker to exit, at most `limit`; its exit status and everything it printed.
/// A worker still running at the limit is killed and the test fails.
pub async fn wait_for_exit(worker: Worker, limit: Duration) -> (ExitStatus, String) {
    let Worker {
        mut child,
        output,
        readers,
    } = worker;
    let pid = child.id();
    let waiting = tokio::task::spawn_blocking(move || {
        let status = child.wait();
        for reader in readers {
            let _ = reader.join();
        }
        status
    });
    let status = match tokio::time::timeout(limit, waiting).await {
        Ok(done) => done.unwrap().unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("postcall did not exit within {limit:?}");
        }
    };
    let logs = String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    (status, logs)
}

pub async fn wait_for_database(url: &str) -> sqlx::PgPool {
    for _ in 0..200 {
        if let Ok(pool) = sqlx::PgPool::connect(url).await
            && sqlx::query("SELECT 1 FROM messages LIMIT 1")
                .execute(&pool)
                .await
                .is_ok()
        {
            return pool;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("postcall did not create and migrate its database within 10 s");
}

/// Waits until the worker on `names` has migrated its database and consumes its queue, so
/// an event published from then on is taken: a pool on its database, and a publisher.
pub async fn wait_until_ready(names: &Names) -> (sqlx::PgPool, Publisher) {
    let pool = wait_for_database(&names.database_url).await;
    let publisher = Publisher::connect(&names.exchange).await;
    wait_for_consumer(&publisher, &names.queue).await;
    (pool, publisher)
}

/// Waits, at most 30 s, until `n` SMS are `sent` (the console provider's status for what
/// it printed); whether they were.
pub async fn wait_for_sent(pool: &sqlx::PgPool, n: i64) -> bool {
    for _ in 0..600 {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'sent'")
            .fetch_one(pool)
            .await
            .unwrap_or(0);
        if sent == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Waits for the worker's consumer: the queue's binding is declared before it consumes, so
/// from then on a publish cannot be dropped as unroutable.
pub async fn wait_for_consumer(publisher: &Publisher, queue: &str) {
    for _ in 0..600 {
        if let Some((_, consumers)) = queue_counts(publisher, queue).await
            && consumers > 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("postcall did not consume from its queue within 30 s");
}

/// (messages ready, consumers) of `queue`, if it exists.
pub async fn queue_counts(publisher: &Publisher, queue: &str) -> Option<(u32, u32)> {
    let channel = publisher.connection.create_channel().await.unwrap();
    let passive = lapin::options::QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.into(), passive, Default::default())
        .await
        .ok()
        .map(|q| (q.message_count(), q.consumer_count()))
}
