//! What one client may hold of the HTTP server: a request head trickled in is cut off at
//! `http.header_read_timeout_seconds`, an idle connection closed after
//! `http.idle_timeout_seconds`, and beyond `http.max_connections` a connection waits, unserved,
//! until another closes. Shutdown still stops the server with connections open.

use std::time::{Duration, Instant};

use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::{
    helpers::TestApp,
    raw_http::{address, closed_after, read_answer},
};

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

async fn spawn(header_read: &str, idle: &str, max_connections: &str) -> TestApp {
    TestApp::spawn_with(&[
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__HTTP__HEADER_READ_TIMEOUT_SECONDS", header_read),
        ("POSTCALL__HTTP__IDLE_TIMEOUT_SECONDS", idle),
        ("POSTCALL__HTTP__MAX_CONNECTIONS", max_connections),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_trickled_in_is_cut_off_at_the_header_read_timeout() {
    let app = spawn("1", "60", "1024").await;
    let stream = TcpStream::connect(address(&app)).await.unwrap();
    let since = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // A byte every 100 ms, never ending the head: bytes keep moving, so only the head's
    // deadline can end it.
    let trickle = tokio::spawn(async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let closed = closed_after(&mut reader, since, Duration::from_secs(10)).await;
    trickle.abort();
    let closed = closed.expect("the server still reading a trickled head after 10 s");
    assert!(
        closed >= Duration::from_millis(800),
        "closed after {closed:?}, before the 1 s timeout"
    );

    // A head sent at once is served as ever.
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn("60", "1", "1024").await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 200);
    assert_ne!(answer.header("connection"), Some("close"));
    let since = Instant::now();
    let closed = closed_after(&mut stream, since, Duration::from_secs(10))
        .await
        .expect("an idle connection still open after 10 s");
    assert!(
        closed >= Duration::from_millis(500),
        "closed after {closed:?}, before the 1 s timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_connections_a_connection_waits_until_another_closes() {
    let mut app = spawn("60", "60", "2").await;
    let addr = address(&app);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_answer(&mut stream).await.status, 200);
        held.push(stream);
    }

    let mut third = TcpStream::connect(&addr).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(1500), read_answer(&mut third)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two were held"
    );

    drop(held.remove(0));
    assert_eq!(read_answer(&mut third).await.status, 200);

    // Shutdown does not wait on the idle connections still open.
    let stopping = Instant::now();
    app.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let closed = closed_after(&mut third, Instant::now(), Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a connection still open after shutdown");
}
