//! Open surveys whose first question went out a minute ago, one per phone, written with
//! set-based SQL: each reply then advances a conversation of its own. Beside them, as many
//! surveys of last week, each with its recorded reply and answer, so the tables the path
//! reads and checks keys against are not empty when their statistics are taken.
//!
//! (Without that history every connection planned its foreign-key check against an empty
//! `inbound_messages` as a sequential scan and kept the plan: the cost per reply grew with
//! every reply, 0.6 → 1.6 ms of PostgreSQL CPU over 9,000 of them. A production database
//! has history; a freshly migrated one is rescued by autovacuum's first analyze.)

use anyhow::Context;
use sqlx::PgPool;

/// Surveys 1..=n, phones `replies::phone(i)`, each `open` at question 0 with its first
/// question `sent` (Twilio id `SMq<i>`).
pub async fn surveys(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    let n = n as i64;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                            ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                            decision, event)
         SELECT 'bench-' || i, '+86139' || lpad(i::text, 8, '0'), 'agent-' || (i % 50), 'payment',
                now() - interval '10 minutes', now() - interval '9 minutes',
                now() - interval '5 minutes', 'completed', 'Asia/Shanghai', 60, 240,
                'scheduled', '{}'::jsonb
           FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .execute(&mut *tx)
    .await
    .context("seeding calls")?;
    sqlx::query(
        "INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at, state,
                              sent_at, expires_at, question_index)
         SELECT 'bench-' || i, '+86139' || lpad(i::text, 8, '0'), 'zh-CN', 'Asia/Shanghai',
                now() - interval '5 minutes', 'open', now() - interval '1 minute',
                now() + interval '24 hours', 0
           FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .execute(&mut *tx)
    .await
    .context("seeding surveys")?;
    sqlx::query(
        "INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                               segments, status, provider, provider_message_id, attempts, sent_at)
         SELECT gen_random_uuid(), s.id, 'question', 'resolved', s.customer_phone,
                '【小蓝钱包】您好，感谢您致电。您的问题解决了吗？回复1=是，2=否。回TD退订', 'ucs2', 1,
                'sent', 'twilio', 'SMq' || s.id, 1, now() - interval '1 minute'
           FROM surveys s",
    )
    .execute(&mut *tx)
    .await
    .context("seeding first questions")?;
    history(&mut tx, n).await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// `n` completed surveys of a week ago (phones `+86138…`), each with one reply (Twilio id
/// `SMh<id>`, not hex, so never one of the bench's) and its answer.
async fn history(tx: &mut sqlx::PgConnection, n: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO calls (call_id, customer_phone, agent_id, queue, started_at, answered_at,
                            ended_at, disposition, customer_timezone, wait_seconds, talk_seconds,
                            decision, event)
         SELECT 'history-' || i, '+86138' || lpad(i::text, 8, '0'), 'agent-' || (i % 50),
                'payment', now() - interval '8 days', now() - interval '8 days',
                now() - interval '8 days', 'completed', 'Asia/Shanghai', 60, 240,
                'scheduled', '{}'::jsonb
           FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .execute(&mut *tx)
    .await
    .context("seeding past calls")?;
    sqlx::query(
        "INSERT INTO surveys (call_id, customer_phone, language, timezone, send_at, state,
                              sent_at, expires_at, closed_at, question_index)
         SELECT 'history-' || i, '+86138' || lpad(i::text, 8, '0'), 'zh-CN', 'Asia/Shanghai',
                now() - interval '8 days', 'completed', now() - interval '8 days',
                now() - interval '7 days', now() - interval '8 days', 4
           FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .execute(&mut *tx)
    .await
    .context("seeding past surveys")?;
    sqlx::query(
        "WITH replies AS (
             INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone,
                                           body, received_at, survey_id, outcome)
             SELECT 'twilio', 'SMh' || s.id, s.customer_phone, '+15005550006', '1',
                    now() - interval '8 days', s.id, 'answer'
               FROM surveys s WHERE s.call_id LIKE 'history-%'
             RETURNING id, survey_id, received_at)
         INSERT INTO answers (survey_id, question_id, value, raw, received_at, inbound_id)
         SELECT survey_id, 'resolved', 'true'::jsonb, '1', received_at, id FROM replies",
    )
    .execute(&mut *tx)
    .await
    .context("seeding past replies")?;
    Ok(())
}
