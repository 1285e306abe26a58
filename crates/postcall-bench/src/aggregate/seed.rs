//! The bench's data, written with set-based SQL (`INSERT … SELECT … FROM generate_series`)
//! so that 10 M answers take minutes, not hours.
//!
//! Every call's attributes are drawn once into `bench.plan` from a hash of its index (so a
//! run is reproducible), and the same statements then write calls, surveys, messages and
//! answers from it: bulk for the history, step by step for a new batch, whose messages move
//! through `pending → queued → delivered` with UPDATEs so that postcall's triggers log them
//! exactly as they log production traffic.
//!
//! Seeding 10 M answers takes minutes, so the database is kept between invocations: a row in
//! `bench.seeded` records what it was seeded with, written only once the seed completed.

use std::time::Instant;

use anyhow::Context;
use postcall::{aggregate::Basis, config::Settings};
use sqlx::{Executor, PgConnection, PgPool, Postgres, postgres::PgArguments};

/// Expected answers per history call: 80 % of calls have an answered survey (5 % get no
/// survey, 2 % one never sent, 13 % one nobody answered), and an answered survey holds
/// 3 answers (85 %), 2 (8 %) or 1 (7 %): 0.80 × 2.78.
const ANSWERS_PER_CALL: f64 = 2.224;
/// Non-responders added to each new batch, per ten answered surveys.
const UNANSWERED_PER_TEN: i64 = 1;

/// What the seed needs from the configuration: the zone days are counted in, and the
/// questions (ids per metric, texts for realistic message bodies).
pub struct Survey {
    pub timezone: String,
    /// fcr, csat, nps question ids, in the order a customer answers them.
    pub answered: Vec<String>,
    /// Every question id, in order: the follow-up after answer q asks question q + 1.
    pub questions: Vec<String>,
    pub zh: Vec<String>,
    pub en: Vec<String>,
    pub signature: String,
}

impl Survey {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let definition = settings.runtime()?.survey;
        let basis = Basis::new(&settings.aggregation.timezone, &definition);
        let first = |ids: &[String], metric: &str| {
            ids.first()
                .cloned()
                .with_context(|| format!("the survey has no {metric} question"))
        };
        let text = |lang: &str| -> Vec<String> {
            definition
                .questions
                .iter()
                .map(|q| q.text.get(lang).cloned().unwrap_or_default())
                .collect()
        };
        Ok(Self {
            timezone: basis.timezone.clone(),
            answered: vec![
                first(&basis.fcr, "fcr")?,
                first(&basis.csat, "csat")?,
                first(&basis.nps, "nps")?,
            ],
            questions: definition.questions.iter().map(|q| q.id.clone()).collect(),
            zh: text("zh-CN"),
            en: text("en"),
            signature: definition.signature.clone(),
        })
    }
}

/// History calls for about `answers` answers.
pub fn history_calls(answers: u64) -> i64 {
    ((answers as f64 / ANSWERS_PER_CALL).round() as i64).max(10)
}

// ---------------------------------------------------------------------------------------
// The plan: one row per call, every random choice made here.

const SCHEMA: &[&str] = &[
    "DROP SCHEMA IF EXISTS bench CASCADE",
    "CREATE SCHEMA bench",
    // Uniform in [0, 1), a pure function of (i, k): stream k of call i.
    "CREATE FUNCTION bench.u(i bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
     AS $$ SELECT (hashint8extended(i, k) & 4503599627370495)::float8 / 4503599627370496.0 $$",
    // The final status of the follow-up sent after answer q.
    "CREATE FUNCTION bench.follow_up_status(i bigint, q int) RETURNS text LANGUAGE sql IMMUTABLE
     AS $$ SELECT CASE WHEN bench.u(i, 40 + q) < 0.95 THEN 'delivered'
                       WHEN bench.u(i, 40 + q) < 0.99 THEN 'sent' ELSE 'undelivered' END $$",
    // cat: 0 no survey, 1 survey never sent, 2 sent and unanswered, 3 answered (k answers).
    // status: the first question's final status.
    "CREATE UNLOGGED TABLE bench.plan (
         i bigint PRIMARY KEY, ended_at timestamptz NOT NULL, send_at timestamptz NOT NULL,
         agent text NOT NULL, queue text NOT NULL, cat int NOT NULL, k int NOT NULL,
         wait float8 NOT NULL, talk float8 NOT NULL, lang text NOT NULL, status text NOT NULL,
         segments int NOT NULL)",
];

