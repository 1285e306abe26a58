//! Reconcile before resend (DESIGN §4 "No blind resend"), against doubles that lose their
//! answers: a send the platform took but never answered in time is found by the lookup and
//! recorded, never sent twice; one that never reached it is sent again, once; a platform that
//! cannot be asked fails the message with the reason, never a blind resend. One case per
//! platform (Tencent, Aliyun, Twilio) and way of losing the send.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use postcall::channels::{Outbound, SmsProvider, TemplateCall, Tencent, tencent};
use uuid::Uuid;

use crate::{
    aliyun,
    aliyun_double::{self, AliyunDouble},
    helpers::{Names, TestApp, insert_surveys},
    tencent_double::{self, Double, Fault, Mode},
    tencent_e2e::{config_and_templates, start_with},
    twilio_double::{self, TwilioDouble},
};

/// Longer than the client's timeout (1 s): the answer never arrives in time.
const HANG: Duration = Duration::from_secs(3);

/// What every worker here runs with: the client times out after 1 s, lookups 1 s after,
/// a platform that cannot be asked given up on after two lookups.
const FAST: [(&str, &str); 5] = [
    ("POSTCALL__DISPATCH__POLL_INTERVAL_MS", "200"),
    ("POSTCALL__DISPATCH__REQUEST_TIMEOUT_SECONDS", "1"),
    ("POSTCALL__DISPATCH__RECONCILE__GRACE_SECONDS", "1"),
    ("POSTCALL__DISPATCH__RETRY__BASE_DELAY_SECONDS", "0"),
    ("POSTCALL__DISPATCH__RECONCILE__MAX_CHECKS", "2"),
];

/// A worker on Tencent at `double`.
async fn tencent_worker(double: &Double) -> (TestApp, tempfile::TempDir) {
    let (config, _) = config_and_templates();
    start_with(Names::new(), double, &config, &FAST).await
}

/// A worker on Twilio at `double`.
async fn twilio_worker(double: &TwilioDouble) -> TestApp {
    let mut env = double.env();
    env.extend(FAST.map(|(k, v)| (k.to_owned(), v.to_owned())));
    TestApp::spawn_env(Names::new(), &env).await
}

async fn tencent_double() -> Double {
    let (_, approved) = config_and_templates();
    Double::start(Mode::Accept, approved).await
}

/// What becomes of the first question's send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    /// Taken, answered too late: the lookup finds it.
    Answer,
    /// Held untaken past the timeout: the lookup finds nothing, it is sent again once.
    Send,
    /// Taken, answered too late, and the platform refuses every lookup.
    AnswerAndLookups,
}

/// One platform's double, losing the next send's answer as asked.
enum Platform {
    Tencent(Double),
    Aliyun(AliyunDouble),
    Twilio(TwilioDouble),
}

