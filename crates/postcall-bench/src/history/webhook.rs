//! The reply path against a database that may hold history: open surveys whose first
//! question was sent (as the webhook stage seeds them, under the run's phones and call ids),
//! each answered by one signed Twilio reply through the real HTTP app (HTTP only), closed
//! loop at the webhook stage's concurrency after a warm-up; then every reply must have been
//! recorded once with its answer.

use anyhow::{Context, ensure};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::side::{Db, phone_sql, run_phones};
use crate::{
    proc_stats::Rate,
    webhook::{
        load::{self, Target},
        replies::{self, PATH},
    },
};

const CONCURRENCY: usize = 32;

pub async fn run(db: &Db, n: usize, warm_up: usize) -> anyhow::Result<Rate> {
    let total = warm_up + n;
    open_surveys(&db.pool, total).await?;
    let settings = db.names.settings(&[
        ("POSTCALL__INGEST__ENABLED", "false"),
        ("POSTCALL__DISPATCH__ENABLED", "false"),
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__HTTP__ENABLED", "true"),
        ("POSTCALL__HTTP__PUBLIC_URL", replies::PUBLIC_URL),
        ("POSTCALL__PROVIDER__KIND", "twilio"),
        // Never called: dispatch is off; the next question only has to be queued.
        ("POSTCALL__PROVIDER__TWILIO__BASE_URL", "http://127.0.0.1:9"),
        ("POSTCALL__PROVIDER__TWILIO__ACCOUNT_SID", "ACbench"),
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", replies::TOKEN),
        ("POSTCALL__PROVIDER__TWILIO__FROM", replies::OUR_NUMBER),
    ])?;
    let shutdown = CancellationToken::new();
    let running = postcall::app::start(settings, shutdown.clone())
        .await
        .context("starting postcall (HTTP only)")?;
    let measured = async {
        let addr = running.http_addr.context("the HTTP role is on")?;
        let target = Target::new(addr, PATH)?;
        let reply = |i: usize| replies::reply(i, &replies::sid(i), "1");
        load::closed(&target, (1..=warm_up).map(reply).collect(), CONCURRENCY).await?;
        load::closed(
            &target,
            (warm_up + 1..=total).map(reply).collect(),
            CONCURRENCY,
        )
        .await
    }
    .await;
    shutdown.cancel();
    running.wait().await?;
    let rate = measured?;
    let answered: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM answers a JOIN surveys s ON s.id = a.survey_id
          WHERE s.question_index = 1 AND {}",
        run_phones("s.customer_phone")
    ))
    .fetch_one(&db.pool)
    .await?;
    ensure!(
        answered == i64::try_from(total)?,
        "{answered} replies answered for {total} sent"
    );
    Ok(rate)
}

/// Surveys 1..=n of the run (phones `replies::phone(i)`), each open at question 0 with its
/// first question sent (Twilio id `SMq<i>`, never one of history's hex ids); analyzed.
async fn open_surveys(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    let run = Uuid::new_v4().simple().to_string();
    let phone = phone_sql("i");
    let statements = [
        format!(
            "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                                ended_at, disposition, customer_timezone, wait_seconds,
                                talk_seconds, decision, event)
             SELECT 'webhook-' || $2 || '-' || i, {phone}, 'agent-' || (i % 50), 'payment',
                    now() - interval '10 minutes', now() - interval '9 minutes',
                    now() - interval '5 minutes', 'completed', 'Asia/Shanghai', 60, 240,
                    'scheduled', '{{}}'::jsonb
               FROM generate_series(1, $1) AS i"
        ),
        format!(
            "INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at, state,
                                  sent_at, expires_at, question_index)
             SELECT 'webhook-' || $2 || '-' || i, {phone}, 'zh-CN', 'Asia/Shanghai',
                    now() - interval '5 minutes', 'open', now() - interval '1 minute',
                    now() + interval '24 hours', 0
               FROM generate_series(1, $1) AS i"
        ),
        format!(
            "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                   segments, status, provider, provider_message_id, attempts,
                                   sent_at)
             SELECT gen_random_uuid(), s.id, 'question', 'resolved', s.customer_phone,
                    '【小蓝钱包】您好，感谢您致电。您的问题解决了吗？回复1=是，2=否。回TD退订',
                    'ucs2', 1, 'sent', 'twilio', 'SMq' || s.id, 1, now() - interval '1 minute'
               FROM surveys s
              WHERE s.call_id LIKE 'webhook-' || $2 || '-%' AND {}
              LIMIT $1",
            run_phones("s.customer_phone")
        ),
    ];
    for sql in &statements {
        sqlx::query(sql)
            .bind(i64::try_from(n)?)
            .bind(&run)
            .execute(pool)
            .await
            .context("seeding the run's open surveys")?;
    }
    sqlx::query("ANALYZE calls, surveys, messages")
        .execute(pool)
        .await?;
    Ok(())
}
