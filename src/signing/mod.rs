//! Webhook signatures, pure functions over bytes (DESIGN.md §4).
//!
//! - [`standard_webhooks`]: HMAC-SHA256 Standard Webhooks scheme of the `webhook` provider.
//! - [`twilio`]: HMAC-SHA1 `X-Twilio-Signature` of the `twilio` provider's callbacks.

pub mod standard_webhooks;
pub mod twilio;
