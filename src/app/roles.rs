//! The running roles of one process, by name: any of them ending before shutdown stops the
//! rest; after shutdown each gets until the deadline to finish or hand back its work.

use std::{collections::HashMap, future::Future, time::Duration};

use anyhow::{Context, anyhow};
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Roles {
    set: JoinSet<anyhow::Result<()>>,
    names: HashMap<Id, &'static str>,
}

impl Roles {
    pub fn spawn<F>(&mut self, name: &'static str, role: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = self.set.spawn(role);
        self.names.insert(handle.id(), name);
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Runs until `shutdown` is cancelled (by a signal, or here when a role ends on its own),
    /// then waits up to `deadline` for every role to stop. Returns the first failure: a role
    /// that ended early or with an error, or the roles still busy at the deadline (aborted;
    /// what they held is redelivered by the broker or re-leased by another dispatcher).
    pub async fn run(
        mut self,
        shutdown: &CancellationToken,
        deadline: Duration,
    ) -> anyhow::Result<()> {
        let mut failure = None;
        while !shutdown.is_cancelled() {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {}
                done = self.set.join_next_with_id() => {
                    let Some(done) = done else { break };
                    let (name, result) = self.outcome(done);
                    // Roles stop promptly on shutdown: one may finish in the same instant.
                    if shutdown.is_cancelled() {
                        if let Err(e) = result {
                            failure.get_or_insert(e);
                        }
                        continue;
                    }
                    failure = Some(result.err().unwrap_or_else(|| anyhow!("the {name} role stopped unexpectedly")));
                    shutdown.cancel();
                }
            }
        }
        tracing::info!(roles = self.set.len(), deadline = ?deadline, "stopping");
        let drained = tokio::time::timeout(deadline, async {
            while let Some(done) = self.set.join_next_with_id().await {
                let (name, result) = self.outcome(done);
                match result {
                    Ok(()) => tracing::debug!(role = name, "stopped"),
                    Err(e) => {
                        tracing::error!(
                            role = name,
                            error = format!("{e:#}"),
                            "stopped with an error"
                        );
                        failure.get_or_insert(e);
                    }
                }
            }
        })
        .await;
        if drained.is_err() {
            let mut busy: Vec<&str> = self.names.values().copied().collect();
            busy.sort_unstable();
            self.set.abort_all();
            let e = anyhow!(
                "{} still busy {}s after shutdown was requested (shutdown.deadline_seconds); abandoned",
                busy.join(", "),
                deadline.as_secs()
            );
            tracing::error!(error = %e, "shutdown deadline passed");
            failure.get_or_insert(e);
        }
        failure.map_or(Ok(()), Err)
    }

    fn outcome(
        &mut self,
        done: Result<(Id, anyhow::Result<()>), tokio::task::JoinError>,
    ) -> (&'static str, anyhow::Result<()>) {
        match done {
            Ok((id, result)) => (self.names.remove(&id).unwrap_or("?"), result),
            Err(e) => {
                let name = self.names.remove(&e.id()).unwrap_or("?");
                (
                    name,
                    Err(e).with_context(|| format!("the {name} role panicked")),
                )
            }
        }
    }
}
