//! `[provider.tencent]`.

use ipnet::IpNet;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::channels::{
    settings::{Invalid, hidden, invalid, networks, non_empty},
    templates::Templates,
};

/// Shortest accepted `callback_token`: the token is the callbacks' only credential.
pub const MIN_CALLBACK_TOKEN_CHARS: usize = 24;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    pub secret_id: String,
    #[serde(serialize_with = "hidden")]
    pub secret_key: SecretString,
    pub region: String,
    pub sms_sdk_app_id: String,
    /// The approved signature, without 【】: Tencent adds them.
    pub sign_name: String,
    /// The `{token}` in the callback URLs configured in Tencent's console.
    #[serde(serialize_with = "hidden")]
    pub callback_token: SecretString,
    /// CIDRs that may call the callbacks; empty lets anyone holding the token call.
    #[serde(
        default,
        deserialize_with = "crate::channels::settings::list_or_commas"
    )]
    pub callback_allow: Vec<String>,
    #[serde(default)]
    pub templates: Templates,
    /// The longest value Tencent accepts in a template variable (12 for accounts certified
    /// as individuals); unset leaves the check to Tencent.
    #[serde(default)]
    pub max_param_chars: Option<usize>,
    /// `provider.tencent.caps`: the per-number caps (`channels::caps`).
    #[serde(default)]
    pub caps: crate::channels::caps::Settings,
}

impl Settings {
    pub fn validate(&self) -> Result<(), Invalid> {
        base_url(&self.base_url)?;
        non_empty("provider.tencent.secret_id", &self.secret_id)?;
        non_empty(
            "provider.tencent.secret_key",
            self.secret_key.expose_secret(),
        )?;
        non_empty("provider.tencent.region", &self.region)?;
        non_empty("provider.tencent.sms_sdk_app_id", &self.sms_sdk_app_id)?;
        sign_name(&self.sign_name)?;
        callback_token(&self.callback_token)?;
        self.allowed_callers()?;
        if self.max_param_chars == Some(0) {
            return Err(invalid(
                "provider.tencent.max_param_chars",
                "must be at least 1, or unset",
            ));
        }
        self.caps.rules("tencent")?;
        Ok(())
    }

    /// `callback_allow`, parsed.
    pub fn allowed_callers(&self) -> Result<Vec<IpNet>, Invalid> {
        networks("provider.tencent.callback_allow", &self.callback_allow)
    }
}

fn base_url(value: &str) -> Result<(), Invalid> {
    const KEY: &str = "provider.tencent.base_url";
    non_empty(KEY, value)?;
    let url = Url::parse(value).map_err(|e| invalid(KEY, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(KEY, "must be an http(s) URL with a host"));
    }
    Ok(())
}

fn sign_name(value: &str) -> Result<(), Invalid> {
    const KEY: &str = "provider.tencent.sign_name";
    non_empty(KEY, value)?;
    if value.contains(['【', '】']) {
        return Err(invalid(KEY, "is written without 【】: Tencent adds them"));
    }
    Ok(())
}

fn callback_token(token: &SecretString) -> Result<(), Invalid> {
    const KEY: &str = "provider.tencent.callback_token";
    let token = token.expose_secret();
    non_empty(KEY, token)?;
    if token.chars().count() < MIN_CALLBACK_TOKEN_CHARS {
        return Err(invalid(
            KEY,
            format!("is too short: use at least {MIN_CALLBACK_TOKEN_CHARS} random characters"),
        ));
    }
    let first = token.chars().next();
    if token.chars().all(|c| Some(c) == first) {
        return Err(invalid(KEY, "is a placeholder (one character repeated)"));
    }
    // It is a path segment: anything that would need escaping is refused rather than
    // compared against a decoded form.
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
    {
        return Err(invalid(
            KEY,
            "may hold only letters, digits and - _ . ~ (it is a URL path segment)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
