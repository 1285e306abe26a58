//! postcall: post-call SMS satisfaction surveys. See README.md and DESIGN.md.

pub mod aggregate;
pub mod amqp;
pub mod app;
pub mod backoff;
pub mod channels;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod domain;
pub mod events;
pub mod health;
pub mod housekeeping;
pub mod http;
pub mod inbound;
pub mod ingest;
pub mod metrics;
pub mod providers;
pub mod replica;
pub mod signing;
pub mod store;
pub mod telemetry;
