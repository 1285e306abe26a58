//! The generic JSON provider (DESIGN.md §4): sends and callbacks both signed with one
//! Standard Webhooks secret.

pub mod callbacks;
mod send;
pub mod settings;
pub mod signature;
pub mod wire;

pub use send::Webhook;
pub use settings::Settings;
