//! Alibaba Cloud SMS (Dysms, `SendSms` version 2017-05-25).
//!
//! - [`signature`]: the V3 request signature, ACS3-HMAC-SHA256, and the `x-acs-*` headers.
//! - [`wire`]: `SendSms` parameters and answer, the SmsReport and SmsUp pushes and the
//!   answer Aliyun expects back.
//! - [`errors`]: each documented `Code` as a class the dispatcher acts on.
//! - [`template`]: an approved template text checked against Aliyun's review rules, and
//!   rendered with its parameters.
//! - [`send`], [`callbacks`], [`settings`]: the channel itself (DESIGN §4 `aliyun`).

pub mod callbacks;
pub mod errors;
mod lookup;
mod send;
pub mod settings;
pub mod signature;
pub mod template;
pub mod wire;

pub use send::Aliyun;
pub use settings::Settings;
