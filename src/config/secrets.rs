//! Secrets in the settings: kept in types whose `Debug` and `Serialize` never show them
//! (a `tracing::debug!(?settings)`, an error message or `check-config` prints a mask), and
//! refused at start when they are too short to resist guessing or are published test keys.

use std::fmt;

use reqwest::Url;
pub use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, invalid};
use crate::channels::{ProviderKind, webhook::signature::Secret};

/// What a hidden value is printed as.
const MASK: &str = "****";

/// Shortest accepted API token and Twilio auth token, in characters, and shortest
/// Standard Webhooks key, in decoded bytes. Twilio's auth tokens are 32 hex characters;
/// Standard Webhooks keys are 24 to 64 random bytes.
pub const MIN_SECRET_LEN: usize = 24;

/// Secrets that are published, so anyone can sign with them. Each entry says where it is
/// published. Standard Webhooks keys are compared decoded; tokens as written.
const PUBLISHED_WEBHOOK_KEYS: &[(&str, &str)] = &[
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "the Standard Webhooks specification's test vector (standard-webhooks/standard-webhooks, \
         libraries/php/tests/WebhookTest.php; also svix's libraries and docs)",
    ),
    (
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "the Standard Webhooks reference Rust library's test (libraries/rust/src/lib.rs, `test_sign`)",
    ),
];
const PUBLISHED_TOKENS: &[(&str, &str)] = &[
    (
        "12345",
        "Twilio's request-validation example (docs: Webhooks security; twilio-php validation.rst)",
    ),
    (
        "your_auth_token",
        "Twilio's quickstarts and helper-library READMEs (twilio-python)",
    ),
];

/// A connection URL whose password may be secret (`postgres://user:password@host/db`,
/// `amqp://user:password@host/vhost`, `?password=…`). `Debug`, `Display` and `Serialize`
/// show it masked; connecting takes `expose_secret()`.
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    /// The URL with its password, and any password-like query parameter, masked.
    pub fn masked(&self) -> String {
        mask_url(self.0.expose_secret())
    }
}

impl ExposeSecret<str> for SecretUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        Self(url.into())
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self(url.into())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.masked(), f)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// `raw` with the userinfo password and the values of password-like query parameters
/// (`password`, `sslpassword`, anything naming a secret or token) replaced by `****`;
/// scheme, user, host, port, path and other parameters stay readable. Text that does not
/// parse as a URL cannot be told apart, so it is hidden whole.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return if raw.is_empty() {
            String::new()
        } else {
            "<hidden: not a URL>".into()
        };
    };
    if url.password().is_some() {
        // Cannot fail: a URL with a password has a host.
        let _ = url.set_password(Some(MASK));
    }
    if let Some(query) = url.query() {
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if secret_parameter(name) => format!("{name}={MASK}"),
                _ => pair.to_owned(),
            })
            .collect();
        url.set_query(Some(&masked.join("&")));
    }
    url.to_string()
}

fn secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token"]
        .iter()
        .any(|word| name.contains(word))
}

impl Settings {
    /// The selected provider's secret and `api.token` (when set) must be long enough not to
    /// be guessed and must not be a published example; errors name the key, never the value.
    pub(super) fn validate_secrets(&self) -> Result<(), ConfigError> {
        let p = &self.provider;
        match p.kind {
            ProviderKind::Twilio => {
                strong_token("provider.twilio.auth_token", &p.twilio.auth_token)?
            }
            ProviderKind::Webhook => strong_webhook_key(&p.webhook.secret)?,
            ProviderKind::Console => {}
            // Tencent's callback token is checked with its other keys (`tencent::settings`).
            ProviderKind::Tencent => {}
            // Checked by its own settings: the token's length and the CIDRs.
            ProviderKind::Aliyun => {}
        }
        if !self.api.token.expose_secret().is_empty() {
            strong_token("api.token", &self.api.token)?;
        }
        Ok(())
    }
}

fn strong_token(key: &'static str, token: &SecretString) -> Result<(), ConfigError> {
    let token = token.expose_secret();
    if let Some((_, source)) = PUBLISHED_TOKENS.iter().find(|(t, _)| *t == token) {
        return Err(invalid(key, format!("is a published example ({source})")));
    }
    if token.chars().count() < MIN_SECRET_LEN {
        return Err(invalid(
            key,
            format!("is too short: use at least {MIN_SECRET_LEN} random characters"),
        ));
    }
    let first = token.chars().next();
    if token.chars().all(|c| Some(c) == first) {
        return Err(invalid(key, "is a placeholder (one character repeated)"));
    }
    Ok(())
}

fn strong_webhook_key(secret: &SecretString) -> Result<(), ConfigError> {
    const KEY: &str = "provider.webhook.secret";
    let key = Secret::parse(secret.expose_secret()).map_err(|e| invalid(KEY, e.to_string()))?;
    let published = PUBLISHED_WEBHOOK_KEYS
        .iter()
        .find(|(known, _)| Secret::parse(known).is_ok_and(|k| k == key));
    if let Some((_, source)) = published {
        return Err(invalid(KEY, format!("is a published test key ({source})")));
    }
    if key.key_len() < MIN_SECRET_LEN {
        return Err(invalid(
            KEY,
            format!(
                "decodes to a {}-byte key; use at least {MIN_SECRET_LEN} random bytes \
                 (`whsec_$(openssl rand -base64 32)`)",
                key.key_len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
