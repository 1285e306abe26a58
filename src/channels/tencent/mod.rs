//! Tencent Cloud SMS (API 3.0, `SendSms` version 2021-01-11): the pure parts of the channel.
//!
//! - [`signature`]: TC3-HMAC-SHA256 request signing and the `X-TC-*` headers.
//! - [`wire`]: `SendSms` request and answer, delivery receipts and replies as Tencent posts
//!   them, and the answer Tencent expects back.
//! - [`errors`]: each documented `Code` as a class the dispatcher acts on.
//! - [`template`]: an approved template text checked against Tencent's review rules, and
//!   rendered with its parameters.

pub mod errors;
pub mod signature;
pub mod template;
pub mod wire;
