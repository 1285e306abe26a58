//! Logging: readable text by default, JSON for log shippers; `RUST_LOG` overrides the filter.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::Log;

pub fn init(settings: &Log) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = fmt().with_env_filter(filter).with_target(false);
    // A second init (tests, or `demo` calling `run`) keeps the first subscriber.
    let _ = if settings.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