/// Columns drawn the same way for history and new calls. ~200 agents, 8 queues: an odd
/// agent works its own queue, an even one splits 70/27 with a second queue, and 3 % of
/// anyone's calls land in some other queue. Waits are exponential (mean 25 s).
const PLAN_COMMON: &str = "
    'agent-' || lpad(a::text, 3, '0') AS agent,
    (ARRAY['account', 'payment', 'product', 'complaint', 'technical', 'card', 'loan', 'merchant'])[
        1 + CASE WHEN bench.u(i, 4) >= 0.97 THEN floor(bench.u(i, 5) * 8)::int
                 WHEN a % 2 = 1 OR bench.u(i, 4) < 0.70 THEN a % 8
                 ELSE (5 * a + 3) % 8 END] AS queue,
    -ln(1 - bench.u(i, 8)) * 25 AS wait,
    20 + bench.u(i, 9) * 600 AS talk,
    CASE WHEN bench.u(i, 10) < 0.9 THEN 'zh-CN' ELSE 'en' END AS lang,
    CASE WHEN bench.u(i, 12) < 0.8 THEN 1 ELSE 2 END AS segments";

/// $1..$2: call indexes; $3: zone. Calls end on the 365 local days before today, in index
/// order (so tables are laid out in time order, as a year of appends would leave them),
/// 95 % of them 08:00–22:00 local, the rest at any hour (day boundaries are exercised). A
/// survey goes 5 minutes after the call, moved out of quiet hours (21:00–09:00).
fn plan_history() -> String {
    format!(
        "INSERT INTO bench.plan
         SELECT i, ended_at,
                CASE WHEN l::time >= time '21:00' THEN (l::date + 1 + time '09:00') AT TIME ZONE $3
                     WHEN l::time < time '09:00' THEN (l::date + time '09:00') AT TIME ZONE $3
                     ELSE l AT TIME ZONE $3 END,
                agent, queue, cat,
                CASE WHEN cat < 3 THEN 0 WHEN bench.u(i, 7) < 0.85 THEN 3
                     WHEN bench.u(i, 7) < 0.93 THEN 2 ELSE 1 END,
                wait, talk, lang,
                CASE WHEN cat = 1 THEN CASE WHEN bench.u(i, 11) < 0.5 THEN 'failed' ELSE 'cancelled' END
                     WHEN bench.u(i, 11) < 0.90 THEN 'delivered'
                     WHEN bench.u(i, 11) < 0.97 THEN 'sent' ELSE 'undelivered' END,
                segments
           FROM (
             SELECT i, ended_at, (ended_at + interval '5 minutes') AT TIME ZONE $3 AS l,
                    CASE WHEN bench.u(i, 6) < 0.05 THEN 0 WHEN bench.u(i, 6) < 0.07 THEN 1
                         WHEN bench.u(i, 6) < 0.20 THEN 2 ELSE 3 END AS cat,
                    {PLAN_COMMON}
               FROM (
                 SELECT i, floor(bench.u(i, 3) * 200)::int AS a,
                        ((today - 365 + ((i - $1) * 365 / ($2 - $1 + 1))::int)
                          + CASE WHEN bench.u(i, 1) < 0.95
                                 THEN interval '8 hours' + bench.u(i, 2) * interval '14 hours'
                                 ELSE bench.u(i, 2) * interval '24 hours' END) AT TIME ZONE $3
                          AS ended_at
                   FROM generate_series($1::bigint, $2::bigint) AS i,
                        (SELECT (now() AT TIME ZONE $3)::date AS today) AS t
               ) AS x
           ) AS y"
    )
}

