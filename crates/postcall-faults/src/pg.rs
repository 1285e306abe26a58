//! A private PostgreSQL: `initdb` into the work directory (trust auth), the postmaster run
//! as our child on a free port with its socket in the work directory. Stopped and started
//! at will; the system's server on 5432 is never touched.

use std::{
    os::unix::fs::{PermissionsExt, chown},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::process::{self, Owned};

pub struct Pg {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    /// initdb and postgres refuse to run as root; as root they run as this user.
    run_as: Option<(u32, u32)>,
    postmaster: Option<Owned>,
    pub version: String,
}

impl Pg {
    /// Creates the cluster in `dir/pg`.
    pub async fn init(dir: &Path) -> anyhow::Result<Self> {
        let bin = find_bin()?;
        let run_as = if is_root() {
            Some(user_ids("postgres").context(
                "running as root, initdb needs an unprivileged user: no `postgres` in /etc/passwd",
            )?)
        } else {
            None
        };
        let home = dir.join("pg");
        std::fs::create_dir_all(&home)?;
        if let Some((uid, gid)) = run_as {
            chown(&home, Some(uid), Some(gid)).context("handing the data directory over")?;
        }
        let data = home.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .args(["--locale=C.UTF-8", "--no-sync", "--no-instructions"]);
        as_user(&mut initdb, run_as);
        process::output(initdb, Duration::from_secs(120))
            .await
            .context("initdb")?;
        let version = process::output(
            {
                let mut v = Command::new(bin.join("postgres"));
                v.arg("--version");
                v
            },
            Duration::from_secs(30),
        )
        .await?
        .trim()
        .to_owned();
        Ok(Self {
            bin,
            data,
            log: home.join("postgres.log"),
            port: process::free_port()?,
            run_as,
            postmaster: None,
            version,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the postmaster and waits until it accepts connections.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let socket_dir = self.data.parent().expect("data is under pg/");
        let mut cmd = Command::new(self.bin.join("postgres"));
        cmd.arg("-D").arg(&self.data);
        cmd.args(["-p", &self.port.to_string(), "-k"])
            .arg(socket_dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            // Three replicas' pools, their listeners, and the suite's own connections.
            .args(["-c", "max_connections=300"])
            // Safe against process crashes (what the suite causes), not against an OS crash;
            // and it keeps the suite off a shared disk's fsync queue. synchronous_commit
            // stays on: a commit is in the WAL before the worker acks.
            .args(["-c", "fsync=off"]);
        as_user(&mut cmd, self.run_as);
        self.postmaster = Some(Owned::spawn(cmd, "postgres", &self.log)?);
        self.wait_accepting(Duration::from_secs(60)).await
    }

    async fn wait_accepting(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let url = self.url("postgres");
        loop {
            if sqlx::PgPool::connect(&url).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.postmaster.as_mut().and_then(Owned::exited) {
                anyhow::bail!("postgres exited ({status}); see {}", self.log.display());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "postgres did not accept connections within {limit:?}; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A fast shutdown (`pg_ctl stop -m fast`: SIGINT): open transactions are rolled back,
    /// clients disconnected.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut postmaster) = self.postmaster.take() else {
            return Ok(());
        };
        postmaster.signal(libc::SIGINT);
        if postmaster.wait(Duration::from_secs(60)).await.is_none() {
            postmaster.kill();
            anyhow::bail!("postgres did not stop within 60 s; killed");
        }
        Ok(())
    }
}

fn find_bin() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("POSTCALL_FAULTS_PG_BIN") {
        return Ok(dir.into());
    }
    // Debian and Ubuntu keep each major version apart; take the newest.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists())
        .context(
            "no initdb found: install PostgreSQL's server binaries or set POSTCALL_FAULTS_PG_BIN",
        )
}

fn as_user(cmd: &mut Command, run_as: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid).env("HOME", "/tmp");
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// (uid, gid) of `user`, from /etc/passwd.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// The work directory must be traversable by the unprivileged user that owns the data.
pub fn open_up(dir: &Path) -> anyhow::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod 755 {}", dir.display()))
}
