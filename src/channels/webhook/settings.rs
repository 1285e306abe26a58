//! `[provider.webhook]`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::channels::settings::{Invalid, hidden, invalid, non_empty};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub url: String,
    #[serde(serialize_with = "hidden")]
    pub secret: SecretString,
    /// `provider.webhook.caps`: the per-number caps (`channels::caps`).
    #[serde(default)]
    pub caps: crate::channels::caps::Settings,
}

impl Settings {
    pub fn validate(&self) -> Result<(), Invalid> {
        non_empty("provider.webhook.url", &self.url)?;
        if !self.secret.expose_secret().starts_with("whsec_") {
            return Err(invalid(
                "provider.webhook.secret",
                "must be a Standard Webhooks secret, `whsec_<base64>`",
            ));
        }
        self.caps.rules("webhook")?;
        Ok(())
    }
}
