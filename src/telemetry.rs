//! Logging: readable text by default, JSON for log shippers; `RUST_LOG` overrides the filter.
//! Both escape control characters in every value: JSON by its own rules, text through
//! `EscapedFields`, so an outside value can neither forge a log line nor reach the terminal
//! as an escape sequence.

mod escape;
mod fields;

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

pub use self::{escape::escape_controls, fields::EscapedFields};
use crate::config::Log;

pub fn init(settings: &Log) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    // Colour codes only for a person at a terminal (the logs go to stdout); in a file or a
    // log shipper they are noise, and NO_COLOR turns them off anyway.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    // A second init (tests, or `demo` calling `run`) keeps the first subscriber.
    let _ = if settings.format == "json" {
        builder.json().try_init()
    } else {
        builder.fmt_fields(EscapedFields).try_init()
    };
}

#[cfg(test)]
mod tests;
