//! Child processes the suite owns: each in a process group of its own, so that a kill
//! reaches everything it forked (Erlang's helpers, PostgreSQL's backends), and killed when
//! its guard is dropped — also when a scenario fails or panics.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    net::TcpListener,
    os::unix::process::{CommandExt, ExitStatusExt},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

pub struct Owned {
    child: Child,
    what: String,
}

impl Owned {
    /// Starts `cmd` in its own process group, its output appended to `log`.
    pub fn spawn(mut cmd: Command, what: &str, log: &Path) -> anyhow::Result<Self> {
        let mut out = append(log)?;
        writeln!(out, "----- {what}: starting -----")?;
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {what} ({:?})", cmd.get_program()))?;
        Ok(Self {
            child,
            what: what.to_owned(),
        })
    }

    /// Sends `signal` to the whole group.
    pub fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
        unsafe {
            libc::kill(-(self.child.id() as i32), signal);
        }
    }

    /// Sends `signal` to the process itself.
    pub fn signal(&self, signal: i32) {
        // SAFETY: as above, for one process.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL to the group, then reaps the process.
    pub fn kill(&mut self) -> ExitStatus {
        self.signal_group(libc::SIGKILL);
        let _ = self.child.kill();
        self.child
            .wait()
            .unwrap_or_else(|_| ExitStatus::from_raw(libc::SIGKILL))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.exited().is_none() {
            if std::thread::panicking() {
                eprintln!("faults: killing {}, left running by a panic", self.what);
            }
            self.kill();
        }
    }
}

pub fn append(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// A TCP port nothing listens on now. Bound and released: the window in which another
/// process could take it is tiny, and ports are chosen once, at start.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .context("finding a free port")?
        .local_addr()?
        .port())
}

/// Runs `cmd` to completion within `limit`; its output, or an error that includes it.
pub async fn output(mut cmd: Command, limit: Duration) -> anyhow::Result<String> {
    let program = format!("{:?}", cmd.get_program());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().with_context(|| format!("running {program}"))?;
    let pid = child.id();
    let waited = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(limit, waited).await {
        Ok(done) => {
            let out = done?.with_context(|| format!("running {program}"))?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            anyhow::ensure!(out.status.success(), "{program} failed: {}", text.trim());
            Ok(text)
        }
        Err(_) => {
            // SAFETY: kill(2) on a child we started and have not reaped.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            anyhow::bail!("{program} did not finish within {limit:?}")
        }
    }
}
