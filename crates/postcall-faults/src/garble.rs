//! Generated bodies for the `generated` scenario: valid call.completed events and provider
//! callbacks mutated every way a sender gets them wrong, and arbitrary bytes. Seeded `rand`
//! rather than proptest, which is only a dev-dependency: a failing run is replayed with
//! `POSTCALL_FAULTS_SEED`. The library's property tests (tests/it/generated) shrink what
//! they find; this feeds the running worker the same kinds of input in bulk.

use rand::{Rng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};

const REQUIRED: [&str; 7] = [
    "call_id",
    "customer_phone",
    "agent_id",
    "queue",
    "started_at",
    "ended_at",
    "disposition",
];
const OPTIONAL: [&str; 4] = ["event_id", "answered_at", "language", "customer_timezone"];

/// Pieces that are hard on text handling, and values at or past a field's limits.
const NASTY: &[&str] = &[
    "",
    " ",
    "\t\r\n",
    "退订",
    "五",
    "５",
    "⭐",
    "👍🏽",
    "5️⃣",
    "\u{200D}",
    "\u{FEFF}",
    "\u{7}",
    "\u{0}",
    "\u{10FFFF}",
    "Ｎ",
    "ｓｔｏｐ",
    "+86",
    "+999999999999999999999",
    "+8613800138000",
    "0000-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+23:59",
    "2026-12-31T23:59:60Z",
    "2026-02-30T10:00:00Z",
    "2026-11-24T10:00:00",
    "Asia/Nowhere",
    "EST5EDT",
    "UTC",
    "zh-",
    "x-private",
    "COMPLETED",
    "completed",
    "delivered",
    "exploded",
];

/// A string: nasty pieces and random characters, now and then very long.
pub fn text(rng: &mut StdRng) -> String {
    if rng.random_ratio(1, 50) {
        let unit = NASTY.choose(rng).copied().unwrap_or("x");
        return unit.repeat(rng.random_range(100..5000));
    }
    let mut s = String::new();
    for _ in 0..rng.random_range(0..5) {
        if rng.random_bool(0.5) {
            s.push_str(NASTY.choose(rng).copied().unwrap_or_default());
        } else if let Some(c) = char::from_u32(rng.random_range(0..0x11_0000)) {
            s.push(c);
        }
    }
    s
}

/// Any JSON value, up to `depth` deep.
pub fn json(rng: &mut StdRng, depth: u32) -> Value {
    let leaf = depth == 0 || rng.random_bool(0.6);
    match rng.random_range(0..if leaf { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<u64>()),
        4 => json!(f64::from_bits(rng.random::<u64>())),
        5 => json!(text(rng)),
        6 => Value::Array(
            (0..rng.random_range(0..6))
                .map(|_| json(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.random_range(0..6))
                .map(|_| (text(rng), json(rng, depth - 1)))
                .collect(),
        ),
    }
}

fn not_a_string(rng: &mut StdRng) -> Value {
    loop {
        let v = json(rng, 3);
        if !v.is_string() {
            return v;
        }
    }
}

/// A body, and whether it is certainly poison whatever the decoder says (a missing or
/// mistyped required field, broken JSON): a decoder that accepts one is wrong.
pub struct Garbled {
    pub body: Vec<u8>,
    pub certainly_poison: bool,
}

/// `event` as sent, mutated, or replaced by something else entirely.
pub fn event(rng: &mut StdRng, event: Value) -> Garbled {
    match rng.random_range(0..100) {
        0..15 => Garbled {
            body: serde_json::to_vec(&event).expect("serialises"),
            certainly_poison: false,
        },
        15..25 => Garbled {
            body: bytes(rng, 512),
            certainly_poison: false,
        },
        25..32 => Garbled {
            body: serde_json::to_vec(&json(rng, 5)).expect("serialises"),
            certainly_poison: false,
        },
        _ => mutated_event(rng, event),
    }
}

pub fn bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let mut b = vec![0u8; rng.random_range(0..max)];
    rng.fill(&mut b[..]);
    b
}

