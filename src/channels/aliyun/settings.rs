//! `[provider.aliyun]`.

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::channels::{
    settings::{Invalid, hidden, invalid, networks, non_empty},
    templates::Templates,
};

/// The fewest characters a path token may have: it is the callbacks' only credential
/// (Aliyun signs nothing it pushes).
pub const MIN_TOKEN_CHARS: usize = 24;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    pub access_key_id: String,
    #[serde(serialize_with = "hidden")]
    pub access_key_secret: SecretString,
    /// The approved signature, without 【】: Aliyun adds them.
    pub sign_name: String,
    /// The `{token}` segment of the callback URLs configured in Aliyun's console.
    #[serde(serialize_with = "hidden")]
    pub callback_token: SecretString,
    /// When not empty, only callers inside these networks reach the callbacks. A list in
    /// a file, comma-separated in `POSTCALL__PROVIDER__ALIYUN__CALLBACK_ALLOW`.
    #[serde(
        default,
        deserialize_with = "crate::channels::settings::list_or_commas"
    )]
    pub callback_allow: Vec<String>,
    #[serde(default)]
    pub templates: Templates,
    /// `provider.aliyun.caps`: the per-number caps (`channels::caps`).
    #[serde(default)]
    pub caps: crate::channels::caps::Settings,
}

impl Settings {
    pub fn validate(&self) -> Result<(), Invalid> {
        self.base_url()?;
        non_empty("provider.aliyun.access_key_id", &self.access_key_id)?;
        non_empty(
            "provider.aliyun.access_key_secret",
            self.access_key_secret.expose_secret(),
        )?;
        non_empty("provider.aliyun.sign_name", &self.sign_name)?;
        if self.sign_name.contains(['【', '】']) {
            return Err(invalid(
                "provider.aliyun.sign_name",
                "must be the signature without 【】: Aliyun adds them",
            ));
        }
        let token = self.callback_token.expose_secret();
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(invalid(
                "provider.aliyun.callback_token",
                format!("must be at least {MIN_TOKEN_CHARS} random characters"),
            ));
        }
        let mut chars = token.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(invalid(
                "provider.aliyun.callback_token",
                "is one character repeated: use random characters",
            ));
        }
        if !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
        {
            return Err(invalid(
                "provider.aliyun.callback_token",
                "must be a single URL path segment: letters, digits, - _ . ~",
            ));
        }
        self.allowed_networks()?;
        self.caps.rules("aliyun")?;
        Ok(())
    }

    /// `base_url` as an http(s) URL.
    pub fn base_url(&self) -> Result<reqwest::Url, Invalid> {
        let key = "provider.aliyun.base_url";
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| invalid(key, format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                key,
                "must be an http:// or https:// URL with a host",
            ));
        }
        Ok(url)
    }

    /// `callback_allow` parsed; a bare address is a network of one.
    pub fn allowed_networks(&self) -> Result<Vec<IpNet>, Invalid> {
        networks("provider.aliyun.callback_allow", &self.callback_allow)
    }
}

#[cfg(test)]
mod tests;
