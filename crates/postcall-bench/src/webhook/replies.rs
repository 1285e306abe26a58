//! Customers' replies as Twilio delivers them: form-encoded, with every field Twilio's
//! inbound webhook carries, each signed before the clock starts.

use axum::body::Bytes;
use postcall::channels::twilio;

pub const TOKEN: &str = "2620f5fec8abc0b18d10a0fddee7869e";
pub const PUBLIC_URL: &str = "https://postcall.example.com";
pub const PATH: &str = "/webhooks/twilio/inbound";
pub const OUR_NUMBER: &str = "+15005550006";

/// One request, ready to send: its body and its X-Twilio-Signature.
#[derive(Clone)]
pub struct Signed {
    pub body: Bytes,
    pub signature: String,
}

/// The phone of seeded survey `n` (1-based), a valid mainland mobile number.
pub fn phone(n: usize) -> String {
    format!("+86139{n:08}")
}

/// A reply of `text` from survey `n`'s phone, with Twilio message id `sid`.
pub fn reply(n: usize, sid: &str, text: &str) -> Signed {
    signed(&params(&phone(n), sid, text), TOKEN)
}

/// Signed with another token: must be refused and change nothing.
pub fn forged(n: usize, sid: &str, text: &str) -> Signed {
    signed(&params(&phone(n), sid, text), "not-the-token")
}

fn signed(params: &[(String, String)], token: &str) -> Signed {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    Signed {
        body: Bytes::from(body),
        signature: twilio::signature::compute(token, &format!("{PUBLIC_URL}{PATH}"), params),
    }
}

fn params(from: &str, sid: &str, text: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", text),
        ("FromCountry", "CN"),
        ("To", OUR_NUMBER),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "ACbench00000000000000000000000000"),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Twilio message ids are `SM` + 32 hex digits.
pub fn sid(n: usize) -> String {
    format!("SM{n:032x}")
}
