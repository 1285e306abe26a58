//! Alibaba Cloud SMS (Dysms, `SendSms` version 2017-05-25): the pure parts of the channel.
//!
//! - [`signature`]: the V3 request signature, ACS3-HMAC-SHA256, and the `x-acs-*` headers.
//! - [`wire`]: `SendSms` parameters and answer, the SmsReport and SmsUp pushes and the
//!   answer Aliyun expects back.
//! - [`errors`]: each documented `Code` as a class the dispatcher acts on.
//! - [`template`]: an approved template text checked against Aliyun's review rules, and
//!   rendered with its parameters.

pub mod errors;
pub mod signature;
pub mod template;
pub mod wire;
