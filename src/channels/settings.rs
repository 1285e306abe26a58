//! The `[provider]` section: which channel sends, and each channel's own settings, which
//! that channel checks. `config` layers the sources and names the key of any refusal.

use std::{borrow::Cow, fmt};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{aliyun, tencent, twilio, webhook};

/// `provider.kind`. No catch-all: a kind that names no channel refuses to start, saying
/// which kinds there are (serde's own message would name the Rust enum instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum ProviderKind {
    Console,
    Twilio,
    Webhook,
    Tencent,
    Aliyun,
}

impl ProviderKind {
    pub const ALL: [Self; 5] = [
        Self::Console,
        Self::Twilio,
        Self::Webhook,
        Self::Tencent,
        Self::Aliyun,
    ];

    /// Whether the provider drops a second send of one message (an idempotency key; the
    /// console sends nothing), so that a send of unknown outcome may simply go again.
    /// The others are asked first (DESIGN §4 "No blind resend").
    pub const fn drops_duplicates(self) -> bool {
        match self {
            Self::Console | Self::Webhook => true,
            Self::Twilio | Self::Tencent | Self::Aliyun => false,
        }
    }

    /// The name in `provider.kind` and in `messages.provider`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Twilio => "twilio",
            Self::Webhook => "webhook",
            Self::Tencent => "tencent",
            Self::Aliyun => "aliyun",
        }
    }
}

impl TryFrom<String> for ProviderKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                format!("must be console, twilio, webhook, tencent or aliyun, got {name:?}")
            })
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub kind: ProviderKind,
    pub twilio: twilio::Settings,
    pub webhook: webhook::Settings,
    pub tencent: tencent::Settings,
    pub aliyun: aliyun::Settings,
}

/// A channel setting that cannot be used, with its dotted key.
#[derive(Debug)]
pub struct Invalid {
    /// Owned where the key has a variable part (a template's language and message).
    pub key: Cow<'static, str>,
    pub why: String,
}

impl Settings {
    /// Only the chosen channel's settings must be complete; the others may stay unset.
    pub fn validate(&self) -> Result<(), Invalid> {
        match self.kind {
            ProviderKind::Console => Ok(()),
            ProviderKind::Twilio => self.twilio.validate(),
            ProviderKind::Webhook => self.webhook.validate(),
            ProviderKind::Tencent => self.tencent.validate(),
            ProviderKind::Aliyun => self.aliyun.validate(),
        }
    }

    /// The chosen channel's per-number caps, counted before every send; none for `console`.
    pub fn caps(&self) -> Result<crate::domain::caps::Caps, Invalid> {
        let kind = self.kind.as_str();
        match self.kind {
            ProviderKind::Console => Ok(crate::domain::caps::Caps::OFF),
            ProviderKind::Twilio => self.twilio.caps.rules(kind),
            ProviderKind::Webhook => self.webhook.caps.rules(kind),
            ProviderKind::Tencent => self.tencent.caps.rules(kind),
            ProviderKind::Aliyun => self.aliyun.caps.rules(kind),
        }
    }

    /// The chosen channel's approved templates, for the platforms that send nothing else;
    /// `None`: the channel sends the survey's own texts.
    pub fn templates(&self) -> Option<super::templates::TemplateSource<'_>> {
        match self.kind {
            ProviderKind::Console | ProviderKind::Twilio | ProviderKind::Webhook => None,
            ProviderKind::Tencent => Some(super::tencent::source::source(&self.tencent)),
            ProviderKind::Aliyun => Some(super::templates::TemplateSource {
                key: "provider.aliyun.templates",
                sign_name: &self.aliyun.sign_name,
                templates: &self.aliyun.templates,
                render: aliyun::template::render_template,
                check: aliyun::template::check_template,
            }),
        }
    }
}

pub(super) fn invalid(key: &'static str, why: impl Into<String>) -> Invalid {
    Invalid {
        key: Cow::Borrowed(key),
        why: why.into(),
    }
}

pub(super) fn non_empty(key: &'static str, value: &str) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    Ok(())
}

/// A list in a file, or one comma-separated string from an environment variable (the
/// config loader reads a variable as one string).
pub fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(items) => items,
        Either::Commas(text) => text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

/// A `callback_allow` list as networks; a bare address is a network of one.
pub fn networks(key: &'static str, entries: &[String]) -> Result<Vec<ipnet::IpNet>, Invalid> {
    entries
        .iter()
        .map(|entry| {
            let entry = entry.trim();
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        key,
                        format!("{entry:?} is not a CIDR (e.g. 203.0.113.0/24) or an address"),
                    )
                })
        })
        .collect()
}

/// Serializes a secret as `<hidden>` (empty stays empty, so an unset key reads as unset):
/// `check-config` prints the settings.
pub fn hidden<S: serde::Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if value.expose_secret().is_empty() {
        ""
    } else {
        "<hidden>"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::try_from(kind.as_str().to_owned()), Ok(kind));
        }
        let err = ProviderKind::try_from("Twilio".to_owned()).unwrap_err();
        assert!(
            err.contains("console, twilio, webhook, tencent or aliyun"),
            "{err}"
        );
    }
}
