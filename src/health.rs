//! What the worker knows about its dependencies, for `/readyz` and logs.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Health {
    broker: AtomicBool,
    /// Set while a batch cannot be committed; readiness reports it without a probe query.
    database_failing: AtomicBool,
}

impl Health {
    pub fn set_broker(&self, up: bool) {
        self.broker.store(up, Ordering::Relaxed);
    }

    pub fn broker_up(&self) -> bool {
        self.broker.load(Ordering::Relaxed)
    }

    pub fn set_database_failing(&self, failing: bool) {
        self.database_failing.store(failing, Ordering::Relaxed);
    }

    pub fn database_failing(&self) -> bool {
        self.database_failing.load(Ordering::Relaxed)
    }
}