/// $1..$2: call indexes; $3: zone; $4: answers wanted, exactly. Calls ended between the
/// start of yesterday (local) and 10 minutes ago. The first surveys answer 3 questions each
/// until $4 answers are reached; one in eleven is not answered at all.
fn plan_batch() -> String {
    format!(
        "INSERT INTO bench.plan
         SELECT i, ended_at, least(ended_at + interval '5 minutes', now()), agent, queue,
                cat, CASE WHEN cat = 3 THEN least(3, $4 - 3 * (i - $1))::int ELSE 0 END,
                wait, talk, lang,
                CASE WHEN bench.u(i, 11) < 0.90 THEN 'delivered'
                     WHEN bench.u(i, 11) < 0.97 THEN 'sent' ELSE 'undelivered' END,
                segments
           FROM (
             SELECT i, CASE WHEN 3 * (i - $1) < $4 THEN 3 ELSE 2 END AS cat,
                    start + bench.u(i, 2) * (now() - interval '10 minutes' - start) AS ended_at,
                    {PLAN_COMMON}
               FROM (
                 SELECT i, floor(bench.u(i, 3) * 200)::int AS a,
                        ((now() AT TIME ZONE $3)::date - 1)::timestamp AT TIME ZONE $3 AS start
                   FROM generate_series($1::bigint, $2::bigint) AS i
               ) AS x
           ) AS y"
    )
}

// ---------------------------------------------------------------------------------------
// Writing the plan out: the same statements for history (final states, $1 = true) and a
// new batch ($1 = false: surveys `sending`, messages `pending`, moved on afterwards).

/// $1 zone. The event is stored as ingest stores it, so rows are as wide as real ones.
const INSERT_CALLS: &str = "
    INSERT INTO calls (call_id, event_id, customer_phone, agent_id, queue, started_at,
                       answered_at, ended_at, disposition, language, customer_timezone,
                       wait_seconds, talk_seconds, decision, decided_at, event)
    SELECT 'call-' || i, event_id, phone, agent, queue, started_at, answered_at, ended_at,
           'completed', lang, $1, wait, talk,
           CASE WHEN cat > 0 THEN 'scheduled'
                ELSE (ARRAY['too_short', 'not_sampled', 'frequency_cap'])[1 + i % 3] END,
           ended_at + interval '1 second',
           jsonb_build_object('event_id', event_id, 'call_id', 'call-' || i,
               'customer_phone', phone, 'agent_id', agent, 'queue', queue,
               'started_at', started_at, 'answered_at', answered_at, 'ended_at', ended_at,
               'disposition', 'completed', 'language', lang, 'customer_timezone', $1)
      FROM (SELECT p.*, md5('event-' || i)::uuid AS event_id,
                   '+86138' || lpad(i::text, 8, '0') AS phone,
                   ended_at - make_interval(secs => talk) AS answered_at,
                   ended_at - make_interval(secs => talk + wait) AS started_at
              FROM bench.plan p) AS p";

/// $1 final, $2 zone. Ids are the plan's indexes, so the other tables need no lookups.
const INSERT_SURVEYS: &str = "
    INSERT INTO surveys (id, call_id, customer_phone, language, timezone, state, send_at,
                         sent_at, created_at, updated_at, question_index, expires_at, closed_at)
    OVERRIDING SYSTEM VALUE
    SELECT i, 'call-' || i, '+86138' || lpad(i::text, 8, '0'), lang, $2,
           CASE WHEN NOT $1 THEN 'sending' WHEN cat = 1 THEN
                    CASE status WHEN 'failed' THEN 'failed' ELSE 'cancelled' END
                WHEN k = 3 THEN 'completed' ELSE 'expired' END,
           send_at, sent_at, ended_at + interval '1 second',
           coalesce(sent_at + interval '1 day', send_at), CASE WHEN $1 THEN k ELSE 0 END,
           sent_at + interval '1 day', sent_at + interval '1 day'
      FROM (SELECT p.*, CASE WHEN $1 AND cat >= 2 THEN send_at + interval '2 seconds' END AS sent_at
              FROM bench.plan p) AS p
     WHERE cat > 0";

