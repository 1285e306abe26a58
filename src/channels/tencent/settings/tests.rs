use super::*;

fn valid() -> Settings {
    toml::from_str(
        r#"
        base_url = "https://sms.tencentcloudapi.com"
        secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
        secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
        region = "ap-guangzhou"
        sms_sdk_app_id = "1400006666"
        sign_name = "小蓝钱包"
        callback_token = "k3J9vQ2mX7pL4tR8wZ1nB6cY"
        callback_allow = ["203.0.113.0/24", "2001:db8::1"]

        [templates."zh-CN".first]
        id = "1234567"
        text = "您好，感谢您致电。您的问题解决了吗？回复1=是，2=否。回TD退订"
        "#,
    )
    .unwrap()
}

fn key_of(change: impl FnOnce(&mut Settings)) -> (String, String) {
    let mut s = valid();
    change(&mut s);
    let Invalid { key, why } = s.validate().unwrap_err();
    (key.to_string(), why)
}

#[test]
fn the_example_is_valid() {
    valid().validate().unwrap();
    assert_eq!(valid().allowed_callers().unwrap().len(), 2);
}

type Change = Box<dyn FnOnce(&mut Settings)>;

#[test]
fn each_refusal_names_its_key() {
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|s| s.base_url = "ftp://x".into()),
            "provider.tencent.base_url",
            "http",
        ),
        (
            Box::new(|s| s.base_url = "sms.tencentcloudapi.com".into()),
            "provider.tencent.base_url",
            "URL",
        ),
        (
            Box::new(|s| s.secret_id = " ".into()),
            "provider.tencent.secret_id",
            "empty",
        ),
        (
            Box::new(|s| s.secret_key = SecretString::from("")),
            "provider.tencent.secret_key",
            "empty",
        ),
        (
            Box::new(|s| s.sms_sdk_app_id = String::new()),
            "provider.tencent.sms_sdk_app_id",
            "empty",
        ),
        (
            Box::new(|s| s.sign_name = "【小蓝钱包】".into()),
            "provider.tencent.sign_name",
            "【】",
        ),
        (
            Box::new(|s| s.callback_token = SecretString::from("")),
            "provider.tencent.callback_token",
            "empty",
        ),
        (
            Box::new(|s| s.callback_token = SecretString::from("short-token")),
            "provider.tencent.callback_token",
            "too short",
        ),
        (
            Box::new(|s| s.callback_token = SecretString::from("a".repeat(30))),
            "provider.tencent.callback_token",
            "repeated",
        ),
        (
            Box::new(|s| s.callback_token = SecretString::from("k3J9vQ2mX7pL4tR8wZ1n/6cY")),
            "provider.tencent.callback_token",
            "path segment",
        ),
        (
            Box::new(|s| s.callback_allow = vec!["10.0.0.0/33".into()]),
            "provider.tencent.callback_allow",
            "10.0.0.0/33",
        ),
        (
            Box::new(|s| s.max_param_chars = Some(0)),
            "provider.tencent.max_param_chars",
            "at least 1",
        ),
    ];
    for (change, key, words) in cases {
        let (got, why) = key_of(change);
        assert_eq!(got, key, "{why}");
        assert!(why.contains(words), "{key}: {why}");
    }
}

#[test]
fn the_allow_list_reads_from_one_comma_separated_string() {
    let mut value: toml::Value = toml::from_str(&toml::to_string(&valid()).unwrap()).unwrap();
    value["callback_allow"] = toml::Value::String("10.0.0.0/8, 192.0.2.1".into());
    value["secret_key"] = toml::Value::String("k".into());
    value["callback_token"] = toml::Value::String("k3J9vQ2mX7pL4tR8wZ1nB6cY".into());
    let s: Settings = value.try_into().unwrap();
    assert_eq!(s.callback_allow, vec!["10.0.0.0/8", "192.0.2.1"]);
}

#[test]
fn secrets_print_hidden() {
    let printed = toml::to_string(&valid()).unwrap();
    assert!(printed.contains("secret_key = \"<hidden>\""), "{printed}");
    assert!(
        printed.contains("callback_token = \"<hidden>\""),
        "{printed}"
    );
    assert!(!printed.contains("Gu5t9x"), "{printed}");
    assert!(!printed.contains("k3J9vQ"), "{printed}");
}
