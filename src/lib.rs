//! postcall: post-call SMS satisfaction surveys. See README.md and DESIGN.md.
//!
//! The public modules are what the binary (`main.rs`), the integration tests, the example,
//! the fuzzers and the tools (`crates/`) use; the rest is the service's own.

pub mod aggregate;
pub mod amqp;
pub mod app;
mod backoff;
pub mod channels;
pub mod config;
pub mod demo;
mod dispatch;
pub mod domain;
pub mod events;
pub mod health;
mod housekeeping;
pub mod http;
mod inbound;
pub mod ingest;
mod metrics;
mod replica;
pub mod store;
pub mod telemetry;