/// $1 final, $2 question ids, $3 zh texts, $4 en texts, $5 signature. The first question
/// carries the signature and the unsubscribe hint, as the real one does.
const INSERT_FIRST_MESSAGES: &str = "
    INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                          segments, status, provider, provider_message_id, attempts,
                          next_attempt_at, created_at, updated_at, sent_at, delivered_at)
    SELECT md5('message-' || i || '-0')::uuid, i, 'question', $2[1],
           '+86138' || lpad(i::text, 8, '0'),
           CASE lang WHEN 'en' THEN $4[1] || ' Reply TD to unsubscribe.' ELSE $5 || $3[1] || '回TD退订' END,
           CASE lang WHEN 'en' THEN 'gsm7' ELSE 'ucs2' END, segments,
           CASE WHEN $1 THEN status ELSE 'pending' END,
           CASE WHEN $1 AND status <> 'cancelled' THEN 'twilio' END,
           CASE WHEN $1 AND cat >= 2 THEN 'SM' || md5('provider-' || i || '-0') END,
           CASE WHEN $1 AND status <> 'cancelled' THEN 1 ELSE 0 END,
           send_at, ended_at + interval '1 second', send_at + interval '1 minute',
           CASE WHEN $1 AND cat >= 2 THEN send_at + interval '2 seconds' END,
           CASE WHEN $1 AND status = 'delivered' THEN send_at + interval '7 seconds' END
      FROM bench.plan
     WHERE cat > 0";

/// $1 final, $2 fcr/csat/nps ids. Answer q comes 3·q minutes after the first SMS. FCR
/// 72 % yes; CSAT and NPS skewed high, as contact-centre scores are.
const INSERT_ANSWERS: &str = "
    INSERT INTO answers (survey_id, question_id, value, raw, received_at, late)
    SELECT i, $2[q], value, raw,
           CASE WHEN $1 THEN send_at + q * interval '3 minutes' ELSE now() END, false
      FROM bench.plan p, generate_series(1, p.k) AS q,
           LATERAL (SELECT bench.u(i, 20 + q) AS r) AS r,
           LATERAL (SELECT CASE q
               WHEN 1 THEN to_jsonb(r < 0.72)
               WHEN 2 THEN to_jsonb(CASE WHEN r < 0.45 THEN 5 WHEN r < 0.75 THEN 4
                                         WHEN r < 0.87 THEN 3 WHEN r < 0.94 THEN 2 ELSE 1 END)
               ELSE to_jsonb(CASE WHEN r < 0.30 THEN 10 WHEN r < 0.45 THEN 9 WHEN r < 0.60 THEN 8
                                  WHEN r < 0.70 THEN 7 ELSE floor(bench.u(i, 30) * 7)::int END)
               END AS value) AS v,
           LATERAL (SELECT CASE WHEN value = 'true' THEN '1' WHEN value = 'false' THEN '2'
                                ELSE value::text END AS raw) AS w
     WHERE p.cat = 3";

/// $1 final, $2 question ids, $3 zh texts, $4 en texts. Each answer is followed by the
/// next question, and the last one by a thank-you.
const INSERT_FOLLOW_UPS: &str = "
    INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                          segments, status, provider, provider_message_id, attempts,
                          next_attempt_at, created_at, updated_at, sent_at, delivered_at)
    SELECT md5('message-' || i || '-' || q)::uuid, i,
           CASE WHEN q < cardinality($2) THEN 'follow_up' ELSE 'thank_you' END, $2[q + 1],
           '+86138' || lpad(i::text, 8, '0'),
           coalesce(CASE lang WHEN 'en' THEN $4[q + 1] ELSE $3[q + 1] END, 'Thank you!'),
           CASE lang WHEN 'en' THEN 'gsm7' ELSE 'ucs2' END, 1,
           CASE WHEN $1 THEN final ELSE 'pending' END,
           CASE WHEN $1 THEN 'twilio' END,
           CASE WHEN $1 THEN 'SM' || md5('provider-' || i || '-' || q) END,
           CASE WHEN $1 THEN 1 ELSE 0 END,
           at, at, at + interval '5 seconds',
           CASE WHEN $1 THEN at + interval '1 second' END,
           CASE WHEN $1 AND final = 'delivered' THEN at + interval '6 seconds' END
      FROM bench.plan p, generate_series(1, p.k) AS q,
           LATERAL (SELECT CASE WHEN $1 THEN send_at + q * interval '3 minutes' + interval '1 second'
                                ELSE now() END AS at,
                           bench.follow_up_status(i, q) AS final) AS f
     WHERE p.cat = 3";

