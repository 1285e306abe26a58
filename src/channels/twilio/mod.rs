//! Twilio Programmable Messaging, exactly as Twilio documents it (DESIGN.md §4): sends
//! through the REST API, delivery reports and replies as form posts signed with
//! `X-Twilio-Signature`.

pub mod callbacks;
mod lookup;
mod send;
pub mod settings;
pub mod signature;
pub mod wire;

pub use send::Twilio;
pub use settings::Settings;
