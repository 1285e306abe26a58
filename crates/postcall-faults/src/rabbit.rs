//! A private RabbitMQ node: `rabbitmq-server` in the foreground as our child, with a node
//! name, AMQP and distribution ports, data, logs, config, plugins list and Erlang cookie of
//! its own, all in the work directory. It shares only epmd (the port mapper) with the
//! system's node, which is not otherwise touched.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::process::{self, Owned};

pub struct Rabbit {
    bin: PathBuf,
    home: PathBuf,
    node: String,
    port: u16,
    dist_port: u16,
    log: PathBuf,
    server: Option<Owned>,
}

impl Rabbit {
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let home = dir.join("rabbit");
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(home.join(sub))?;
        }
        // No plugins (no management, no prometheus: nothing listens but AMQP), no config
        // beyond the environment, and none of the system's /etc/rabbitmq files.
        std::fs::write(home.join("enabled_plugins"), "[].\n")?;
        std::fs::write(home.join("rabbitmq.conf"), "")?;
        std::fs::write(home.join("rabbitmq-env.conf"), "")?;
        Ok(Self {
            bin: find_bin()?,
            node: format!("faults-{}@localhost", std::process::id()),
            port: process::free_port()?,
            dist_port: process::free_port()?,
            log: home.join("server.log"),
            home,
            server: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, vhost: &str) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/{vhost}", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let h = &self.home;
        let mut cmd = Command::new(self.bin.join(program));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            // A fresh Erlang cookie is made here on first start, readable by us.
            .env("HOME", h)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", h.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", h.join("log"))
            .env("RABBITMQ_CONFIG_FILE", h.join("rabbitmq.conf"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", h.join("advanced.config"))
            .env("RABBITMQ_CONF_ENV_FILE", h.join("rabbitmq-env.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", h.join("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", h.join("server.pid"))
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            )
            .env("ERL_EPMD_ADDRESS", "127.0.0.1");
        cmd
    }

    /// Starts the node and waits until it has booted.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let server = self.command("rabbitmq-server");
        self.server = Some(Owned::spawn(server, "rabbitmq-server", &self.log)?);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // await_startup fails at once while the node is not yet registered with epmd.
            if self
                .ctl(
                    &["await_startup", "--timeout", "20"],
                    Duration::from_secs(30),
                )
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(status) = self.server.as_mut().and_then(Owned::exited) {
                anyhow::bail!(
                    "rabbitmq-server exited ({status}); see {}",
                    self.log.display()
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "RabbitMQ did not boot within 120 s; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// A clean stop (`rabbitmqctl stop`); killed if it takes more than a minute.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut server) = self.server.take() else {
            return Ok(());
        };
        let asked = self.ctl(&["stop"], Duration::from_secs(60)).await;
        if server.wait(Duration::from_secs(60)).await.is_none() {
            server.kill();
            anyhow::bail!("RabbitMQ did not stop within 60 s ({asked:?}); killed");
        }
        Ok(())
    }

    pub async fn ctl(&self, args: &[&str], limit: Duration) -> anyhow::Result<String> {
        let mut cmd = self.command("rabbitmqctl");
        cmd.args(["-n", &self.node]).args(args);
        process::output(cmd, limit)
            .await
            .with_context(|| format!("rabbitmqctl {}", args.join(" ")))
    }

    /// A virtual host of its own for one scenario, so the default queue names can be used.
    pub async fn add_vhost(&self, vhost: &str) -> anyhow::Result<()> {
        let limit = Duration::from_secs(60);
        self.ctl(&["add_vhost", vhost], limit).await?;
        self.ctl(
            &["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            limit,
        )
        .await?;
        Ok(())
    }
}

fn find_bin() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("POSTCALL_FAULTS_RABBITMQ_BIN") {
        return Ok(dir.into());
    }
    // Debian's /usr/sbin/rabbitmq-server re-runs itself as user `rabbitmq` with the system
    // node's settings; the scripts it wraps take ours.
    let debian = PathBuf::from("/usr/lib/rabbitmq/bin");
    if debian.join("rabbitmq-server").exists() {
        return Ok(debian);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("rabbitmq-server").exists() && dir.join("rabbitmqctl").exists())
        .context("no rabbitmq-server found: install RabbitMQ or set POSTCALL_FAULTS_RABBITMQ_BIN")
}
