//! `postcall check-config` with a templated channel: README's template set for the default
//! survey, with the ids the platform gave back filled in, is complete and passes the
//! platform's rules; without one message it refuses, naming that template's key. The same
//! for README's compact set with `survey.preset = "compact"`, which the standard set fails.

use std::process::Command;

const README: &str = include_str!("../../README.md");

/// README's `[provider.<kind>.templates…]` block, each template given an id as the
/// platform would after approval.
fn readme_templates(kind: &str) -> String {
    readme_block(kind, 0)
}

/// README's second block for the channel: the compact survey's.
pub(crate) fn readme_compact_templates(kind: &str) -> String {
    readme_block(kind, 1)
}

fn readme_block(kind: &str, nth: usize) -> String {
    let start = README
        .match_indices(&format!("[provider.{kind}.templates.\"zh-CN\"]"))
        .nth(nth)
        .unwrap_or_else(|| panic!("README shows no {kind} templates block {nth}"))
        .0;
    let end = start + README[start..].find("```").expect("the block ends");
    let mut n = 0;
    README[start..end]
        .lines()
        .map(|line| {
            n += 1;
            line.replace("id = \"\"", &format!("id = \"{}\"", 2_000_000 + n))
                .replace("id = \"SMS_…\"", &format!("id = \"SMS_{}\"", 100_000 + n))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything else the channel needs, as an operator would set it.
fn credentials(kind: &str) -> Vec<(String, String)> {
    let key = |k: &str| format!("POSTCALL__PROVIDER__{}__{k}", kind.to_uppercase());
    let mut env = vec![
        ("POSTCALL__PROVIDER__KIND".to_owned(), kind.to_owned()),
        (key("SIGN_NAME"), "腾讯云".to_owned()),
        (key("CALLBACK_TOKEN"), "q7Vn2xL9pR4tK8mW3sJ6hB1c".to_owned()),
        (
            "POSTCALL__API__TOKEN".to_owned(),
            "s3cr3t-token-M7nU-h2PpY3S-ggK".to_owned(),
        ),
    ];
    match kind {
        "tencent" => env.extend([
            (key("SECRET_ID"), "AKIDexampleexampleexample".to_owned()),
            (key("SECRET_KEY"), "exampleSecretKeyExampleKey".to_owned()),
            (key("SMS_SDK_APP_ID"), "1400006666".to_owned()),
        ]),
        _ => env.extend([
            (key("ACCESS_KEY_ID"), "LTAIexampleexample".to_owned()),
            (
                key("ACCESS_KEY_SECRET"),
                "exampleAccessKeySecretExample".to_owned(),
            ),
        ]),
    }
    env
}

fn check_config(kind: &str, templates: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, templates).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall"));
    cmd.args(["--config", path.to_str().unwrap(), "check-config"]);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
        cmd.env_remove(k);
    }
    cmd.envs(credentials(kind));
    cmd.output().expect("running the postcall binary")
}

fn says_valid_then_names_a_missing_template(kind: &str) {
    let templates = readme_templates(kind);
    let out = check_config(kind, &templates);
    assert!(
        out.status.success(),
        "{kind}: README's templates refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("kind = \"{kind}\"")));

    let without_help: String = {
        let (zh, en) = templates
            .split_once(&format!("[provider.{kind}.templates.en]"))
            .expect("an en table");
        let en: Vec<&str> = en.lines().filter(|l| !l.starts_with("help =")).collect();
        format!("{zh}[provider.{kind}.templates.en]{}", en.join("\n"))
    };
    let out = check_config(kind, &without_help);
    assert!(
        !out.status.success(),
        "{kind}: a missing template was accepted"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("provider.{kind}.templates.en.help")),
        "{kind}: {err}"
    );
}

#[test]
fn tencent_check_config_accepts_readmes_templates_and_names_a_missing_one() {
    says_valid_then_names_a_missing_template("tencent");
}

#[test]
fn aliyun_check_config_accepts_readmes_templates_and_names_a_missing_one() {
    says_valid_then_names_a_missing_template("aliyun");
}

const COMPACT: &str = "[survey]\npreset = \"compact\"\n";

fn compact_accepted_and_standard_refused(kind: &str) {
    let out = check_config(
        kind,
        &format!("{COMPACT}{}", readme_compact_templates(kind)),
    );
    assert!(
        out.status.success(),
        "{kind}: README's compact templates refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The standard set has templates the compact survey never sends.
    let out = check_config(kind, &format!("{COMPACT}{}", readme_templates(kind)));
    assert!(
        !out.status.success(),
        "{kind}: the standard set was accepted"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("names no message postcall sends"),
        "{kind}: {err}"
    );
}

#[test]
fn tencent_check_config_accepts_readmes_compact_templates_with_the_compact_preset() {
    compact_accepted_and_standard_refused("tencent");
}

#[test]
fn aliyun_check_config_accepts_readmes_compact_templates_with_the_compact_preset() {
    compact_accepted_and_standard_refused("aliyun");
}