// ---------------------------------------------------------------------------------------
// A new batch's status moves, each a statement of its own as callbacks would be.

/// The first question accepted by the provider, and its survey opened, in one statement as
/// `store::messages::accepted` does in one transaction.
const ACCEPT_FIRST: &str = "
    WITH accepted AS (
        UPDATE messages m
           SET status = 'queued', provider = 'twilio',
               provider_message_id = 'SM' || md5('provider-' || p.i || '-0'), attempts = 1,
               sent_at = now(), updated_at = now()
          FROM bench.plan p
         WHERE m.survey_id = p.i AND m.purpose = 'question' AND m.status = 'pending'
        RETURNING m.survey_id
    )
    UPDATE surveys s
       SET state = 'open', sent_at = now(), updated_at = now(), expires_at = now() + interval '1 day'
      FROM accepted a
     WHERE s.id = a.survey_id";

const REPORT_FIRST: &str = "
    UPDATE messages m
       SET status = p.status, updated_at = now(),
           delivered_at = CASE WHEN p.status = 'delivered' THEN now() END
      FROM bench.plan p
     WHERE m.survey_id = p.i AND m.purpose = 'question' AND m.status = 'queued'";

/// $1 question ids: a follow-up's position tells which answer it followed.
const ACCEPT_FOLLOW_UPS: &str = "
    UPDATE messages m
       SET status = 'queued', provider = 'twilio', attempts = 1, sent_at = now(), updated_at = now(),
           provider_message_id = 'SM' || md5('provider-' || p.i || '-' ||
               coalesce(array_position($1::text[], m.question_id) - 1, cardinality($1::text[])))
      FROM bench.plan p
     WHERE m.survey_id = p.i AND m.purpose <> 'question' AND m.status = 'pending'";

const REPORT_FOLLOW_UPS: &str = "
    WITH reported AS (
        SELECT m.id, bench.follow_up_status(p.i,
                   coalesce(array_position($1::text[], m.question_id) - 1, cardinality($1::text[])))
                   AS final
          FROM messages m JOIN bench.plan p ON m.survey_id = p.i
         WHERE m.purpose <> 'question' AND m.status = 'queued'
    )
    UPDATE messages m
       SET status = r.final, updated_at = now(),
           delivered_at = CASE WHEN r.final = 'delivered' THEN now() END
      FROM reported r
     WHERE m.id = r.id";

const CLOSE_SURVEYS: &str = "
    UPDATE surveys s
       SET state = CASE WHEN p.k = 3 THEN 'completed' ELSE 'open' END, question_index = p.k,
           closed_at = CASE WHEN p.k = 3 THEN now() END, updated_at = now()
      FROM bench.plan p
     WHERE s.id = p.i";

// ---------------------------------------------------------------------------------------
// Binding: each statement with its parameters.

type Query<'a> = sqlx::query::Query<'a, Postgres, PgArguments>;

fn insert_calls(s: &Survey) -> Query<'_> {
    sqlx::query(INSERT_CALLS).bind(&s.timezone)
}

fn insert_surveys(s: &Survey, fin: bool) -> Query<'_> {
    sqlx::query(INSERT_SURVEYS).bind(fin).bind(&s.timezone)
}

fn insert_first_messages(s: &Survey, fin: bool) -> Query<'_> {
    sqlx::query(INSERT_FIRST_MESSAGES)
        .bind(fin)
        .bind(&s.questions)
        .bind(&s.zh)
        .bind(&s.en)
        .bind(&s.signature)
}

fn insert_answers(s: &Survey, fin: bool) -> Query<'_> {
    sqlx::query(INSERT_ANSWERS).bind(fin).bind(&s.answered)
}

fn insert_follow_ups(s: &Survey, fin: bool) -> Query<'_> {
    sqlx::query(INSERT_FOLLOW_UPS)
        .bind(fin)
        .bind(&s.questions)
        .bind(&s.zh)
        .bind(&s.en)
}

// ---------------------------------------------------------------------------------------

