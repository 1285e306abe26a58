//! What the demo tells the person running it: what it is about to do, what to open next,
//! and how to come back to a kept database.

use std::net::SocketAddr;

use super::{
    Options,
    customers::{Customer, Persona},
    namespace,
    results::DemoResults,
};
use crate::config::{ExposeSecret, Settings};

/// What the demo is about to do, and the one setting it turns off that a person must know.
pub fn introduce(settings: &Settings, options: &Options) {
    println!("postcall demo: an hour of calls through the real worker, console provider");
    println!(
        "  {} calls (seed {}) into database {} and exchange {}",
        options.calls,
        options.seed,
        namespace::database_name(settings.database.url.expose_secret()),
        settings.amqp.exchange
    );
    println!("  quiet hours are OFF for the demo: its calls ended in the last hour, and at night");
    println!("  in the customers' time zone the worker would rightly hold every SMS until 09:00");
}

/// Where to look at the result: the dashboard, the API for the demo's days, one survey.
pub fn print_next(
    settings: &Settings,
    addr: Option<SocketAddr>,
    results: &DemoResults,
    customers: &[Customer],
) {
    println!();
    println!("What to open next");
    let auth = if settings.api.token.expose_secret().is_empty() {
        ""
    } else {
        " -H \"Authorization: Bearer $POSTCALL__API__TOKEN\""
    };
    if let Some(addr) = addr {
        let base = format!("http://{addr}");
        println!("  dashboard   {base}/dashboard");
        println!(
            "  scores API  curl -s{auth} '{base}/api/v1/scores?from={}&to={}&group_by=agent'",
            results.from, results.to
        );
        // One conversation worth reading: a re-prompt, and then an answer.
        let example = customers
            .iter()
            .find(|c| c.persona == Persona::Garbled)
            .or(customers.first());
        if let Some(c) = example {
            println!(
                "  a survey    curl -s{auth} {base}/api/v1/surveys/{}",
                c.call.call_id
            );
        }
    }
    println!(
        "  database    {}",
        namespace::psql(settings.database.url.expose_secret())
    );
}

/// How to serve a kept database again without consuming or sending anything.
pub fn print_kept(url: &str) {
    let program = std::env::args().next().unwrap_or_else(|| "postcall".into());
    let name = namespace::database_name(url);
    println!("Kept database {name}. To see its dashboard again (no ingest, no SMS):");
    println!(
        "  POSTCALL__DATABASE__URL='{}' POSTCALL__INGEST__ENABLED=false POSTCALL__DISPATCH__ENABLED=false {program} run",
        namespace::redacted(url)
    );
    println!("The next demo replaces it; to drop it now:");
    println!(
        "  {} -c 'DROP DATABASE {name}'",
        namespace::psql_to(url, "postgres")
    );
}
