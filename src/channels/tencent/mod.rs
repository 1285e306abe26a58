//! Tencent Cloud SMS (API 3.0, `SendSms` version 2021-01-11), built to Tencent's published
//! documents (DESIGN.md §4).
//!
//! - [`send`]: one signed `SendSms` call per message, its answer judged.
//! - [`lookup`]: a send of unknown outcome found (or not) by `PullSmsSendStatusByPhoneNumber`.
//! - [`callbacks`]: receipts and replies, admitted by the path token and caller address.
//! - [`settings`]: the `[provider.tencent]` section.
//! - [`source`]: the templates as the composer takes them.
//! - [`signature`]: TC3-HMAC-SHA256 request signing and the `X-TC-*` headers.
//! - [`wire`]: `SendSms` request and answer, delivery receipts and replies as Tencent posts
//!   them, and the answer Tencent expects back.
//! - [`errors`]: each documented `Code` as a class the dispatcher acts on.
//! - [`template`]: an approved template text checked against Tencent's review rules, and
//!   rendered with its parameters.

pub mod callbacks;
pub mod errors;
mod lookup;
mod send;
pub mod settings;
pub mod signature;
pub mod source;
pub mod template;
pub mod wire;

pub use send::Tencent;
pub use settings::Settings;