impl Platform {
    fn name(&self) -> &'static str {
        match self {
            Self::Tencent(_) => "tencent",
            Self::Aliyun(_) => "aliyun",
            Self::Twilio(_) => "twilio",
        }
    }

    /// The double, losing the next send as `lost` says; and a worker on it.
    async fn start(name: &str, lost: Lost) -> (Self, TestApp, Option<tempfile::TempDir>) {
        let untaken = lost == Lost::Send;
        let refuse = lost == Lost::AnswerAndLookups;
        match name {
            "tencent" => {
                let double = tencent_double().await;
                double.fail_next(if untaken {
                    Fault::HangUntaken(HANG)
                } else {
                    Fault::TakeThenHang(HANG)
                });
                if refuse {
                    double.refuse_pulls(Some("UnauthorizedOperation.RequestPermissionDeny"));
                }
                let (app, dir) = tencent_worker(&double).await;
                (Self::Tencent(double), app, Some(dir))
            }
            "aliyun" => {
                let double = AliyunDouble::start(aliyun_double::Mode::Ok).await;
                double.fail_next(if untaken {
                    aliyun_double::Fault::HangUntaken(HANG)
                } else {
                    aliyun_double::Fault::TakeThenHang(HANG)
                });
                if refuse {
                    double.refuse_queries(Some("isv.PERMISSION_DENY"));
                }
                let templates = aliyun::templates_toml();
                let app = aliyun::app_with(Names::new(), &double.url, "", &templates, &FAST).await;
                (Self::Aliyun(double), app, None)
            }
            _ => {
                let double = TwilioDouble::start().await;
                double.fail_next(if untaken {
                    twilio_double::Fault::HangUntaken(HANG)
                } else {
                    twilio_double::Fault::TakeThenHang(HANG)
                });
                if refuse {
                    double.refuse_lists();
                }
                let app = twilio_worker(&double).await;
                (Self::Twilio(double), app, None)
            }
        }
    }

    /// The platform's ids of the sends it took (the customer got each).
    fn taken(&self) -> Vec<String> {
        match self {
            Self::Tencent(d) => d.sent().into_iter().filter_map(|s| s.serial_no).collect(),
            Self::Aliyun(d) => d.received().into_iter().map(|r| r.biz_id).collect(),
            Self::Twilio(d) => d.created().into_iter().map(|c| c.sid).collect(),
        }
    }

    /// The id postcall records for a send the lookup found: Aliyun's query carries no
    /// `BizId`, only the `OutId` postcall sent.
    fn found_as(&self, message: &str) -> String {
        match self {
            Self::Aliyun(d) => format!("OutId:{}", d.received()[0].params["OutId"]),
            _ => message.to_owned(),
        }
    }

    /// The status a found send is recorded with: what the lookup says of it (Aliyun's query
    /// reports it delivered), or what a send's answer says.
    fn status(&self, lost: Lost) -> &'static str {
        match (self, lost) {
            (_, Lost::AnswerAndLookups) => "failed",
            (Self::Tencent(_), _) => "sent",
            (Self::Aliyun(_), Lost::Answer) => "delivered",
            (Self::Aliyun(_) | Self::Twilio(_), _) => "queued",
        }
    }

    /// Lookups that reached the platform, answered or refused.
    fn lookups(&self) -> usize {
        match self {
            Self::Tencent(d) => d.pulls() as usize,
            Self::Aliyun(d) => d.queries(),
            Self::Twilio(d) => d.lists(),
        }
    }

    /// What the platform's refusal of a lookup says, as the failed message quotes it.
    fn lookup_refusal(&self) -> &'static str {
        match self {
            Self::Tencent(_) => "RequestPermissionDeny",
            Self::Aliyun(_) => "isv.PERMISSION_DENY",
            Self::Twilio(_) => "403",
        }
    }

    /// Calls refused before being played (signature, shape).
    fn refused(&self) -> Vec<String> {
        match self {
            Self::Tencent(d) => d.refusals(),
            Self::Aliyun(d) => d.refused(),
            Self::Twilio(d) => d.refused(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    provider_message_id: Option<String>,
    status: String,
    attempts: i32,
    reconcile_checks: i32,
    error_message: Option<String>,
}

async fn first_question(app: &TestApp) -> Row {
    sqlx::query_as(
        "SELECT provider_message_id, status, attempts, reconcile_checks, error_message
           FROM messages WHERE purpose = 'question'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// One first question whose send `lost` on `platform`: found and recorded, sent again once,
/// or failed with the platform's reason; never a second SMS for a send the platform took.
async fn case(platform: &str, lost: Lost) {
    let (double, app, _dir) = Platform::start(platform, lost).await;
    let ids = insert_surveys(&app.pool, 1, Utc::now(), "Asia/Shanghai").await;
    let status = double.status(lost);
    let what = format!("{} {lost:?}", double.name());
    app.wait_for_count(
        &format!(
            "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = '{status}'"
        ),
        1,
    )
    .await;
    let row = first_question(&app).await;
    let taken = double.taken();
    assert_eq!(taken.len(), 1, "{what}: sent twice or never: {taken:?}");
    assert!(
        double.refused().is_empty(),
        "{what}: {:?}",
        double.refused()
    );
    let (attempts, checks, state) = match lost {
        Lost::Answer => (1, 1, "open"),
        Lost::Send => (2, 1, "open"),
        Lost::AnswerAndLookups => (1, 2, "failed"),
    };
    assert_eq!(
        (row.attempts, row.reconcile_checks, row.status.as_str()),
        (attempts, checks, status),
        "{what}: {row:?}"
    );
    assert_eq!(app.survey_state(ids[0]).await, state, "{what}");
    match lost {
        Lost::Answer => {
            assert_eq!(
                row.provider_message_id,
                Some(double.found_as(&taken[0])),
                "{what}: {row:?}"
            );
            assert!(double.lookups() >= 1, "{what}");
        }
        Lost::Send => {
            assert_eq!(
                row.provider_message_id.as_ref(),
                Some(&taken[0]),
                "{what}: {row:?}"
            )
        }
        Lost::AnswerAndLookups => {
            let reason = row.error_message.clone().unwrap_or_default();
            assert!(reason.contains("could not be asked"), "{what}: {row:?}");
            assert!(reason.contains(double.lookup_refusal()), "{what}: {row:?}");
            assert_eq!(double.lookups(), 2, "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_taken_but_unanswered_is_found_and_recorded_never_sent_twice() {
    for platform in ["tencent", "aliyun", "twilio"] {
        case(platform, Lost::Answer).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_never_reached_is_sent_again_once() {
    for platform in ["tencent", "aliyun", "twilio"] {
        case(platform, Lost::Send).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_that_cannot_be_asked_fails_the_message_with_the_reason() {
    for platform in ["tencent", "aliyun", "twilio"] {
        case(platform, Lost::AnswerAndLookups).await;
    }
}

/// First questions whose replica died mid-send (`sending`, the row an outbox claim leaves;
/// `claimed`, claimed on the survey, with no row yet) or mid-lookup (`reconciling`, looked
/// up once), their lease run out, held by a replica that is gone. Returns their phones.
async fn died_mid_send(app: &TestApp, ids: &[(Uuid, &str)]) -> Vec<String> {
    let surveys = insert_surveys(
        &app.pool,
        ids.len() as i64,
        Utc::now() + TimeDelta::hours(1),
        "Asia/Shanghai",
    )
    .await;
    let mut phones = vec![];
    for (&(id, status), survey) in ids.iter().zip(surveys) {
        let phone: String = sqlx::query_scalar(
            "UPDATE surveys SET state = 'sending' WHERE id = $1 RETURNING customer_phone",
        )
        .bind(survey)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        phones.push(phone.clone());
        if status == "claimed" {
            sqlx::query(
                "UPDATE surveys SET leased_by = 'a-replica-that-died', first_message_id = $2,
                        lease_until = now() - interval '1 second', first_attempts = 1
                  WHERE id = $1",
            )
            .bind(survey)
            .bind(id)
            .execute(&app.pool)
            .await
            .unwrap();
            continue;
        }
        sqlx::query(
            "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                   segments, template_id, template_params, status, attempts,
                                   reconcile_checks, leased_by, lease_until, next_attempt_at)
             VALUES ($1, $2, 'question', 'resolved', $3, '【小蓝钱包】您好', 'ucs2', 1, '3001',
                     '[]', $4, 1, ($4 = 'reconciling')::int, 'a-replica-that-died',
                     now() - interval '1 second', now() - interval '1 second')",
        )
        .bind(id)
        .bind(survey)
        .bind(&phone)
        .bind(status)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    phones
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_a_send_or_a_lookup_whose_replica_died_is_looked_up_not_resent_blind() {
    let double = tencent_double().await;
    let (app, _dir) = tencent_worker(&double).await;
    // `gone` was sent by the replica before it died: Tencent has it. `never` was not: its
    // sender died before the request left. `asking` was sent, and being looked up by a
    // replica that died mid-lookup. `claimed_gone` and `claimed_never` as the first two,
    // but claimed on their surveys, with no row yet.
    let (gone, never, asking) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (claimed_gone, claimed_never) = (Uuid::new_v4(), Uuid::new_v4());
    // Sent before anything is inserted, so that no lookup comes before Tencent has them.
    let phones = [1, 2, 3, 4, 5].map(|n| format!("+86139{n:08}"));
    let settings: tencent::Settings = toml::from_str(&tencent_double::settings_toml(
        &double.uri(),
        tencent_double::SECRET_KEY,
    ))
    .unwrap();
    let sender = Tencent::new(&settings, Duration::from_secs(5)).unwrap();
    let message = Outbound {
        id: gone,
        to: &phones[0],
        body: "【小蓝钱包】您好",
        template: Some(TemplateCall {
            id: "3001",
            params: &[],
        }),
    };
    for (id, to) in [
        (gone, &phones[0]),
        (asking, &phones[2]),
        (claimed_gone, &phones[3]),
    ] {
        let message = Outbound {
            id,
            to,
            ..message.clone()
        };
        assert!(matches!(
            sender.send(&message).await,
            postcall::channels::SendOutcome::Accepted { .. }
        ));
    }
    let inserted = died_mid_send(
        &app,
        &[
            (gone, "sending"),
            (never, "sending"),
            (asking, "reconciling"),
            (claimed_gone, "claimed"),
            (claimed_never, "claimed"),
        ],
    )
    .await;
    assert_eq!(inserted, phones, "insert_surveys' phones");

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'sent'",
        5,
    )
    .await;
    let sent = double.sent();
    let per_message = |id: Uuid| {
        sent.iter()
            .filter(|s| s.body["SessionContext"] == id.to_string())
            .count()
    };
    assert_eq!(per_message(gone), 1, "the customer got it twice");
    assert_eq!(per_message(never), 1, "never sent");
    let attempts: Vec<(Uuid, i32, i32)> =
        sqlx::query_as("SELECT id, attempts, reconcile_checks FROM messages ORDER BY created_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(attempts.contains(&(gone, 1, 1)), "{attempts:?}");
    assert!(attempts.contains(&(never, 2, 1)), "{attempts:?}");
    assert_eq!(per_message(claimed_gone), 1, "the customer got it twice");
    assert_eq!(per_message(claimed_never), 1, "never sent");
    assert!(attempts.contains(&(claimed_gone, 1, 1)), "{attempts:?}");
    assert!(attempts.contains(&(claimed_never, 2, 1)), "{attempts:?}");
    assert_eq!(per_message(asking), 1);
    assert!(
        attempts.contains(&(asking, 1, 2)),
        "looked up again under a lease of its own: {attempts:?}"
    );
}

/// Twilio lists `date_created` in whole seconds: a send taken in the second its row was
/// created is listed as older than the row. A lookup of a send whose replica died (its row's
/// creation the only time known) must still find it, not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_a_send_whose_replica_died_is_found_though_listed_to_the_second() {
    let double = TwilioDouble::start().await;
    let app = twilio_worker(&double).await;
    let phone = "+8613900000001";
    // What the replica sent before it died, then its row (created after the send, as a
    // row created 0.7 s into a second and sent 0.05 s later is listed).
    let created = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            double.url,
            twilio_double::ACCOUNT_SID
        ))
        .basic_auth(twilio_double::ACCOUNT_SID, Some(twilio_double::AUTH_TOKEN))
        .form(&[
            ("To", phone),
            ("From", "+15005550006"),
            ("Body", "【小蓝钱包】您好"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = Uuid::new_v4();
    assert_eq!(died_mid_send(&app, &[(id, "sending")]).await, [phone]);

    app.wait_for_count(
        "SELECT count(*) FROM messages WHERE purpose = 'question' AND status = 'queued'",
        1,
    )
    .await;
    let taken = double.created();
    assert_eq!(taken.len(), 1, "the customer got it twice: {taken:?}");
    let row = first_question(&app).await;
    assert_eq!(
        (
            row.attempts,
            row.reconcile_checks,
            row.provider_message_id.as_ref()
        ),
        (1, 1, Some(&taken[0].sid)),
        "{row:?}"
    );
}
