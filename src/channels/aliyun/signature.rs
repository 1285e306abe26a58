//! Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256: a canonical request over the
//! method, `/`, the sorted RFC 3986 query, the `host` and `x-acs-*` headers and the body's
//! SHA-256, its hash signed with the AccessKey secret itself (no derived key).
//!
//! Source: "V3 版本请求体&签名机制" (Request syntax and signature method V3),
//! <https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature>,
//! English <https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>.
//! Its "fixed parameter values" example is replayed by the unit tests.
//!
//! `SendSms` is an RPC-style API whose parameters are all `"in": "query"` (the SDKs build it
//! with `query` and an empty body; `alibabacloud-typescript-sdk`'s dysmsapi-20170525
//! `sendSmsWithOptions`): so the parameters go in the query string and the body is empty.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
pub const DEFAULT_HOST: &str = "dysmsapi.aliyuncs.com";
pub const VERSION: &str = "2017-05-25";
pub const ACTION_SEND_SMS: &str = "SendSms";
/// The lookup of a send whose outcome is unknown (DESIGN §4 "No blind resend").
pub const ACTION_QUERY_SEND_DETAILS: &str = "QuerySendDetails";

/// One call to sign.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub action: &'a str,
    pub version: &'a str,
    /// Sent as `x-acs-date`; Aliyun refuses one more than 15 minutes off.
    pub date: DateTime<Utc>,
    /// `x-acs-signature-nonce`: a fresh random value per call, against replays.
    pub nonce: &'a str,
    /// Parameters sent in the query string, unencoded; their order does not matter.
    pub query: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// Signed and sent when there is a body.
    pub content_type: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A `SendSms` call: POST, parameters in the query, no body.
    pub fn send_sms(
        host: &'a str,
        date: DateTime<Utc>,
        nonce: &'a str,
        query: &'a [(&'a str, &'a str)],
    ) -> Self {
        Self::rpc(ACTION_SEND_SMS, host, date, nonce, query)
    }

    /// An RPC call `action` of Dysms (2017-05-25): POST, parameters in the query, no body.
    pub fn rpc(
        action: &'a str,
        host: &'a str,
        date: DateTime<Utc>,
        nonce: &'a str,
        query: &'a [(&'a str, &'a str)],
    ) -> Self {
        Self {
            method: "POST",
            host,
            action,
            version: VERSION,
            date,
            nonce,
            query,
            body: b"",
            content_type: None,
        }
    }

    /// Names and values percent-encoded (RFC 3986), sorted by name, `&`-joined. Also the
    /// query string to send, so that what is sent is what was signed.
    pub fn canonical_query(&self) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(name, value)| (percent_encode(name), percent_encode(value)))
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The headers the signature covers, lowercase and sorted: `host`, every `x-acs-*`
    /// header, and `content-type` when there is one.
    pub fn signed_header_values(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("host", self.host.trim().to_owned()),
            ("x-acs-action", self.action.trim().to_owned()),
            ("x-acs-content-sha256", sha256_hex(self.body)),
            ("x-acs-date", self.acs_date()),
            ("x-acs-signature-nonce", self.nonce.trim().to_owned()),
            ("x-acs-version", self.version.trim().to_owned()),
        ];
        if let Some(content_type) = self.content_type {
            headers.push(("content-type", content_type.trim().to_owned()));
        }
        headers.sort();
        headers
    }

    pub fn signed_headers(&self) -> String {
        self.signed_header_values()
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(";")
    }

    pub fn canonical_request(&self) -> String {
        let headers: String = self
            .signed_header_values()
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();
        format!(
            "{}\n/\n{}\n{headers}\n{}\n{}",
            self.method.to_uppercase(),
            self.canonical_query(),
            self.signed_headers(),
            sha256_hex(self.body),
        )
    }

    pub fn string_to_sign(&self) -> String {
        format!(
            "{ALGORITHM}\n{}",
            sha256_hex(self.canonical_request().as_bytes())
        )
    }

    /// Lowercase hex HMAC-SHA256 of the string to sign, keyed by the secret as is.
    pub fn signature(&self, access_key_secret: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(access_key_secret.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(self.string_to_sign().as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The `Authorization` header value. Unlike Tencent's, no spaces after the commas.
    pub fn authorization(&self, access_key_id: &str, access_key_secret: &str) -> String {
        format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers(),
            self.signature(access_key_secret),
        )
    }

    /// Every header to send: the signed ones and `Authorization`.
    pub fn headers(
        &self,
        access_key_id: &str,
        access_key_secret: &str,
    ) -> Vec<(&'static str, String)> {
        let mut headers = self.signed_header_values();
        headers.push((
            "authorization",
            self.authorization(access_key_id, access_key_secret),
        ));
        headers
    }

    fn acs_date(&self) -> String {
        self.date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// RFC 3986: `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8 byte becomes `%XX` (so a space
/// is `%20`, `*` is `%2A`, `~` stays), as the document requires.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
