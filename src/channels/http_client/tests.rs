use std::time::Duration;

use reqwest::StatusCode;
use tokio::{io::AsyncReadExt, net::TcpListener};

use super::*;

fn kind(outcome: &SendOutcome) -> &'static str {
    match outcome {
        SendOutcome::Accepted { .. } => "accepted",
        SendOutcome::Retry { .. } => "retry",
        SendOutcome::Unknown { .. } => "unknown",
        SendOutcome::CapExceeded { .. } => "cap",
        SendOutcome::Failed { .. } => "failed",
    }
}

#[test]
fn a_transport_failure_is_looked_up_only_where_it_may_have_been_sent_and_duplicates_count() {
    use Resend::*;
    use Transport::*;
    for (got, resend, expected) in [
        (NotReached, AfterLookup, "retry"),
        (NotReached, Blind, "retry"),
        (MayHaveReached, AfterLookup, "unknown"),
        (MayHaveReached, Blind, "retry"),
    ] {
        let outcome = transport(got, resend, "timeout".into());
        assert_eq!(kind(&outcome), expected, "{got:?} {resend:?}");
    }
}

#[test]
fn error_statuses_by_what_they_say_about_the_message() {
    use Resend::*;
    let judge = |status: u16, resend| {
        unavailable(
            StatusCode::from_u16(status).unwrap(),
            resend,
            None,
            "x".into(),
            Some(Duration::from_secs(3)),
        )
        .as_ref()
        .map(kind)
    };
    for resend in [AfterLookup, Blind] {
        assert_eq!(judge(429, resend), Some("retry"), "throttled: never taken");
        for refusal in [400, 401, 403, 404, 409, 422] {
            assert_eq!(
                judge(refusal, resend),
                None,
                "{refusal}: the channel reads it"
            );
        }
    }
    for server in [500, 502, 503, 504] {
        assert_eq!(judge(server, AfterLookup), Some("unknown"), "{server}");
        assert_eq!(judge(server, Blind), Some("retry"), "{server}");
    }
    assert!(matches!(
        unavailable(StatusCode::TOO_MANY_REQUESTS, AfterLookup, None, "x".into(), Some(Duration::from_secs(3))),
        Some(SendOutcome::Retry { retry_after: Some(d), .. }) if d == Duration::from_secs(3)
    ));
    assert_eq!(kind(&unreadable("HTTP 200, garbage".into())), "unknown");
}

/// Real sockets: a port nobody listens on is never reached; a server that reads the request
/// and never answers may have taken it.
#[tokio::test]
async fn reqwest_errors_are_told_apart_by_how_far_the_request_got() {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_at = closed.local_addr().unwrap();
    drop(closed);
    let refused = client
        .post(format!("http://{closed_at}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(Transport::of(&refused), Transport::NotReached);
    assert_eq!(
        kind(&transport_error(&refused, Resend::AfterLookup)),
        "retry"
    );

    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_at = silent.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let (mut socket, _) = silent.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = socket.read(&mut buf).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let timed_out = client
        .post(format!("http://{silent_at}/"))
        .body("hello")
        .send()
        .await
        .unwrap_err();
    assert!(timed_out.is_timeout());
    assert_eq!(Transport::of(&timed_out), Transport::MayHaveReached);
    assert_eq!(
        kind(&transport_error(&timed_out, Resend::AfterLookup)),
        "unknown"
    );
    assert_eq!(kind(&transport_error(&timed_out, Resend::Blind)), "retry");
    holder.abort();
}
