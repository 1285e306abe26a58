use chrono::{NaiveTime, TimeZone};

use super::*;

fn policy() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_secs(30),
        max: Duration::from_secs(3600),
        max_attempts: 5,
        reconcile: ReconcilePolicy {
            grace: Duration::from_secs(60),
            max_checks: 3,
        },
    }
}

fn utc(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn quiet() -> QuietHours {
    QuietHours {
        start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
    }
}

fn situation<'a>(quiet: &'a QuietHours, zones: &'a [Tz]) -> Situation<'a> {
    Situation {
        opted_out: false,
        survey_live: true,
        respects_quiet_hours: true,
        quiet_hours: Some(quiet),
        zones,
    }
}

#[test]
fn a_question_in_the_day_is_sent() {
    let q = quiet();
    // 02:00 UTC is 10:00 in Shanghai.
    assert_eq!(
        gate(&situation(&q, &[chrono_tz::Asia::Shanghai]), utc(2, 0)),
        Gate::Send
    );
}

#[test]
fn a_question_at_night_is_deferred_to_nine_local() {
    let q = quiet();
    // 19:00 UTC is 03:00 in Shanghai: a dispatcher catching up must not send then.
    let g = gate(&situation(&q, &[chrono_tz::Asia::Shanghai]), utc(19, 0));
    assert_eq!(
        g,
        Gate::Defer(Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap())
    );
}

#[test]
fn a_reply_to_the_customer_goes_at_night() {
    let q = quiet();
    let mut s = situation(&q, &[chrono_tz::Asia::Shanghai]);
    s.respects_quiet_hours = false;
    assert_eq!(gate(&s, utc(19, 0)), Gate::Send);
}

#[test]
fn quiet_hours_off_sends_at_night() {
    let q = quiet();
    let mut s = situation(&q, &[chrono_tz::Asia::Shanghai]);
    s.quiet_hours = None;
    assert_eq!(gate(&s, utc(19, 0)), Gate::Send);
}

#[test]
fn opt_out_and_closed_surveys_cancel_whatever_the_hour() {
    let q = quiet();
    let zones = [chrono_tz::Asia::Shanghai];
    let mut s = situation(&q, &zones);
    s.opted_out = true;
    assert_eq!(gate(&s, utc(2, 0)), Gate::Cancel("opted_out"));
    assert_eq!(gate(&s, utc(19, 0)), Gate::Cancel("opted_out"));
    s.opted_out = false;
    s.survey_live = false;
    assert_eq!(gate(&s, utc(2, 0)), Gate::Cancel("survey_closed"));
}

#[test]
fn retry_delays_double_with_equal_jitter_and_a_cap() {
    let p = policy();
    assert_eq!(p.delay(1, None, 0.0), Duration::from_secs(15));
    assert_eq!(
        p.delay(1, None, 0.999_999),
        Duration::from_secs_f64(15.0 + 15.0 * 0.999_999)
    );
    assert_eq!(p.delay(2, None, 0.0), Duration::from_secs(30));
    assert_eq!(p.delay(3, None, 0.5), Duration::from_secs(90));
    // 30 s · 2^7 = 3840 s, capped at 3600 s.
    assert_eq!(p.delay(8, None, 1.0), Duration::from_secs(3600));
    assert_eq!(
        p.delay(500, None, 1.0),
        Duration::from_secs(3600),
        "no overflow"
    );
}

#[test]
fn retry_after_is_a_floor() {
    let p = policy();
    assert_eq!(
        p.delay(1, Some(Duration::from_secs(120)), 0.0),
        Duration::from_secs(120)
    );
    assert_eq!(
        p.delay(1, Some(Duration::from_secs(1)), 0.0),
        Duration::from_secs(15)
    );
}

#[test]
fn a_retryable_outcome_is_retried_until_the_last_attempt() {
    let retry = || SendOutcome::Retry {
        code: Some("503".into()),
        message: "HTTP 503".into(),
        retry_after: None,
    };
    let now = utc(2, 0);
    match record(retry(), 4, &policy(), now, 0.0) {
        Record::RetryAt { at, .. } => assert_eq!(at, now + chrono::TimeDelta::seconds(120)),
        other => panic!("{other:?}"),
    }
    match record(retry(), 5, &policy(), now, 0.0) {
        Record::Failed { message, .. } => {
            assert!(message.starts_with("gave up after 5 attempts"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn accepted_and_failed_pass_through() {
    let accepted = SendOutcome::Accepted {
        provider_message_id: "SM1".into(),
        status: DeliveryStatus::Queued,
        billed_segments: None,
    };
    assert!(matches!(
        record(accepted, 1, &policy(), utc(2, 0), 0.0),
        Record::Accepted { .. }
    ));
    let opted_out = SendOutcome::Failed {
        code: Some("21610".into()),
        message: "unsubscribed".into(),
        recipient_opted_out: true,
    };
    assert!(matches!(
        record(opted_out, 1, &policy(), utc(2, 0), 0.0),
        Record::Failed {
            recipient_opted_out: true,
            ..
        }
    ));
}

#[test]
fn a_cap_refusal_is_never_retried() {
    for attempt in [1, 2, policy().max_attempts] {
        let capped = SendOutcome::CapExceeded {
            code: Some("LimitExceeded.PhoneNumberDailyLimit".into()),
            message: "daily limit".into(),
        };
        assert_eq!(
            record(capped, attempt, &policy(), utc(2, 0), 0.5),
            Record::CapRefused {
                code: Some("LimitExceeded.PhoneNumberDailyLimit".into()),
                message: "daily limit".into(),
            },
            "attempt {attempt}"
        );
    }
}

#[test]
fn an_unknown_outcome_is_looked_up_after_the_grace_never_retried_even_on_the_last_attempt() {
    let unknown = |retry_after| SendOutcome::Unknown {
        code: Some("InternalError.Timeout".into()),
        message: "timeout".into(),
        retry_after,
    };
    let now = utc(2, 0);
    for attempts in [1, 5, 9] {
        match record(unknown(None), attempts, &policy(), now, 0.7) {
            Record::ReconcileAt { at, code, message } => {
                assert_eq!(at, now + chrono::TimeDelta::seconds(60), "{attempts}");
                assert_eq!(code.as_deref(), Some("InternalError.Timeout"));
                assert_eq!(message, "timeout");
            }
            other => panic!("{attempts}: {other:?}"),
        }
    }
    assert!(matches!(
        record(unknown(Some(Duration::from_secs(600))), 1, &policy(), now, 0.0),
        Record::ReconcileAt { at, .. } if at == now + chrono::TimeDelta::seconds(600)
    ));
}

#[test]
fn a_lookup_decides_found_resend_ask_again_or_fail() {
    let now = utc(2, 0);
    let found = Lookup::Found {
        provider_message_id: "2433:1".into(),
        status: DeliveryStatus::Sent,
    };
    assert_eq!(
        reconciled(found, 5, 3, &policy(), now, 0.0),
        Reconciled::Accepted {
            provider_message_id: "2433:1".into(),
            status: DeliveryStatus::Sent,
        },
        "found on the last attempt and the last lookup: sent all the same"
    );
    assert_eq!(
        reconciled(Lookup::NotFound, 1, 1, &policy(), now, 0.0),
        Reconciled::Resend
    );
    assert_eq!(
        reconciled(Lookup::NotFound, 4, 3, &policy(), now, 0.0),
        Reconciled::Resend,
        "lookups do not spend attempts"
    );
    match reconciled(Lookup::NotFound, 5, 1, &policy(), now, 0.0) {
        Reconciled::Failed { message } => {
            assert!(message.contains("all 5 attempts are spent"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let cannot = || Lookup::CannotAsk {
        message: "UnauthorizedOperation.RequestPermissionDeny".into(),
    };
    match reconciled(cannot(), 1, 2, &policy(), now, 0.0) {
        Reconciled::CheckAgainAt { at, message } => {
            // The retry schedule, by lookups: base 30 s · 2 = 60 s, half of it at jitter 0.
            assert_eq!(at, now + chrono::TimeDelta::seconds(30));
            assert!(message.contains("could not be asked"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match reconciled(cannot(), 1, 3, &policy(), now, 0.0) {
        Reconciled::Failed { message } => {
            assert!(message.contains("could not be asked"), "{message}");
            assert!(message.contains("RequestPermissionDeny"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn claims_run_a_quarter_second_ahead_of_the_rate_limit() {
    assert_eq!(claim_ahead(20, 50), 5);
    assert_eq!(claim_ahead(500, 50), 50, "never more than in flight");
    assert_eq!(claim_ahead(500, 200), 125);
    assert_eq!(claim_ahead(1, 50), 1);
    assert_eq!(claim_ahead(0, 50), 1, "at least one");
}

#[test]
fn a_long_wait_makes_the_claim_stale() {
    assert!(!is_stale(Duration::from_millis(100)));
    assert!(is_stale(Duration::from_millis(501)));
}
