//! The SMS platforms a scenario can run against, each played strictly by its double.

use crate::{
    aliyun::AliyunDouble,
    ledger::{Ledger, Reply},
    tencent::TencentDouble,
    twilio::TwilioDouble,
};

/// The platform a run plays.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Tencent,
    Aliyun,
    Twilio,
}

/// One of the three doubles, held for the run.
pub enum Running {
    Tencent(TencentDouble),
    Aliyun(AliyunDouble),
    Twilio(TwilioDouble),
}

impl Running {
    pub async fn start(platform: Platform) -> anyhow::Result<Self> {
        Ok(match platform {
            Platform::Tencent => Self::Tencent(TencentDouble::start().await?),
            Platform::Aliyun => Self::Aliyun(AliyunDouble::start().await?),
            Platform::Twilio => Self::Twilio(TwilioDouble::start().await?),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        match self {
            Self::Tencent(d) => d.ledger(),
            Self::Aliyun(d) => d.ledger(),
            Self::Twilio(d) => d.ledger(),
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Self::Tencent(d) => d.env(),
            Self::Aliyun(d) => d.env(),
            Self::Twilio(d) => d.env(),
        }
    }

    /// The approved templates the platform needs, as a config file's TOML.
    pub fn templates(&self) -> Option<String> {
        match self {
            Self::Tencent(_) => Some(TencentDouble::templates_toml()),
            Self::Aliyun(_) => Some(AliyunDouble::templates_toml()),
            Self::Twilio(_) => None,
        }
    }

    /// The customer on `phone` texts `texts` back at once, in that order: the platform's
    /// pushes to a worker (Tencent calls back each reply on its own, Aliyun gathers them in
    /// one SmsUp batch).
    pub fn replies(&self, phone: &str, texts: &[&str]) -> anyhow::Result<Vec<Reply>> {
        Ok(match self {
            Self::Tencent(_) => texts
                .iter()
                .map(|text| TencentDouble::reply(phone, text))
                .collect(),
            Self::Aliyun(_) => vec![AliyunDouble::reply(phone, texts)],
            Self::Twilio(_) => anyhow::bail!("the Twilio double plays no replies"),
        })
    }
}
