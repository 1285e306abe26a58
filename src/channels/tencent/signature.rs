//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's "signature v3": a canonical request, a string to
//! sign scoped to `date/service/tc3_request`, a key derived from `"TC3" + SecretKey` through
//! the date, the service and `tc3_request`, and the `Authorization` header built from them.
//!
//! Source: Tencent Cloud API "签名方法 v3" (Signature v3), one text shared by every product
//! and listed under SMS's 调用方式 (<https://cloud.tencent.com/document/api/382/52069>); read at
//! <https://cloud.tencent.com/document/api/362/4208> and, in English,
//! <https://intl.cloud.tencent.com/document/api/1021/34193>. The unit tests replay that
//! document's worked example (CVM `DescribeInstances`, timestamp 1551113065).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The credential scope's service for SMS; it must match the host's first label.
pub const SERVICE: &str = "sms";
pub const DEFAULT_HOST: &str = "sms.tencentcloudapi.com";
pub const VERSION: &str = "2021-01-11";
pub const ACTION_SEND_SMS: &str = "SendSms";
/// The lookup of a send whose outcome is unknown (DESIGN §4 "No blind resend").
pub const ACTION_PULL_STATUS: &str = "PullSmsSendStatusByPhoneNumber";
/// What postcall sends. The document warns that a client adding `; charset=utf-8` on its
/// own breaks the signature, so the exact value signed is the one sent.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// The minimum the document requires; more headers may be signed but none is needed.
const SIGNED_HEADERS: &str = "content-type;host";

/// One API 3.0 POST to sign: everything the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub host: &'a str,
    pub service: &'a str,
    pub action: &'a str,
    pub version: &'a str,
    /// `X-TC-Region`; SMS takes it (e.g. `ap-guangzhou`), some products omit it.
    pub region: Option<&'a str>,
    pub content_type: &'a str,
    /// The time sent as `X-TC-Timestamp`; Tencent refuses one more than 5 minutes off.
    pub time: DateTime<Utc>,
    /// The exact body bytes sent.
    pub payload: &'a [u8],
}

impl<'a> Request<'a> {
    /// A `SendSms` call to `host` with the JSON `payload`.
    pub fn send_sms(
        host: &'a str,
        region: &'a str,
        time: DateTime<Utc>,
        payload: &'a [u8],
    ) -> Self {
        Self::sms(ACTION_SEND_SMS, host, region, time, payload)
    }

    /// An SMS API call `action` (2021-01-11) to `host` with the JSON `payload`.
    pub fn sms(
        action: &'a str,
        host: &'a str,
        region: &'a str,
        time: DateTime<Utc>,
        payload: &'a [u8],
    ) -> Self {
        Self {
            host,
            service: SERVICE,
            action,
            version: VERSION,
            region: Some(region),
            content_type: CONTENT_TYPE,
            time,
            payload,
        }
    }

    /// `POST`, URI `/`, an empty query string (POST never has one in API 3.0), the signed
    /// headers lowercased and trimmed, and the payload's SHA-256.
    pub fn canonical_request(&self) -> String {
        format!(
            "POST\n/\n\ncontent-type:{}\nhost:{}\n\n{SIGNED_HEADERS}\n{}",
            self.content_type.trim().to_lowercase(),
            self.host.trim().to_lowercase(),
            sha256_hex(self.payload),
        )
    }

    /// `date/service/tc3_request`. The date is the UTC date of the timestamp: a local date
    /// fails every call between local midnight and UTC midnight.
    pub fn credential_scope(&self) -> String {
        format!("{}/{}/tc3_request", self.date(), self.service)
    }

    pub fn string_to_sign(&self) -> String {
        format!(
            "{ALGORITHM}\n{}\n{}\n{}",
            self.time.timestamp(),
            self.credential_scope(),
            sha256_hex(self.canonical_request().as_bytes()),
        )
    }

    /// Lowercase hex HMAC-SHA256 of the string to sign under the derived key.
    pub fn signature(&self, secret_key: &str) -> String {
        let key = derived_key(secret_key, &self.date(), self.service);
        hex(&hmac(&key, self.string_to_sign().as_bytes()))
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, secret_id: &str, secret_key: &str) -> String {
        format!(
            "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={SIGNED_HEADERS}, Signature={}",
            self.credential_scope(),
            self.signature(secret_key),
        )
    }

    /// Every header the call needs, `Authorization` included, in the order Tencent's
    /// document lists them. `Host` is listed because it is signed: the HTTP client must send
    /// exactly this value.
    pub fn headers(&self, secret_id: &str, secret_key: &str) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("Authorization", self.authorization(secret_id, secret_key)),
            ("Content-Type", self.content_type.to_owned()),
            ("Host", self.host.to_owned()),
            ("X-TC-Action", self.action.to_owned()),
            ("X-TC-Timestamp", self.time.timestamp().to_string()),
            ("X-TC-Version", self.version.to_owned()),
        ];
        if let Some(region) = self.region {
            headers.push(("X-TC-Region", region.to_owned()));
        }
        headers
    }

    fn date(&self) -> String {
        self.time.format("%Y-%m-%d").to_string()
    }
}

/// `HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")`.
fn derived_key(secret_key: &str, date: &str, service: &str) -> Vec<u8> {
    let secret_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac(&secret_date, service.as_bytes());
    hmac(&secret_service, b"tc3_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
