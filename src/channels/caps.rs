//! `provider.<kind>.caps`: the per-number caps a platform applies, which postcall counts
//! before every send so that it never sends one the platform will refuse (DESIGN.md §4).
//! Each channel's defaults are its platform's published ones (README "Per-number caps"):
//!
//! - Tencent Cloud SMS, 默认频率限制 (FAQ "What is the default sending frequency limit of
//!   SMS?", <https://www.tencentcloud.com/document/product/382/13303>): the same content to
//!   one number at most once in 30 s; 2 per number per calendar day in the English page,
//!   10 in the Chinese one (<https://cloud.tencent.com/developer/techpedia/1295/8938>): the
//!   stricter, 2, is the default. Natural days are Beijing time.
//! - Alibaba Cloud SMS, 短信发送流控限制 (<https://help.aliyun.com/document_detail/2881383.html>):
//!   notifications 50 per day per signature, template and number, the day being the 24 h
//!   before the send. postcall counts per number, across templates: stricter, never looser.
//! - Twilio and the generic webhook document no per-number cap: none by default.

use std::num::NonZeroU32;

use chrono::TimeDelta;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::settings::Invalid;
use crate::domain::caps::Caps;

/// Every key is optional: a cap left out does not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_natural_day: Option<u32>,
    /// The zone whose midnight starts a natural day; UTC when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_rolling_hour: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_rolling_day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_content_seconds: Option<u32>,
}

impl Settings {
    /// The caps as the dispatcher counts them, or the first unusable key of
    /// `provider.<kind>.caps`.
    pub fn rules(&self, kind: &str) -> Result<Caps, Invalid> {
        let key = |name: &str| Invalid {
            key: format!("provider.{kind}.caps.{name}").into(),
            why: String::new(),
        };
        let count = |name: &str, value: Option<u32>| match value {
            None => Ok(None),
            Some(v) => NonZeroU32::new(v).map(Some).ok_or_else(|| Invalid {
                why: "must be at least 1; leave the key out for no cap".into(),
                ..key(name)
            }),
        };
        let zone = match &self.zone {
            None => Tz::UTC,
            Some(name) => name.parse().map_err(|_| Invalid {
                why: format!("{name:?} is not an IANA time zone (e.g. Asia/Shanghai)"),
                ..key("zone")
            })?,
        };
        Ok(Caps {
            per_natural_day: count("per_natural_day", self.per_natural_day)?,
            zone,
            per_rolling_hour: count("per_rolling_hour", self.per_rolling_hour)?,
            per_rolling_day: count("per_rolling_day", self.per_rolling_day)?,
            same_content: count("same_content_seconds", self.same_content_seconds)?
                .map(|s| TimeDelta::seconds(s.get().into())),
        })
    }
}
