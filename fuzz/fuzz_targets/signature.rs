//! Both signature checks on any input: no panic; a message signed with the secret is
//! accepted, and the same message with one bit of its body, id, or a form value changed
//! is refused.
#![no_main]

use base64::{Engine, engine::general_purpose::STANDARD};
use libfuzzer_sys::fuzz_target;
use postcall::channels::{
    twilio,
    webhook::{
        self,
        signature::{Headers, Secret},
    },
};

const NOW: i64 = 1_790_000_000;

fuzz_target!(|input: (
    Vec<u8>,
    String,
    i64,
    Vec<u8>,
    usize,
    String,
    Vec<(String, String)>
)| {
    let (key, id, skew, body, bit, header, params) = input;
    standard_webhooks_check(&key, &id, skew, &body, bit, &header);
    twilio_check(&id, &header, &params, bit);
});

fn standard_webhooks_check(key: &[u8], id: &str, skew: i64, body: &[u8], bit: usize, header: &str) {
    let Ok(secret) = Secret::parse(&format!("whsec_{}", STANDARD.encode(key))) else {
        assert!(key.is_empty());
        return;
    };
    let timestamp = NOW.saturating_add(skew % 600);
    let ts = timestamp.to_string();
    // Whatever arrives in the headers: refused or accepted, never a panic.
    let _ = webhook::signature::verify(
        &secret,
        &Headers {
            id,
            timestamp: header,
            signature: header,
        },
        body,
        NOW,
        300,
    );
    let _ = webhook::signature::verify(
        &secret,
        &Headers {
            id,
            timestamp: &ts,
            signature: header,
        },
        body,
        NOW,
        300,
    );

    let signature = webhook::signature::sign(&secret, id, timestamp, body);
    let headers = Headers {
        id,
        timestamp: &ts,
        signature: &signature,
    };
    let fresh = (NOW - timestamp).abs() <= 300;
    assert_eq!(
        webhook::signature::verify(&secret, &headers, body, NOW, 300).is_ok(),
        fresh
    );
    if !body.is_empty() {
        let mut altered = body.to_vec();
        altered[(bit / 8) % body.len()] ^= 1 << (bit % 8);
        assert!(webhook::signature::verify(&secret, &headers, &altered, NOW, 300).is_err());
    }
    let other_id = format!("{id}x");
    let moved = Headers {
        id: &other_id,
        ..headers
    };
    assert!(webhook::signature::verify(&secret, &moved, body, NOW, 300).is_err());
}

fn twilio_check(token: &str, url: &str, params: &[(String, String)], bit: usize) {
    let _ = twilio::signature::validate(token, url, params, url);
    let signature = twilio::signature::compute(token, url, params);
    assert!(twilio::signature::validate(token, url, params, &signature));
    let Some(i) = (!params.is_empty()).then(|| bit % params.len()) else {
        return;
    };
    let mut altered = params.to_vec();
    altered[i].1.push('x');
    // Moving a character from one value to the next name forges the same concatenation:
    // only a change the concatenation shows must be refused.
    assert!(!twilio::signature::validate(token, url, &altered, &signature));
}
