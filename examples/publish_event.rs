//! Publishes one `call.completed` event, as the call platform would, for trying postcall by
//! hand: `cargo run --example publish_event` sends a sample call that ended a minute ago;
//! `cargo run --example publish_event -- - < event.json` sends your own JSON.
//! AMQP_URL and EXCHANGE override the defaults.

use std::io::Read;

use lapin::{Connection, ConnectionProperties};
use postcall::amqp;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let exchange = std::env::var("EXCHANGE").unwrap_or_else(|_| "calls".into());
    let body = match std::env::args().nth(1).as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        Some(other) => {
            anyhow::bail!("unknown argument {other:?}: pass `-` to read JSON from stdin")
        }
        None => sample().to_string(),
    };
    let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
    let channel = amqp::confirming_channel(&connection).await?;
    let properties = amqp::persistent_json();
    let route = amqp::Route::new(&exchange, "call.completed");
    amqp::publish_confirmed(&channel, route, body.as_bytes(), properties).await?;
    println!("published to {exchange}: {body}");
    Ok(())
}

fn sample() -> serde_json::Value {
    let ended = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    let answered = ended - chrono::TimeDelta::minutes(4);
    serde_json::json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "call_id": format!("demo-{}", uuid::Uuid::new_v4().simple()),
        // A fresh number each run: a second survey for one phone would be (rightly) refused.
        "customer_phone": format!("+86138{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000),
        "agent_id": "agent-7",
        "queue": "payment",
        "started_at": (answered - chrono::TimeDelta::seconds(35)).to_rfc3339(),
        "answered_at": answered.to_rfc3339(),
        "ended_at": ended.to_rfc3339(),
        "disposition": "completed",
        "language": "zh-CN"
    })
}
