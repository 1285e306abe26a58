//! Real `postcall run` processes against a site: started, killed with SIGKILL, stopped with
//! SIGTERM, restarted on the same HTTP port, their output appended to one log per worker.

use std::{
    path::PathBuf,
    process::{Command, ExitStatus},
    time::{Duration, Instant},
};

use crate::{
    lab::Site,
    process::{self, Owned},
};

pub struct Worker {
    pub name: String,
    /// `http://127.0.0.1:port`, the same across restarts.
    pub base: String,
    postcall: PathBuf,
    env: Vec<(String, String)>,
    /// After `run`: `--config FILE` for what variables cannot spell.
    args: Vec<String>,
    pub log: PathBuf,
    running: Option<Owned>,
    pub starts: u32,
}

impl Worker {
    /// Starts `postcall run` for `site`, with `args` after `run` (a `--config FILE`); `env`
    /// (`POSTCALL__…` pairs) overrides the suite's defaults: no send delay, quiet hours off,
    /// this worker's own HTTP port.
    pub fn start_with(
        site: &Site,
        name: &str,
        env: &[(String, String)],
        args: &[String],
    ) -> anyhow::Result<Self> {
        let port = process::free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut all = site.base_env();
        all.extend(
            [
                ("POSTCALL__HTTP__BIND", format!("127.0.0.1:{port}")),
                ("POSTCALL__HTTP__PUBLIC_URL", base.clone()),
                ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0".into()),
                (
                    "POSTCALL__ELIGIBILITY__QUIET_HOURS__ENABLED",
                    "false".into(),
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        all.extend(env.iter().cloned());
        let mut worker = Self {
            name: name.to_owned(),
            base,
            postcall: site.postcall.clone(),
            env: all,
            args: args.to_vec(),
            log: site.logs.join(format!("{}-{name}.log", site.name)),
            running: None,
            starts: 0,
        };
        worker.spawn()?;
        Ok(worker)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let mut cmd = Command::new(&self.postcall);
        cmd.arg("run").args(&self.args);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
            cmd.env_remove(k);
        }
        // Plain text in the log files.
        cmd.env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().cloned());
        let what = format!("postcall {} (start {})", self.name, self.starts + 1);
        self.running = Some(Owned::spawn(cmd, &what, &self.log)?);
        self.starts += 1;
        Ok(())
    }

    /// SIGKILL: no shutdown, no cleanup, leases left held.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.running.take() {
            p.kill();
        }
    }

    /// kill -9, then a new process in its place.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill9();
        self.spawn()
    }

    /// SIGTERM and wait for the exit, at most `limit` (then SIGKILL).
    pub async fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut p = self.running.take()?;
        p.signal(libc::SIGTERM);
        match p.wait(limit).await {
            Some(status) => Some(status),
            None => {
                p.kill();
                None
            }
        }
    }

    /// Whether the process is still running (false once it exited on its own).
    pub fn alive(&mut self) -> bool {
        self.running.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// `/readyz`'s status code, or None if the worker does not answer.
    pub async fn readyz(&self, client: &reqwest::Client) -> Option<u16> {
        client
            .get(format!("{}/readyz", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// Waits until `/readyz` answers 200; how long that took.
    pub async fn ready(
        &mut self,
        client: &reqwest::Client,
        limit: Duration,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            if self.readyz(client).await == Some(200) {
                return Ok(started.elapsed());
            }
            anyhow::ensure!(
                self.alive(),
                "worker {} exited; see {}",
                self.name,
                self.log.display()
            );
            anyhow::ensure!(
                started.elapsed() < limit,
                "worker {} not ready within {limit:?}; see {}",
                self.name,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `POSTCALL__…` pairs from literals.
pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
