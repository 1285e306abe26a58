//! Who may read the API, and what its answers carry: without `api.token` only this machine
//! (a loopback bind, a loopback `Host`), a case-insensitive bearer scheme, `call_id`s no event
//! could carry refused before any query, `Cache-Control: no-store` on every /api answer, and
//! refusals that anyone can provoke counted in full but logged sparingly.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::{
    helpers::{Cleanup, Names, TestApp, insert_surveys},
    process::{signal, spawn_worker, wait_for_database, wait_for_exit},
    raw_http::{address, get, read_answer},
};

const NO_AGGREGATION: (&str, &str) = ("POSTCALL__AGGREGATION__ENABLED", "false");

fn port(address: &str) -> &str {
    address.rsplit(':').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_api_answers_only_requests_addressed_to_loopback() {
    let app = TestApp::spawn_with(&[NO_AGGREGATION]).await;
    insert_surveys(
        &app.pool,
        1,
        Utc::now() + TimeDelta::days(1),
        "Asia/Shanghai",
    )
    .await;
    let addr = address(&app);
    let port = port(&addr);

    // A page whose name was rebound to 127.0.0.1 still sends its own name.
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.evil.example:{port}"),
        "10.0.0.1".to_owned(),
    ] {
        for path in ["/api/v1/surveys/call-1", "/api/v1/scores"] {
            let answer = get(&addr, path, &host, &[]).await;
            assert_eq!(answer.status, 403, "Host {host}, {path}: {}", answer.body);
            assert!(answer.body.contains("api.token"), "{}", answer.body);
            assert_eq!(answer.header("cache-control"), Some("no-store"));
        }
    }
    // HTTP/1.0 needs no Host: with none, the request is not known to be addressed here.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/scores HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 403);

    for host in [
        addr.clone(),
        format!("localhost:{port}"),
        "LOCALHOST".to_owned(),
        format!("[::1]:{port}"),
        "127.0.0.2".to_owned(),
    ] {
        let survey = get(&addr, "/api/v1/surveys/call-1", &host, &[]).await;
        assert_eq!(survey.status, 200, "Host {host}: {}", survey.body);
        assert!(
            survey.body.contains(r#""call_id":"call-1""#),
            "{}",
            survey.body
        );
        let scores = get(&addr, "/api/v1/scores", &host, &[]).await;
        assert_eq!(scores.status, 200, "Host {host}: {}", scores.body);
    }
    // The dashboard's files hold no data: any Host may load them; the API calls they make
    // are what the check guards.
    let page = get(&addr, "/dashboard", "evil.example", &[]).await;
    assert_eq!(page.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive_and_a_token_makes_any_host_welcome() {
    let app = TestApp::spawn_with(&[
        NO_AGGREGATION,
        ("POSTCALL__API__TOKEN", "hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken"),
    ])
    .await;
    let addr = address(&app);
    for authorization in [
        "Bearer hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
        "bearer hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
        "BEARER hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
        "bEaReR  hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
    ] {
        let answer = get(
            &addr,
            "/api/v1/scores",
            &addr,
            &[("Authorization", authorization)],
        )
        .await;
        assert_eq!(answer.status, 200, "{authorization}: {}", answer.body);
    }
    for authorization in [
        "Basic hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
        "Bearer hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ke",
        "Bearer hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken2",
        "hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken",
    ] {
        let answer = get(
            &addr,
            "/api/v1/scores",
            &addr,
            &[("Authorization", authorization)],
        )
        .await;
        assert_eq!(answer.status, 401, "{authorization}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
    // A rebinding page cannot present the token, so with one the Host does not matter.
    let proxied = get(
        &addr,
        "/api/v1/scores",
        "scores.example.com",
        &[("Authorization", "Bearer hs7Wq2Lx9Rv4Tz8Nc1Mb5Pk3J-t0ken")],
    )
    .await;
    assert_eq!(proxied.status, 200, "{}", proxied.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_id_no_event_could_carry_is_refused_naming_it() {
    let app = TestApp::spawn_with(&[NO_AGGREGATION]).await;
    let addr = address(&app);
    for call_id in ["a%00b".to_owned(), "%00".to_owned(), "x".repeat(129)] {
        let answer = get(&addr, &format!("/api/v1/surveys/{call_id}"), &addr, &[]).await;
        assert_eq!(answer.status, 400, "{call_id}: {}", answer.body);
        assert!(answer.body.contains("call_id"), "{}", answer.body);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
    // 128 characters (384 bytes) is a call_id the contract allows: looked up, not found.
    let longest = "%E4%B8%AD".repeat(128);
    let answer = get(&addr, &format!("/api/v1/surveys/{longest}"), &addr, &[]).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_answer_says_no_store_and_the_rest_keep_their_caching() {
    let app = TestApp::spawn_with(&[NO_AGGREGATION]).await;
    let addr = address(&app);
    for (path, status) in [
        ("/api/v1/scores", 200),
        ("/api/v1/scores?format=xlsx", 400),
        ("/api/v1/surveys/no-such-call", 404),
        ("/api/openapi.json", 200),
        ("/api/v2/nothing", 404),
    ] {
        let answer = get(&addr, path, &addr, &[]).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
    }
    let page = get(&addr, "/dashboard", &addr, &[]).await;
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let health = get(&addr, "/healthz", &addr, &[]).await;
    assert_eq!(health.header("cache-control"), None);
}

#[test]
fn a_non_loopback_bind_without_a_token_refuses_to_start_naming_the_token() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postcall"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTCALL__")) {
        cmd.env_remove(k);
    }
    let out = cmd
        .arg("check-config")
        .env("POSTCALL__HTTP__BIND", "0.0.0.0:8080")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`api.token`") && err.contains("http.bind"),
        "{err}"
    );
}

/// The worker's HTTP address, from its "HTTP listening" line.
async fn listening_on(worker: &crate::process::Worker) -> String {
    for _ in 0..400 {
        let printed = worker.printed();
        if let Some(line) = printed.lines().find(|l| l.contains("HTTP listening"))
            && let Some((_, after)) = line.split_once("127.0.0.1:")
        {
            let port: String = after.chars().take_while(char::is_ascii_digit).collect();
            return format!("127.0.0.1:{port}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no \"HTTP listening\" line within 20 s:\n{}",
        worker.printed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_api_is_announced_and_refusals_cannot_flood_the_plain_text_log() {
    const REFUSALS: usize = 300;
    let names = Names::new();
    let _cleanup = Cleanup(names.clone());
    let worker = spawn_worker(&names, &[NO_AGGREGATION]);
    let _pool = wait_for_database(&names.database_url).await;
    let addr = listening_on(&worker).await;

    // Unsigned callbacks: anyone can send them, and each is refused.
    let client = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..REFUSALS {
        let refused = client
            .post(format!("http://{addr}/webhooks/sms"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
    }
    let seconds = started.elapsed().as_secs_f64();
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = metrics
        .lines()
        .find(|l| l.starts_with("postcall_http_refusals_total{") && l.contains("\"403\""))
        .unwrap_or_else(|| panic!("no refusal count in:\n{metrics}"));
    assert!(counted.ends_with(&format!(" {REFUSALS}")), "{counted}");

    signal(&worker, "INT");
    let (status, logs) = wait_for_exit(worker, Duration::from_secs(30)).await;
    assert!(status.success(), "{logs}");
    assert!(
        !logs.contains('\x1b'),
        "colour codes in a log that is no terminal:\n{logs}"
    );
    let warning = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("unauthenticated"))
        .unwrap_or_else(|| panic!("no warning that the API is open:\n{logs}"));
    assert!(warning.contains("localhost"), "{warning}");
    // At most 10 a second (the first second's burst included), whatever the clients send.
    let logged = logs.matches("request refused").count();
    let allowed = 10 + (10.0 * seconds).ceil() as usize;
    assert!(
        (1..=allowed).contains(&logged),
        "{logged} refusal lines for {REFUSALS} refusals in {seconds:.1} s"
    );
}
