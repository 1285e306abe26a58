//! The suite's world: a work directory, the private PostgreSQL and RabbitMQ, the `postcall`
//! binary under test. Each scenario gets a site of its own in it: a database and a virtual
//! host, so that the worker's default queue names are used and nothing carries over.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::Context;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::{pg::Pg, process, rabbit::Rabbit};

/// Fields drop in order: the services are killed before their directory is removed.
pub struct Lab {
    pub pg: Mutex<Pg>,
    pub rabbit: Mutex<Rabbit>,
    pub dir: WorkDir,
    pub postcall: PathBuf,
    pg_port: u16,
    amqp_port: u16,
    pg_version: String,
}

impl Lab {
    pub async fn start(postcall: Option<PathBuf>, keep: bool) -> anyhow::Result<Self> {
        let postcall = match postcall {
            Some(p) => p,
            None => std::env::current_exe()?
                .parent()
                .context("the executable's directory")?
                .join("postcall"),
        };
        anyhow::ensure!(
            postcall.exists(),
            "no postcall binary at {} (build it, or pass --postcall)",
            postcall.display()
        );
        let dir = WorkDir::create(keep)?;
        crate::pg::open_up(dir.path())?;
        std::fs::create_dir_all(dir.logs())?;
        let mut pg = Pg::init(dir.path()).await?;
        let mut rabbit = Rabbit::new(dir.path())?;
        // Both boot at once: RabbitMQ takes seconds, PostgreSQL less.
        let (p, r) = tokio::join!(pg.start(), rabbit.start());
        p.context("starting the private PostgreSQL")?;
        r.context("starting the private RabbitMQ")?;
        Ok(Self {
            pg_port: pg.port(),
            amqp_port: rabbit.port(),
            pg_version: pg.version.clone(),
            dir,
            pg: Mutex::new(pg),
            rabbit: Mutex::new(rabbit),
            postcall,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "private {} on 127.0.0.1:{}, RabbitMQ on 127.0.0.1:{}, work directory {}",
            self.pg_version,
            self.pg_port,
            self.amqp_port,
            self.dir.path().display()
        )
    }

    /// A fresh database and virtual host named `name`, migrated by `postcall migrate`.
    pub async fn site(&self, name: &str) -> anyhow::Result<Site> {
        let database = format!("faults_{}", name.replace('-', "_"));
        let db_url = self.pg.lock().await.url(&database);
        let admin = PgPool::connect(&self.pg.lock().await.url("postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&admin)
            .await
            .with_context(|| format!("creating database {database}"))?;
        admin.close().await;
        self.rabbit.lock().await.add_vhost(name).await?;
        let site = Site {
            name: name.to_owned(),
            db_url: db_url.clone(),
            amqp_url: self.rabbit.lock().await.url(name),
            logs: self.dir.logs(),
            postcall: self.postcall.clone(),
            pool: sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect(&db_url)
                .await?,
        };
        let mut migrate = Command::new(&self.postcall);
        migrate.arg("migrate");
        for (k, v) in site.base_env() {
            migrate.env(k, v);
        }
        process::output(migrate, Duration::from_secs(120))
            .await
            .context("postcall migrate")?;
        Ok(site)
    }

    pub async fn stop(self) {
        let Lab {
            pg, rabbit, dir, ..
        } = self;
        let (p, r) = tokio::join!(async { pg.lock().await.stop().await }, async {
            rabbit.lock().await.stop().await
        },);
        for e in [p.err(), r.err()].into_iter().flatten() {
            eprintln!("faults: stopping a private service: {e:#}");
        }
        drop((pg, rabbit));
        drop(dir);
    }
}

/// One scenario's database and virtual host.
pub struct Site {
    pub name: String,
    pub db_url: String,
    pub amqp_url: String,
    pub pool: PgPool,
    pub logs: PathBuf,
    pub postcall: PathBuf,
}

impl Site {
    /// What every worker of this site is started with.
    pub fn base_env(&self) -> Vec<(String, String)> {
        [
            ("POSTCALL__DATABASE__URL", self.db_url.as_str()),
            ("POSTCALL__AMQP__URL", self.amqp_url.as_str()),
            ("POSTCALL__LOG__FILTER", "info,sqlx::postgres::notice=warn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
    }
}

/// The temporary work directory; removed when dropped unless kept.
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn create(keep: bool) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "postcall-faults-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path, keep })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn logs(&self) -> PathBuf {
        self.path.join("logs")
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("faults: kept {}", self.path.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("faults: could not remove {}: {e}", self.path.display());
        }
    }
}
