//! The signature checks (`channels::webhook::signature`, `channels::twilio::signature`) on generated
//! messages and headers: never a panic; a message signed with the secret passes; one bit of
//! its body, another id, another secret, a changed timestamp or a changed form value fails;
//! headers made of anything fail without a panic.

use base64::{Engine, engine::general_purpose::STANDARD};
use postcall::channels::{
    twilio,
    webhook::{
        self,
        signature::{Headers, Secret, VerifyError},
    },
};
use proptest::prelude::*;

use super::mutate::{config, nasty_text};

const NOW: i64 = 1_790_000_000;
const TOLERANCE: i64 = 300;

fn secret() -> impl Strategy<Value = Secret> {
    prop::collection::vec(any::<u8>(), 1..80)
        .prop_map(|key| Secret::parse(&format!("whsec_{}", STANDARD.encode(key))).unwrap())
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..1024),
        nasty_text()
            .prop_filter("not empty", |t| !t.is_empty())
            .prop_map(String::into_bytes),
    ]
}

fn verify(secret: &Secret, id: &str, ts: &str, sig: &str, body: &[u8]) -> Result<(), VerifyError> {
    let headers = Headers {
        id,
        timestamp: ts,
        signature: sig,
    };
    webhook::signature::verify(secret, &headers, body, NOW, TOLERANCE)
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn standard_webhooks_accepts_only_the_message_it_signed(
        secret in secret(),
        other in secret(),
        id in "[A-Za-z0-9_.-]{1,40}",
        skew in -TOLERANCE..=TOLERANCE,
        body in body(),
        bit in any::<usize>(),
    ) {
        let ts = NOW + skew;
        let sig = webhook::signature::sign(&secret, &id, ts, &body);
        let ts_text = ts.to_string();
        prop_assert_eq!(verify(&secret, &id, &ts_text, &sig, &body), Ok(()));

        let mut altered = body.clone();
        altered[(bit / 8) % body.len()] ^= 1 << (bit % 8);
        prop_assert!(verify(&secret, &id, &ts_text, &sig, &altered).is_err());
        let moved_id = format!("{id}x");
        prop_assert!(verify(&secret, &moved_id, &ts_text, &sig, &body).is_err());
        prop_assert!(verify(&secret, &id, &(ts + 1).to_string(), &sig, &body).is_err());
        let signed_ts = format!("+{ts}");
        prop_assert!(verify(&secret, &id, &signed_ts, &sig, &body).is_err());
        let forged = webhook::signature::sign(&other, &id, ts, &body);
        prop_assert!(verify(&secret, &id, &ts_text, &forged, &body).is_err() || forged == sig);
        // A signature that is stale or early fails even though it is genuine.
        let stale = NOW - TOLERANCE - 1 - skew.abs();
        let stale_sig = webhook::signature::sign(&secret, &id, stale, &body);
        prop_assert_eq!(verify(&secret, &id, &stale.to_string(), &stale_sig, &body), Err(VerifyError::TooOld));
    }

    #[test]
    fn standard_webhooks_headers_of_anything_are_refused(
        secret in secret(),
        id in nasty_text(),
        ts in prop_oneof![nasty_text(), any::<i64>().prop_map(|t| t.to_string()), "[0-9]{0,30}"],
        sig in prop_oneof![nasty_text(), "(v[0-9],[A-Za-z0-9+/=]{0,60} ?){0,4}"],
        body in body(),
    ) {
        // A random header matching by chance would be a forged tag of 256 bits.
        prop_assert!(verify(&secret, &id, &ts, &sig, &body).is_err());
    }

    #[test]
    fn twilio_accepts_only_the_form_it_signed(
        token in "[a-f0-9]{32}",
        url in prop_oneof![
            "https?://[a-z]{1,12}(:[0-9]{1,5})?(/[a-z/]{0,20})?(\\?[a-z=&]{0,10})?",
            nasty_text(),
        ],
        params in prop::collection::vec((nasty_text(), nasty_text()), 0..8),
        which in any::<usize>(),
        signature in nasty_text(),
    ) {
        let good = twilio::signature::compute(&token, &url, &params);
        prop_assert!(twilio::signature::validate(&token, &url, &params, &good));
        prop_assert!(!twilio::signature::validate(&token, &url, &params, &signature) || signature.trim() == good);
        if !params.is_empty() {
            let mut altered = params.clone();
            altered[which % params.len()].1.push('x');
            prop_assert!(!twilio::signature::validate(&token, &url, &altered, &good));
        }
        let mut extra = params.clone();
        extra.push(("Body".into(), "TD".into()));
        prop_assert!(!twilio::signature::validate(&token, &url, &extra, &good));
        let other_token = format!("{token}0");
        prop_assert!(!twilio::signature::validate(&other_token, &url, &params, &good));
    }
}
