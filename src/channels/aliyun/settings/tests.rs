use super::*;

fn valid() -> Settings {
    Settings {
        base_url: "https://dysmsapi.aliyuncs.com".into(),
        access_key_id: "LTAI5tExampleKeyId".into(),
        access_key_secret: SecretString::from("a-secret-of-thirty-characters"),
        sign_name: "小蓝钱包".into(),
        callback_token: SecretString::from("Zq8mV2xT7pLk4RwN9sYb3HcJ"),
        callback_allow: vec!["106.11.0.0/16".into(), "47.96.1.2".into()],
        templates: Templates::new(),
        caps: Default::default(),
    }
}

fn refused_key(settings: &Settings) -> String {
    settings.validate().expect_err("refused").key.into_owned()
}

#[test]
fn complete_settings_pass() {
    valid().validate().unwrap();
    assert_eq!(valid().allowed_networks().unwrap().len(), 2);
}

#[test]
fn each_bad_value_names_its_key() {
    let mut s = valid();
    s.access_key_id = " ".into();
    assert_eq!(refused_key(&s), "provider.aliyun.access_key_id");

    let mut s = valid();
    s.access_key_secret = SecretString::from("");
    assert_eq!(refused_key(&s), "provider.aliyun.access_key_secret");

    let mut s = valid();
    s.sign_name = "【小蓝钱包】".into();
    assert_eq!(refused_key(&s), "provider.aliyun.sign_name");

    let mut s = valid();
    s.callback_token = SecretString::from("short-token");
    assert_eq!(refused_key(&s), "provider.aliyun.callback_token");

    let mut s = valid();
    s.callback_token = SecretString::from("a".repeat(40));
    assert_eq!(refused_key(&s), "provider.aliyun.callback_token");

    let mut s = valid();
    s.callback_token = SecretString::from("Zq8mV2xT7pLk4RwN9sYb3HcJ/../x");
    assert_eq!(refused_key(&s), "provider.aliyun.callback_token");

    let mut s = valid();
    s.callback_allow = vec!["106.11.0.0/33".into()];
    assert_eq!(refused_key(&s), "provider.aliyun.callback_allow");

    for url in ["ftp://dysmsapi.aliyuncs.com", "dysmsapi.aliyuncs.com", ""] {
        let mut s = valid();
        s.base_url = url.into();
        assert_eq!(refused_key(&s), "provider.aliyun.base_url", "{url}");
    }
}

#[test]
fn secrets_print_hidden() {
    let printed = serde_json::to_string(&valid()).unwrap();
    assert!(printed.contains("<hidden>"), "{printed}");
    assert!(!printed.contains("Zq8mV2xT7pLk4RwN9sYb3HcJ"), "{printed}");
    assert!(!printed.contains("a-secret-of-thirty"), "{printed}");
}