/// Seconds per seeding step, for the report.
#[derive(Default)]
pub struct Timings(pub Vec<(&'static str, f64)>);

impl Timings {
    async fn run(
        &mut self,
        step: &'static str,
        query: Query<'_>,
        conn: &mut PgConnection,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        query
            .execute(conn)
            .await
            .with_context(|| format!("seeding: {step}"))?;
        self.0.push((step, started.elapsed().as_secs_f64()));
        Ok(())
    }

    async fn raw(
        &mut self,
        step: &'static str,
        sql: &str,
        conn: &mut PgConnection,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        conn.execute(sql)
            .await
            .with_context(|| format!("seeding: {step}"))?;
        self.0.push((step, started.elapsed().as_secs_f64()));
        Ok(())
    }
}

/// An index the history is loaded without and that is built afterwards, by sorting: random
/// keys (message ids, provider ids) inserted row by row into a growing B-tree cost most of
/// the seed's time at 10 M, in page reads and full-page WAL images. Indexes that a foreign
/// key depends on stay. Rebuilt from the catalog's own definitions, so the schema ends
/// exactly as the migrations made it.
struct Index {
    table: String,
    name: String,
    /// The constraint the index backs (primary key, unique), if any.
    constraint: Option<String>,
    definition: String,
}

impl Index {
    async fn droppable(conn: &mut PgConnection) -> anyhow::Result<Vec<Self>> {
        let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT t.relname::text, x.relname::text, c.conname::text,
                    coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid))
               FROM pg_index i
               JOIN pg_class t ON t.oid = i.indrelid
               JOIN pg_class x ON x.oid = i.indexrelid
               LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
              WHERE t.relnamespace = 'public'::regnamespace
                AND t.relname IN ('calls', 'surveys', 'messages', 'answers')
                AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                 WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
              ORDER BY 1, 2",
        )
        .fetch_all(&mut *conn)
        .await
        .context("listing indexes")?;
        Ok(rows
            .into_iter()
            .map(|(table, name, constraint, definition)| Self {
                table,
                name,
                constraint,
                definition,
            })
            .collect())
    }

    fn drop(&self) -> String {
        match &self.constraint {
            Some(c) => format!("ALTER TABLE {} DROP CONSTRAINT {c}", self.table),
            None => format!("DROP INDEX {}", self.name),
        }
    }

    fn create(&self) -> String {
        match &self.constraint {
            Some(c) => format!(
                "ALTER TABLE {} ADD CONSTRAINT {c} {}",
                self.table, self.definition
            ),
            None => self.definition.clone(),
        }
    }
}

/// A year of history: `calls` calls written with their final states. Triggers (and foreign
/// key checks) are off for this connection: the change log would only be thrown away by
/// the rebuild that follows, and checking keys the generator made consistent costs time.
/// Returns the next free call index.
pub async fn history(
    conn: &mut PgConnection,
    s: &Survey,
    calls: i64,
) -> anyhow::Result<(i64, Timings)> {
    let mut t = Timings::default();
    for statement in SCHEMA {
        let done = conn.execute(*statement).await;
        done.context("creating the bench schema")?;
    }
    conn.execute("SET session_replication_role = replica")
        .await?;
    conn.execute("SET maintenance_work_mem = '256MB'").await?;
    let indexes = Index::droppable(conn).await?;
    for index in &indexes {
        conn.execute(index.drop().as_str()).await?;
    }
    let sql = plan_history();
    let plan = sqlx::query(&sql).bind(1_i64).bind(calls).bind(&s.timezone);
    t.run("plan", plan, conn).await?;
    t.run("calls", insert_calls(s), conn).await?;
    t.run("surveys", insert_surveys(s, true), conn).await?;
    t.run("first messages", insert_first_messages(s, true), conn)
        .await?;
    t.run("follow-ups", insert_follow_ups(s, true), conn)
        .await?;
    t.run("answers", insert_answers(s, true), conn).await?;
    let started = Instant::now();
    for index in &indexes {
        let sql = index.create();
        let done = conn.execute(sql.as_str()).await;
        done.with_context(|| format!("recreating an index: {sql}"))?;
    }
    t.0.push(("indexes", started.elapsed().as_secs_f64()));
    conn.execute("SET session_replication_role = DEFAULT")
        .await?;
    let setval = "SELECT setval(pg_get_serial_sequence('surveys', 'id'), max(id)) FROM surveys";
    conn.execute(setval).await?;
    // As autovacuum would have left a year-old database: statistics current, visibility map
    // set (index-only scans and count(*) read it).
    for (step, table) in [
        ("vacuum calls", "calls"),
        ("vacuum surveys", "surveys"),
        ("vacuum messages", "messages"),
        ("vacuum answers", "answers"),
    ] {
        let sql = format!("VACUUM (ANALYZE) {table}");
        t.raw(step, &sql, conn).await?;
    }
    Ok((calls + 1, t))
}

