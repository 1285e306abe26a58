//! Strategies shared by the generated tests: a valid call.completed event, the ways it is
//! mutated, and strings that are hard on text handling (CJK, emoji, control characters,
//! invisible marks, huge).

use proptest::prelude::*;
use serde_json::{Value, json};

/// `cases` cases, or `PROPTEST_CASES` when set: the defaults keep `cargo test` quick in a
/// debug build; `PROPTEST_CASES=10000` is issue 8's full count.
pub fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

/// The event's required fields: dropping any one of them, or giving it a non-string value,
/// makes the event poison.
pub const REQUIRED: [&str; 7] = [
    "call_id",
    "customer_phone",
    "agent_id",
    "queue",
    "started_at",
    "ended_at",
    "disposition",
];

pub const OPTIONAL: [&str; 4] = ["event_id", "answered_at", "language", "customer_timezone"];

/// A valid event: any of the dispositions, zones and languages, mainland mobiles, times with
/// offsets, `answered_at` present, null or absent.
pub fn valid_event() -> impl Strategy<Value = Value> {
    (
        "[A-Za-z0-9_.:-]{1,40}",
        0u32..100_000_000,
        (1_600_000_000i64..1_900_000_000, 0i64..600, 0i64..7200),
        prop::sample::select(vec![
            "completed",
            "abandoned",
            "transferred",
            "voicemail",
            "failed",
        ]),
        prop::sample::select(vec!["+08:00", "Z", "-03:00", "+05:45", "+14:00", "-12:00"]),
        prop::option::of(prop::sample::select(vec![
            "zh-CN",
            "en",
            "en-US",
            "zh-Hant-TW",
        ])),
        prop::option::of(prop::sample::select(vec![
            "Asia/Shanghai",
            "Europe/Moscow",
            "America/Sao_Paulo",
            "Pacific/Kiritimati",
        ])),
        0u8..3,
    )
        .prop_map(
            |(call_id, n, (start, wait, talk), disposition, offset, language, zone, answered)| {
                let at = |secs: i64| {
                    let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
                    let offset: chrono::FixedOffset = if offset == "Z" {
                        chrono::FixedOffset::east_opt(0).expect("zero")
                    } else {
                        offset.parse().expect("an offset")
                    };
                    t.with_timezone(&offset).to_rfc3339()
                };
                let mut event = json!({
                    "event_id": uuid::Uuid::new_v4().to_string(),
                    "call_id": call_id,
                    "customer_phone": format!("+86139{n:08}"),
                    "agent_id": format!("agent-{}", n % 97),
                    "queue": "payment",
                    "started_at": at(start),
                    "ended_at": at(start + wait + talk),
                    "disposition": disposition,
                });
                match answered {
                    0 => event["answered_at"] = json!(at(start + wait)),
                    1 => event["answered_at"] = Value::Null,
                    _ => {}
                }
                if let Some(language) = language {
                    event["language"] = json!(language);
                }
                if let Some(zone) = zone {
                    event["customer_timezone"] = json!(zone);
                }
                event
            },
        )
}