fn mutated_event(rng: &mut StdRng, mut event: Value) -> Garbled {
    let object = event.as_object_mut().expect("an event is an object");
    let mut certainly_poison = false;
    let all: Vec<&str> = REQUIRED.iter().chain(&OPTIONAL).copied().collect();
    for _ in 0..rng.random_range(1..=3) {
        match rng.random_range(0..5) {
            0 => {
                object.remove(*REQUIRED.choose(rng).expect("not empty"));
                certainly_poison = true;
            }
            1 => {
                let field = *REQUIRED.choose(rng).expect("not empty");
                object.insert(field.into(), not_a_string(rng));
                certainly_poison = true;
            }
            2 => {
                let value = if rng.random_bool(0.5) {
                    json!(text(rng))
                } else {
                    json(rng, 2)
                };
                object.insert((*all.choose(rng).expect("not empty")).into(), value);
                // A later mutation may put back what an earlier one broke.
                certainly_poison = false;
            }
            3 => {
                object.insert(text(rng), json(rng, 4));
            }
            _ => {
                let field = *all.choose(rng).expect("not empty");
                object.insert(field.into(), json!(NASTY.choose(rng).expect("not empty")));
                certainly_poison = false;
            }
        }
    }
    let mut body = serde_json::to_vec(&event).expect("serialises");
    match rng.random_range(0..10) {
        0 => {
            body.truncate(rng.random_range(0..body.len()));
            certainly_poison = true;
        }
        1 => {
            let at = rng.random_range(0..=body.len());
            body.insert(
                at,
                *[0x80u8, 0xC0, 0xC1, 0xF5, 0xFE, 0xFF]
                    .choose(rng)
                    .expect("not empty"),
            );
            certainly_poison = true;
        }
        2 => {
            let at = rng.random_range(0..body.len());
            body[at] = rng.random();
        }
        3 => {
            // Past any parser's recursion limit.
            let n = rng.random_range(129..3000);
            let deep = format!("{{\"deep\":{}{},", "[".repeat(n), "]".repeat(n));
            body = [deep.as_bytes(), &body[1..]].concat();
            certainly_poison = true;
        }
        4 => {
            // The same key twice in the text: the last one wins, or the first does.
            let field = *all.choose(rng).expect("not empty");
            let dup = format!("{{{}:{},", json!(field), json!(text(rng)));
            body = [dup.as_bytes(), &body[1..]].concat();
            certainly_poison = false;
        }
        _ => {}
    }
    Garbled {
        body,
        certainly_poison,
    }
}

/// A valid callback of either type, about a customer or message the worker knows.
pub fn callback(rng: &mut StdRng, phones: &[String], sent: &[String]) -> Value {
    if rng.random_bool(0.5) || sent.is_empty() {
        let text = ["TD", "1", "2", "5", "退订", "STOP", "help"].choose(rng);
        json!({
            "type": "message.received",
            "data": {
                "provider_message_id": format!("in-{}", uuid::Uuid::new_v4().simple()),
                "from": phones.choose(rng).expect("some phones"),
                "to": crate::customer::SHORT_CODE,
                "body": text,
                "received_at": chrono::Utc::now().to_rfc3339(),
            }
        })
    } else {
        let status = ["failed", "delivered", "undelivered"].choose(rng);
        json!({
            "type": "message.status",
            "data": {
                "provider_message_id": sent.choose(rng).expect("not empty"),
                "status": status,
                "error_code": "30003",
            }
        })
    }
}

/// A callback body mutated: fields dropped, mistyped or replaced, unknown types, broken
/// JSON, or no callback at all.
pub fn mutated_callback(rng: &mut StdRng, mut callback: Value) -> Vec<u8> {
    const FIELDS: [&str; 8] = [
        "provider_message_id",
        "from",
        "to",
        "body",
        "received_at",
        "status",
        "error_code",
        "data",
    ];
    match rng.random_range(0..8) {
        0 => return bytes(rng, 1024),
        1 => return serde_json::to_vec(&json(rng, 5)).expect("serialises"),
        2 => callback["type"] = json(rng, 1),
        3 => {
            callback
                .as_object_mut()
                .expect("an object")
                .remove(*["type", "data"].choose(rng).expect("not empty"));
        }
        4 => callback["data"] = json(rng, 3),
        _ => {
            let field = *FIELDS.choose(rng).expect("not empty");
            let data = callback["data"].as_object_mut().expect("an object");
            if rng.random_bool(0.4) {
                data.remove(field);
            } else {
                data.insert(field.into(), json(rng, 2));
            }
        }
    }
    let mut body = serde_json::to_vec(&callback).expect("serialises");
    match rng.random_range(0..6) {
        0 => body.truncate(rng.random_range(0..body.len())),
        1 => {
            let at = rng.random_range(0..body.len());
            body[at] = rng.random();
        }
        _ => {}
    }
    body
}
