//! After the runs: every reply recorded once and answered, every replied survey one
//! question on, one next question queued per reply, and nothing else touched.

use anyhow::ensure;
use sqlx::PgPool;

/// Counts that must hold once `replied` of `seeded` surveys got their one reply "1", each
/// stored as the answer `value` (JSON: postcall reads "1" to a yes/no question as `true`,
/// the durable baseline stores the digit).
pub async fn conversations(
    pool: &PgPool,
    seeded: usize,
    replied: usize,
    value: &str,
) -> anyhow::Result<()> {
    let (seeded, replied) = (seeded as i64, replied as i64);
    let count = |sql: &'static str| async move {
        let query = sqlx::query_scalar::<_, i64>(sql);
        // Only the statement that names `$1` is given it.
        let query = if sql.contains("$1") {
            query.bind(value)
        } else {
            query
        };
        anyhow::Ok(query.fetch_one(pool).await?)
    };
    let checks: [(&str, &'static str, i64); 9] = [
        (
            "replies recorded",
            "SELECT count(*) FROM inbound_messages WHERE provider_message_id NOT LIKE 'SMh%'",
            replied,
        ),
        (
            "replies recorded as answers to distinct surveys",
            "SELECT count(DISTINCT i.survey_id) FROM inbound_messages i JOIN surveys s ON s.id = i.survey_id
              WHERE i.outcome = 'answer' AND s.call_id LIKE 'bench-%'",
            replied,
        ),
        (
            "answers to 'resolved' of the value sent",
            "SELECT count(*) FROM answers a JOIN inbound_messages i ON i.id = a.inbound_id
              WHERE a.question_id = 'resolved' AND a.value = $1::jsonb AND NOT a.late
                AND i.survey_id = a.survey_id
                AND i.provider_message_id NOT LIKE 'SMh%'",
            replied,
        ),
        (
            "answers in all, beside the history's",
            "SELECT count(*) FROM answers a JOIN surveys s ON s.id = a.survey_id
              WHERE s.call_id LIKE 'bench-%'",
            replied,
        ),
        (
            "surveys moved to question 2",
            "SELECT count(*) FROM surveys WHERE state = 'open' AND question_index = 1 AND NOT reprompted",
            replied,
        ),
        (
            "surveys untouched",
            "SELECT count(*) FROM surveys WHERE state = 'open' AND question_index = 0 AND NOT reprompted",
            seeded - replied,
        ),
        (
            "question 2 queued, one per replied survey",
            "SELECT count(DISTINCT m.survey_id) FROM messages m JOIN surveys s ON s.id = m.survey_id
              WHERE m.purpose = 'follow_up' AND m.question_id = 'satisfaction' AND m.status = 'pending'
                AND s.question_index = 1 AND m.to_phone = s.customer_phone",
            replied,
        ),
        ("messages in all", "SELECT count(*) FROM messages", seeded + replied),
        (
            "events, opt-outs, early reports (none expected)",
            "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM opt_outs)
                  + (SELECT count(*) FROM early_delivery_reports)",
            0,
        ),
    ];
    for (what, sql, expected) in checks {
        let got = count(sql).await?;
        ensure!(got == expected, "{what}: {got}, expected {expected}");
    }
    Ok(())
}

/// A fingerprint of everything a reply could change, to show a request changed nothing.
pub async fn fingerprint(pool: &PgPool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar(
        "SELECT concat_ws(' ',
                (SELECT count(*) FROM inbound_messages), (SELECT count(*) FROM answers),
                (SELECT count(*) FROM messages), (SELECT count(*) FROM outbox),
                (SELECT count(*) FROM opt_outs),
                (SELECT sum(question_index) FROM surveys),
                (SELECT max(updated_at) FROM surveys))",
    )
    .fetch_one(pool)
    .await?)
}
