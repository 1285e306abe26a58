//! `[provider.twilio]`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::channels::settings::{Invalid, hidden, invalid, non_empty};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    pub account_sid: String,
    #[serde(serialize_with = "hidden")]
    pub auth_token: SecretString,
    pub from: String,
    pub messaging_service_sid: String,
    /// `provider.twilio.caps`: the per-number caps (`channels::caps`).
    #[serde(default)]
    pub caps: crate::channels::caps::Settings,
}

impl Settings {
    pub fn validate(&self) -> Result<(), Invalid> {
        non_empty("provider.twilio.base_url", &self.base_url)?;
        non_empty("provider.twilio.account_sid", &self.account_sid)?;
        non_empty(
            "provider.twilio.auth_token",
            self.auth_token.expose_secret(),
        )?;
        if self.from.is_empty() && self.messaging_service_sid.is_empty() {
            return Err(invalid(
                "provider.twilio.from",
                "set it, or provider.twilio.messaging_service_sid",
            ));
        }
        self.caps.rules("twilio")?;
        Ok(())
    }
}
