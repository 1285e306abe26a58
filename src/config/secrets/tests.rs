use super::*;
use crate::config::tests::load_env as load;

const WEBHOOK_KEY: &str = "whsec_uQ8c1qO1ICFzxtGC8mEjSs7Kr97aTTKq/twuAG5ZuZY=";
const TWILIO_TOKEN: &str = "8d1523353fe3f90d26b314c773a9e63b";
const API_TOKEN: &str = "pesWeb9myyp23ERXLtSbbi3HuZ5nJiAi";

fn twilio(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("POSTCALL__PROVIDER__KIND", "twilio".into()),
        ("POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID", "AC0123".into()),
        ("POSTCALL__PROVIDER__TWILIO__FROM", "+15005550006".into()),
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", token.into()),
    ]
}

fn webhook(secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("POSTCALL__PROVIDER__KIND", "webhook".into()),
        (
            "POSTCALL__PROVIDER__WEBHOOK__URL",
            "http://127.0.0.1:1/send".into(),
        ),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", secret.into()),
    ]
}

/// Environment overrides, the key the error must name, and the words saying why.
type Refusal = (Vec<(&'static str, String)>, &'static str, &'static str);

fn load_owned(pairs: &[(&'static str, String)]) -> Result<Settings, ConfigError> {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    load(&borrowed)
}

#[test]
fn no_secret_reaches_debug_or_serialized_settings() {
    let s = load(&[
        (
            "POSTCALL__DATABASE__URL",
            "postgres://postgres:s3cret-pw@127.0.0.1:5432/postcall?sslmode=disable",
        ),
        (
            "POSTCALL__AMQP__URL",
            "amqp://guest:amqp-pw-9@127.0.0.1:5672/%2f",
        ),
        ("POSTCALL__API__TOKEN", API_TOKEN),
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", TWILIO_TOKEN),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", WEBHOOK_KEY),
    ])
    .unwrap();
    let debug = format!("{s:?} {:?} {}", s.database, s.amqp.url);
    let toml = toml::to_string(&s).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    for shown in [&debug, &toml, &json] {
        for secret in [
            "s3cret-pw",
            "amqp-pw-9",
            API_TOKEN,
            TWILIO_TOKEN,
            WEBHOOK_KEY,
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("postgres://postgres:****@127.0.0.1:5432/postcall?sslmode=disable")
                && shown.contains("amqp://guest:****@127.0.0.1:5672/%2f"),
            "{shown}"
        );
    }
    // Connecting still sees the real values.
    assert!(s.database.url.expose_secret().contains("s3cret-pw"));
    assert_eq!(s.api.token.expose_secret(), API_TOKEN);
}

#[test]
fn mask_url_hides_passwords_and_keeps_the_rest_readable() {
    for (raw, shown) in [
        (
            "postgres://postgres:s3cret-pw@127.0.0.1:5432/postcall",
            "postgres://postgres:****@127.0.0.1:5432/postcall",
        ),
        (
            "postgres://app@db.internal/pc?sslmode=require&password=p%40ss&application_name=pc",
            "postgres://app@db.internal/pc?sslmode=require&password=****&application_name=pc",
        ),
        (
            "postgres://db/pc?sslpassword=x1&PassWord=x2&auth_token=x3",
            "postgres://db/pc?sslpassword=****&PassWord=****&auth_token=****",
        ),
        (
            "amqp://guest:guest@127.0.0.1:5672/%2f",
            "amqp://guest:****@127.0.0.1:5672/%2f",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/postcall",
            "postgres://postgres@127.0.0.1:5432/postcall",
        ),
        ("", ""),
    ] {
        assert_eq!(mask_url(raw), shown, "{raw}");
    }
    assert_eq!(
        mask_url("host=db password=s3cret-pw"),
        "<hidden: not a URL>"
    );
}

#[test]
fn weak_and_published_secrets_refuse_to_start_naming_the_key() {
    let cases: Vec<Refusal> = vec![
        // The Standard Webhooks test vectors: anyone can sign with them.
        (
            webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "provider.webhook.secret",
            "published",
        ),
        (
            webhook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            "provider.webhook.secret",
            "published",
        ),
        // One byte, and 23.
        (
            webhook("whsec_AQ=="),
            "provider.webhook.secret",
            "1-byte key",
        ),
        (
            webhook(&format!("whsec_{}", base64_of(&[7; 23]))),
            "provider.webhook.secret",
            "23-byte key",
        ),
        (webhook("whsec_%%%"), "provider.webhook.secret", "base64"),
        (twilio("x"), "provider.twilio.auth_token", "too short"),
        (
            twilio(&TWILIO_TOKEN[..23]),
            "provider.twilio.auth_token",
            "too short",
        ),
        (twilio("12345"), "provider.twilio.auth_token", "published"),
        (
            twilio("your_auth_token"),
            "provider.twilio.auth_token",
            "published",
        ),
        (
            twilio(&"X".repeat(32)),
            "provider.twilio.auth_token",
            "placeholder",
        ),
        (
            vec![("POSTCALL__API__TOKEN", "s3cret".into())],
            "api.token",
            "too short",
        ),
    ];
    for (env, key, why) in cases {
        let err = load_owned(&env).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(why), "{env:?}: {err}");
        let secret = &env.last().unwrap().1;
        assert!(
            secret.len() < 6 || !err.contains(secret.as_str()),
            "the error echoes the secret: {err}"
        );
    }
}

#[test]
fn strong_secrets_start_and_only_the_selected_provider_is_judged() {
    load_owned(&webhook(WEBHOOK_KEY)).unwrap();
    // 24 decoded bytes is enough.
    load_owned(&webhook(&format!("whsec_{}", base64_of(&[7; 24])))).unwrap();
    load_owned(&twilio(TWILIO_TOKEN)).unwrap();
    load(&[("POSTCALL__API__TOKEN", API_TOKEN)]).unwrap();
    // The console provider sends with neither; what is left in their keys is not used.
    load(&[
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", "x"),
        (
            "POSTCALL__PROVIDER__WEBHOOK__SECRET",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
    ])
    .unwrap();
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