/// One batch of new calls from today and yesterday whose surveys are sent, delivered and
/// answered `answers` times in all, through statements that fire postcall's triggers as
/// production traffic does. Returns the next free call index.
pub async fn batch(pool: &PgPool, s: &Survey, first: i64, answers: i64) -> anyhow::Result<i64> {
    let answered = (answers + 2) / 3;
    let last = first + answered + answered * UNANSWERED_PER_TEN / 10 - 1;
    let mut conn = pool.acquire().await?;
    let conn = &mut *conn;
    let mut t = Timings::default();
    conn.execute("TRUNCATE bench.plan").await?;
    let sql = plan_batch();
    let plan = sqlx::query(&sql)
        .bind(first)
        .bind(last)
        .bind(&s.timezone)
        .bind(answers);
    t.run("plan", plan, conn).await?;
    conn.execute("ANALYZE bench.plan").await?;
    t.run("calls", insert_calls(s), conn).await?;
    t.run("surveys", insert_surveys(s, false), conn).await?;
    t.run("first messages", insert_first_messages(s, false), conn)
        .await?;
    t.run("accepting first questions", sqlx::query(ACCEPT_FIRST), conn)
        .await?;
    t.run("reporting first questions", sqlx::query(REPORT_FIRST), conn)
        .await?;
    t.run("answers", insert_answers(s, false), conn).await?;
    t.run("follow-ups", insert_follow_ups(s, false), conn)
        .await?;
    let accept = sqlx::query(ACCEPT_FOLLOW_UPS).bind(&s.questions);
    t.run("accepting follow-ups", accept, conn).await?;
    let report = sqlx::query(REPORT_FOLLOW_UPS).bind(&s.questions);
    t.run("reporting follow-ups", report, conn).await?;
    t.run("closing surveys", sqlx::query(CLOSE_SURVEYS), conn)
        .await?;
    Ok(last + 1)
}

/// Bumped when the generator changes what it writes: a kept database from an older
/// generator is seeded again.
const GENERATOR: i32 = 1;

/// What a kept database holds, from `bench.seeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Answers asked for at seeding (`--size`); batches since then add to the stored count.
    pub answers: i64,
    /// The next free call index: batches append after it.
    pub next: i64,
}

/// The record of a completed seed, if this database has one from this generator.
pub async fn seeded(pool: &PgPool) -> anyhow::Result<Option<Seeded>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('bench.seeded') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(None);
    }
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT answers, next_call FROM bench.seeded WHERE generator = $1")
            .bind(GENERATOR)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(answers, next)| Seeded { answers, next }))
}

/// Records a completed seed (the last step of seeding, so an interrupted one is redone).
pub async fn mark_seeded(pool: &PgPool, seeded: Seeded) -> anyhow::Result<()> {
    pool.execute(
        "CREATE TABLE bench.seeded (answers bigint NOT NULL, next_call bigint NOT NULL,
                                    generator int NOT NULL, seeded_at timestamptz NOT NULL)",
    )
    .await?;
    sqlx::query("INSERT INTO bench.seeded VALUES ($1, $2, $3, now())")
        .bind(seeded.answers)
        .bind(seeded.next)
        .bind(GENERATOR)
        .execute(pool)
        .await?;
    Ok(())
}

/// Moves the next free call index on after a batch, so the next invocation appends.
pub async fn advance(pool: &PgPool, next: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE bench.seeded SET next_call = $1")
        .bind(next)
        .execute(pool)
        .await?;
    Ok(())
}