/// Text that is hard on parsers: any of the pieces below, and arbitrary Unicode, joined.
pub fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "\\PC{0,8}",
        prop::sample::select(vec![
            "退订",
            "五",
            "十",
            "５",
            "分",
            "星",
            "⭐",
            "🌟",
            "👍🏽",
            "5️⃣",
            "\u{200D}",
            "\u{FEFF}",
            "\u{0}",
            "\u{7}",
            "\r\n",
            "\t",
            "\u{3000}",
            "\u{FF01}",
            "\u{FF5E}",
            "Ｎ",
            "ｓｔｏｐ",
            "-",
            "+",
            "/",
            "10/10",
            "out of",
            "𝟓",
            "٥",
            "Ⅴ",
            "ǅ",
            "İ",
            "ß",
            "ﬀ",
            "\u{10FFFF}",
            "99999999999999999999",
            "-2147483648",
            "1e9",
            "NaN",
            "是",
            "否",
            "已解决",
        ])
        .prop_map(str::to_owned),
    ];
    prop_oneof![
        8 => prop::collection::vec(piece, 0..6).prop_map(|p| p.concat()),
        1 => (any::<char>(), 1000usize..8000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// JSON values of any shape and a few extreme leaves, nested up to 6 deep.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        nasty_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(nasty_text(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One way a sender gets an event wrong.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// A required field is missing.
    Drop(&'static str),
    /// A required field holds something that is not a string.
    WrongType(&'static str, Value),
    /// Any field holds any value (valid by chance, or not).
    Replace(&'static str, Value),
    /// A field appears twice in the text.
    Duplicate(&'static str, Value),
    /// An unknown field, arbitrarily deep or long.
    Extra(String, Value),
    /// Arrays nested `n` deep in an unknown field, past any parser's recursion limit.
    Deep(usize),
    /// The text cut short at a fraction of its length.
    Truncate(f64),
    /// A byte that is never valid UTF-8 inserted at a fraction of the length.
    InvalidUtf8(f64, u8),
    /// One byte overwritten.
    Byte(f64, u8),
    /// The body is not an object at all.
    NotAnObject(Value),
}

impl Mutation {
    /// Whether the event is certainly poison after this mutation.
    pub fn must_fail(&self) -> bool {
        matches!(
            self,
            Mutation::Drop(_)
                | Mutation::WrongType(..)
                | Mutation::Deep(_)
                | Mutation::Truncate(_)
                | Mutation::InvalidUtf8(..)
                | Mutation::NotAnObject(_)
        )
    }

    /// The event's body with this mutation applied.
    pub fn apply(&self, mut event: Value) -> Vec<u8> {
        let at = |text: &[u8], fraction: f64| ((text.len() as f64) * fraction) as usize;
        match self {
            Mutation::Drop(field) => {
                event.as_object_mut().expect("an object").remove(*field);
            }
            Mutation::WrongType(field, value) | Mutation::Replace(field, value) => {
                event[*field] = value.clone();
            }
            Mutation::Extra(name, value) => event[name.as_str()] = value.clone(),
            Mutation::Duplicate(field, value) => {
                let text = serde_json::to_string(&event).expect("serialises");
                let extra = format!("{{{}:{},", json!(field), value);
                return text.replacen('{', &extra, 1).into_bytes();
            }
            Mutation::Deep(n) => {
                let text = serde_json::to_string(&event).expect("serialises");
                let deep = format!("{{\"deep\":{}{},", "[".repeat(*n), "]".repeat(*n));
                return text.replacen('{', &deep, 1).into_bytes();
            }
            Mutation::NotAnObject(value) => return serde_json::to_vec(value).expect("serialises"),
            _ => {}
        }
        let mut text = serde_json::to_vec(&event).expect("serialises");
        match *self {
            Mutation::Truncate(f) => text.truncate(at(&text, f).min(text.len() - 1)),
            Mutation::InvalidUtf8(f, b) => {
                let i = at(&text, f);
                text.insert(i, b);
            }
            Mutation::Byte(f, b) => {
                let i = at(&text, f).min(text.len() - 1);
                text[i] = b;
            }
            _ => {}
        }
        text
    }
}

fn not_a_string() -> impl Strategy<Value = Value> {
    any_json().prop_filter("not a string", |v| !v.is_string())
}

fn field() -> impl Strategy<Value = &'static str> {
    prop::sample::select([REQUIRED.as_slice(), OPTIONAL.as_slice()].concat())
}

/// Values that fit no field's rules, or just barely do.
fn edge_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_json(),
        prop::sample::select(vec![
            json!(""),
            json!(" "),
            json!("x".repeat(128)),
            json!("x".repeat(129)),
            json!("界".repeat(64)),
            json!("界".repeat(65)),
            json!("+86"),
            json!("+999999999999999999999"),
            json!("0000-01-01T00:00:00+00:00"),
            json!("9999-12-31T23:59:59-23:59"),
            json!("9999-12-31T23:59:59+23:59"),
            json!("2026-12-31T23:59:60Z"),
            json!("2026-02-30T10:00:00Z"),
            json!("2026-11-24T10:00:00"),
            json!("2026-11-24 10:00:00+08:00"),
            json!("Asia/Nowhere"),
            json!("UTC"),
            json!("EST5EDT"),
            json!("zh-"),
            json!("x-private"),
            json!("COMPLETED"),
            json!(1e308),
            json!(u64::MAX),
            json!(i64::MIN),
        ]),
    ]
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => prop::sample::select(REQUIRED.to_vec()).prop_map(Mutation::Drop),
        1 => (prop::sample::select(REQUIRED.to_vec()), not_a_string())
            .prop_map(|(f, v)| Mutation::WrongType(f, v)),
        3 => (field(), edge_value()).prop_map(|(f, v)| Mutation::Replace(f, v)),
        1 => (field(), edge_value()).prop_map(|(f, v)| Mutation::Duplicate(f, v)),
        1 => (nasty_text(), any_json()).prop_map(|(n, v)| Mutation::Extra(n, v)),
        1 => (129usize..5000).prop_map(Mutation::Deep),
        1 => (0.0..1.0).prop_map(Mutation::Truncate),
        1 => (0.0..1.0, prop::sample::select(vec![0x80u8, 0xC0, 0xC1, 0xF5, 0xFE, 0xFF]))
            .prop_map(|(f, b)| Mutation::InvalidUtf8(f, b)),
        1 => (0.0..1.0, any::<u8>()).prop_map(|(f, b)| Mutation::Byte(f, b)),
        1 => any_json()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(Mutation::NotAnObject),
    ]
}
