//! The outbound SMS outbox: stored before sending, claimed under a lease by exactly one
//! replica, recorded only by the replica that still holds the lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, postgres::PgArguments, query::Query, types::Json,
};
use uuid::Uuid;

use super::first_send;
use crate::{
    channels::templates::{Filled, TemplateCall, TemplateParam},
    domain::lifecycle::{MessagePurpose, MessageStatus, SurveyState},
};

pub struct New<'a> {
    pub id: Uuid,
    pub survey_id: Option<i64>,
    pub purpose: MessagePurpose,
    pub question_id: Option<&'a str>,
    pub to_phone: &'a str,
    pub body: String,
    pub encoding: &'static str,
    pub segments: i32,
    /// The approved template it goes out as, on a templated channel.
    pub template: Option<Filled>,
}

pub async fn insert(conn: &mut PgConnection, messages: &[New<'_>]) -> sqlx::Result<()> {
    insert_as(conn, messages, None).await
}

/// Inserts messages already claimed by `replica` (attempt `attempts` under way, leased for
/// `lease`), for a sender that sends them at once.
pub async fn insert_claimed(
    conn: &mut PgConnection,
    messages: &[New<'_>],
    replica: &str,
    lease: Duration,
    attempts: i32,
) -> sqlx::Result<()> {
    insert_as(conn, messages, Some((replica, lease, attempts))).await
}

async fn insert_as(
    conn: &mut PgConnection,
    messages: &[New<'_>],
    claimed: Option<(&str, Duration, i32)>,
) -> sqlx::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let columns = Columns::of(messages);
    let (replica, lease, attempts) = match claimed {
        Some((replica, lease, attempts)) => (Some(replica), Some(lease), attempts),
        None => (None, None, 0),
    };
    columns
        .bind(sqlx::query(
            r#"
        INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding, segments,
                              template_id, template_params, status, attempts, leased_by, lease_until)
        SELECT m.*, CASE WHEN $11::text IS NULL THEN 'pending' ELSE 'sending' END,
               $13,
               $11, now() + make_interval(secs => $12)
          FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                      $6::text[], $7::text[], $8::int[], $9::text[], $10::jsonb[]) AS m
        "#,
        ))
        .bind(replica)
        .bind(lease.map(|l| l.as_secs_f64()))
        .bind(attempts)
        .execute(conn)
        .await?;
    Ok(())
}

/// New messages as the ten column arrays of an `unnest` insert, in this order: `id,
/// survey_id, purpose, question_id, to_phone, body, encoding, segments, template_id,
/// template_params`.
pub struct Columns<'a> {
    ids: Vec<Uuid>,
    surveys: Vec<Option<i64>>,
    purposes: Vec<MessagePurpose>,
    questions: Vec<Option<&'a str>>,
    phones: Vec<&'a str>,
    bodies: Vec<&'a str>,
    encodings: Vec<&'a str>,
    segments: Vec<i32>,
    template_ids: Vec<Option<&'a str>>,
    template_params: Vec<Option<Json<&'a [TemplateParam]>>>,
}

impl<'a> Columns<'a> {
    pub fn of(messages: &'a [New<'a>]) -> Self {
        Self {
            ids: messages.iter().map(|m| m.id).collect(),
            surveys: messages.iter().map(|m| m.survey_id).collect(),
            purposes: messages.iter().map(|m| m.purpose).collect(),
            questions: messages.iter().map(|m| m.question_id).collect(),
            phones: messages.iter().map(|m| m.to_phone).collect(),
            bodies: messages.iter().map(|m| m.body.as_str()).collect(),
            encodings: messages.iter().map(|m| m.encoding).collect(),
            segments: messages.iter().map(|m| m.segments).collect(),
            template_ids: messages
                .iter()
                .map(|m| m.template.as_ref().map(|t| t.id.as_str()))
                .collect(),
            template_params: messages
                .iter()
                .map(|m| m.template.as_ref().map(|t| Json(t.params.as_slice())))
                .collect(),
        }
    }

    /// Binds the ten arrays as the query's next ten parameters.
    pub fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(&self.ids)
            .bind(&self.surveys)
            .bind(&self.purposes)
            .bind(&self.questions)
            .bind(&self.phones)
            .bind(&self.bodies)
            .bind(&self.encodings)
            .bind(&self.segments)
            .bind(&self.template_ids)
            .bind(&self.template_params)
    }
}

/// A message claimed for sending, with what may have changed since it was queued.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    /// The survey's call, for logs (system replies to a phone have none).
    pub call_id: Option<String>,
    pub purpose: MessagePurpose,
    pub to_phone: String,
    pub body: String,
    pub segments: i32,
    pub template_id: Option<String>,
    pub template_params: Option<Json<Vec<TemplateParam>>>,
    pub attempts: i32,
    pub survey_state: Option<SurveyState>,
    pub customer_timezone: Option<String>,
    pub opted_out: bool,
    /// The customer's zones, when the claim already worked them out (a first question);
    /// otherwise the send does, from `customer_timezone` and the phone.
    #[sqlx(skip)]
    pub zones: Option<Vec<chrono_tz::Tz>>,
    /// Set for a survey's first question claimed on its survey: it has no row yet.
    #[sqlx(skip)]
    pub first: Option<First>,
}

/// What a first question claimed on its survey needs beyond `Claimed` to become a row.
#[derive(Debug, Clone)]
pub struct First {
    pub survey_id: i64,
    /// The SMS's id before this claim (`surveys::Due::prior`), restored if it goes back
    /// unsent.
    pub prior: Option<Uuid>,
    /// And the earlier lease's end, restored with it.
    pub prior_lease_until: Option<DateTime<Utc>>,
    pub question_id: String,
    pub encoding: &'static str,
}

impl Claimed {
    /// The row a first question claimed on its survey becomes.
    pub fn as_new(&self) -> Option<New<'_>> {
        let first = self.first.as_ref()?;
        Some(New {
            id: self.id,
            survey_id: Some(first.survey_id),
            purpose: self.purpose,
            question_id: Some(&first.question_id),
            to_phone: &self.to_phone,
            body: self.body.clone(),
            encoding: first.encoding,
            segments: self.segments,
            template: self.template_id.as_ref().map(|id| Filled {
                id: id.clone(),
                params: self
                    .template_params
                    .as_ref()
                    .map(|p| p.0.clone())
                    .unwrap_or_default(),
            }),
        })
    }
}

impl Claimed {
    /// Whether its survey is still where this message belongs (`MessagePurpose::goes_while`).
    pub fn survey_live(&self) -> bool {
        self.purpose.goes_while(self.survey_state)
    }

    pub fn stops_at_opt_out(&self) -> bool {
        self.purpose.stops_at_opt_out()
    }

    /// The template it goes out as, if it was composed from one.
    pub fn template(&self) -> Option<TemplateCall<'_>> {
        self.template_id.as_deref().map(|id| TemplateCall {
            id,
            params: self
                .template_params
                .as_ref()
                .map_or(&[], |p| p.0.as_slice()),
        })
    }
}

/// Marks the messages of the `due` CTE (its ids) `sending` under a lease, the attempt
/// counted, and returns them as claimed; `$2` is the lease in seconds, `$3` the replica.
const CLAIM: &str = r#"
    claimed AS (
        UPDATE messages m
           SET status = 'sending', attempts = m.attempts + 1, leased_by = $3,
               lease_until = now() + make_interval(secs => $2), updated_at = now()
          FROM due WHERE m.id = due.id
        RETURNING m.id, m.survey_id, m.purpose, m.to_phone, m.body, m.segments,
                  m.template_id, m.template_params, m.attempts
    )
"#;

/// What a claim returns for each row of its `claimed` step: the row, its survey's call and
/// state, the call's zone, whether the phone opted out (`Claimed`'s columns).
pub(super) const CLAIMED: &str = r#"
    SELECT c.*, s.call_id, s.state AS survey_state, k.customer_timezone,
           EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = c.to_phone) AS opted_out
      FROM claimed c LEFT JOIN surveys s ON s.id = c.survey_id LEFT JOIN calls k ON k.call_id = s.call_id
"#;

/// The due messages, earliest first, locked without waiting on other replicas' locks.
const DUE: &str = r#"
    SELECT id, to_phone, body FROM messages
     WHERE status = 'pending' AND next_attempt_at <= now()
     ORDER BY next_attempt_at
     LIMIT $1
     FOR UPDATE SKIP LOCKED
"#;

/// Claims up to `limit` due messages in one statement, in the caller's transaction:
/// locked without waiting on other replicas' locks, marked `sending` with a lease, the
/// attempt counted.
pub async fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
    replica: &str,
) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as(&format!("WITH due AS ({DUE}), {CLAIM} {CLAIMED}"))
        .bind(limit)
        .bind(lease.as_secs_f64())
        .bind(replica)
        .fetch_all(conn)
        .await
}

/// A due message locked for the caller's transaction, not claimed yet: what a cap check
/// needs of it.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: Uuid,
    pub to_phone: String,
    pub body: String,
}

/// Locks up to `limit` due messages, for a claim that checks them before claiming.
pub async fn lock_due(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(DUE).bind(limit).fetch_all(conn).await
}

/// Claims messages the caller's transaction locked (`lock_due`), as `claim` does.
pub async fn claim_locked(
    conn: &mut PgConnection,
    ids: &[Uuid],
    lease: Duration,
    replica: &str,
) -> sqlx::Result<Vec<Claimed>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    sqlx::query_as(&format!(
        "WITH due AS (SELECT unnest($1::uuid[]) AS id), {CLAIM} {CLAIMED}"
    ))
    .bind(ids)
    .bind(lease.as_secs_f64())
    .bind(replica)
    .fetch_all(conn)
    .await
}

/// Opens the claims' own connection, whose commits do not wait for their WAL to reach the
/// disk: that wait (one fsync, shared by every commit; BENCHMARKS.md has the figure) was
/// half of each message's round from claim to record, and a pool's acquire cost a round
/// of the runtime's scheduling per claim. Safe because other replicas see a claim at
/// commit as always (only its durability lags, by at most a few hundred ms, and the
/// recording of the outcome, which does wait for the disk, makes it durable too); a
/// server crash in that window loses the claim of a message that may have been sent, and
/// it is sent again with the same id, as after a crash between sending and recording. Only
/// claims, and what a claim decides (a survey held back or ended), use it.
pub async fn claims_connection(pool: &PgPool) -> sqlx::Result<PgConnection> {
    let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
    sqlx::query("SET synchronous_commit = off")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Opens the recorder's own connection: its commits wait for the disk as usual (they make
/// each claim durable too, see `claims_connection`). Kept out of the pool so the recorder,
/// on the dispatch loops' thread, never waits for an acquire or a connection the worker's
/// runtime drives.
pub async fn records_connection(pool: &PgPool) -> sqlx::Result<PgConnection> {
    PgConnection::connect_with(&pool.connect_options()).await
}

/// What may have changed since a message was claimed.
#[derive(Debug, sqlx::FromRow)]
pub struct Current {
    pub opted_out: bool,
    pub survey_state: Option<SurveyState>,
}

/// Re-reads, just before sending, whether the phone opted out and the survey's state.
pub async fn recheck(pool: &PgPool, id: Uuid) -> sqlx::Result<Current> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM opt_outs o WHERE o.customer_phone = m.to_phone) AS opted_out,
                s.state AS survey_state
           FROM messages m LEFT JOIN surveys s ON s.id = m.survey_id
          WHERE m.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// The lease this replica holds on a claimed message; updates that do not match it (the
/// lease expired and the message was claimed again) change nothing.
pub struct Lease<'a> {
    pub id: Uuid,
    pub replica: &'a str,
    pub attempts: i32,
    /// Set for a lookup's lease (`reconcile::claim`): the `reconcile_checks` it claimed,
    /// which fences it as `attempts` fences a send's.
    pub checks: Option<i32>,
}

impl Lease<'_> {
    /// The condition every update under this lease carries, on `$1` id, `$2` replica and
    /// `$3` the fence.
    pub(super) fn held(&self) -> &'static str {
        match self.checks {
            None => "id = $1 AND status = 'sending' AND leased_by = $2 AND attempts = $3",
            Some(_) => {
                "id = $1 AND status = 'reconciling' AND leased_by = $2 AND reconcile_checks = $3"
            }
        }
    }

    pub(super) fn fence(&self) -> i32 {
        self.checks.unwrap_or(self.attempts)
    }

    /// The statement that sets `set` on the message while this lease holds it and gives the
    /// lease up; `set`'s values are `$4` on.
    pub(super) fn statement(&self, set: &str) -> String {
        format!(
            "UPDATE messages SET {set}, lease_until = NULL, updated_at = now() WHERE {}",
            self.held()
        )
    }

    /// Runs [`Lease::statement`] with the lease bound and `values` binding `set`'s from `$4`;
    /// false when the lease no longer held and nothing changed.
    pub(super) async fn update(
        &self,
        pool: &PgPool,
        set: &str,
        values: impl for<'q> FnOnce(LeaseQuery<'q>) -> LeaseQuery<'q>,
    ) -> sqlx::Result<bool> {
        let sql = self.statement(set);
        let query = sqlx::query(&sql)
            .bind(self.id)
            .bind(self.replica)
            .bind(self.fence());
        Ok(values(query).execute(pool).await?.rows_affected() == 1)
    }
}

/// An update under a lease, its values still to bind.
pub(super) type LeaseQuery<'q> = Query<'q, Postgres, PgArguments>;

/// A send the provider accepted, to be recorded under the lease `attempts` names (and
/// `checks`, for a send a lookup found).
pub struct Accepted {
    pub id: Uuid,
    pub attempts: i32,
    pub checks: Option<i32>,
    pub provider_message_id: String,
    pub status: MessageStatus,
    /// The parts the provider says it billed, stored over postcall's own count.
    pub billed_segments: Option<i32>,
}

/// Records accepted sends, one round trip for the batch: `postcall_record_sends` (its
/// migration says what recording does and why it is a function) takes the report locks of
/// every provider id, then writes, in the statement's own transaction. The survey opens
/// when its first question is accepted. A send whose lease this replica no longer holds is
/// left alone. Returns how many were recorded.
pub async fn accepted(
    conn: &mut PgConnection,
    replica: &str,
    provider: &str,
    sends: &[Accepted],
    firsts: &[first_send::Accepted],
    expire_after: Duration,
) -> sqlx::Result<usize> {
    let query = sqlx::query_scalar(
        "SELECT postcall_record_sends(
            for_provider => $1, by_replica => $2, expire_after_secs => $3,
            question_purpose => $4,
            queued_ids => $5, queued_attempts => $6, queued_provider_ids => $7,
            queued_statuses => $8, queued_billed => $9, queued_checks => $10,
            firsts_ids => $11, firsts_surveys => $12, firsts_attempts => $13,
            firsts_provider_ids => $14, firsts_statuses => $15, firsts_billed => $16,
            firsts_question_ids => $17, firsts_phones => $18, firsts_bodies => $19,
            firsts_encodings => $20, firsts_segments => $21, firsts_template_ids => $22,
            firsts_template_params => $23)",
    )
    .bind(provider)
    .bind(replica)
    .bind(expire_after.as_secs_f64())
    .bind(MessagePurpose::Question)
    .bind(column(sends, |s| s.id))
    .bind(column(sends, |s| s.attempts))
    .bind(column(sends, |s| s.provider_message_id.as_str()))
    .bind(column(sends, |s| s.status))
    .bind(column(sends, |s| s.billed_segments))
    .bind(column(sends, |s| s.checks));
    let recorded: i64 = first_send::bind_accepted(query, firsts)
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(recorded).unwrap_or_default())
}

/// One field of every row, as an array to bind.
pub(super) fn column<'a, S, T>(rows: &'a [S], field: impl Fn(&'a S) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

/// Returns the message to the queue for another attempt at `at`.
pub async fn retry_at(
    pool: &PgPool,
    lease: &Lease<'_>,
    at: DateTime<Utc>,
    code: Option<&str>,
    message: &str,
) -> sqlx::Result<bool> {
    let (code, message) = (code.map(str::to_owned), message.to_owned());
    lease
        .update(
            pool,
            "status = 'pending', next_attempt_at = $4, error_code = $5, error_message = $6",
            move |q| q.bind(at).bind(code).bind(message),
        )
        .await
}

/// Puts the message back without counting the attempt: it was not sent (quiet hours, or
/// the worker is shutting down).
pub async fn release(pool: &PgPool, lease: &Lease<'_>, at: DateTime<Utc>) -> sqlx::Result<bool> {
    lease
        .update(
            pool,
            "status = 'pending', next_attempt_at = $4, attempts = attempts - 1",
            move |q| q.bind(at),
        )
        .await
}

/// Ends the message for good (`failed` or `cancelled`); a survey whose first question
/// cannot be sent ends with it (`SurveyState::first_question_ended`). A carrier-reported
/// opt-out is recorded like a STOP.
pub async fn finish(
    pool: &PgPool,
    lease: &Lease<'_>,
    status: MessageStatus,
    code: Option<&str>,
    message: &str,
    opt_out_phone: Option<&str>,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let update = lease.statement("status = $4, error_code = $5, error_message = $6");
    let survey: Option<Option<i64>> = sqlx::query_scalar(&format!("{update} RETURNING survey_id"))
        .bind(lease.id)
        .bind(lease.replica)
        .bind(lease.fence())
        .bind(status)
        .bind(code)
        .bind(message)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(survey) = survey {
        sqlx::query(
            "UPDATE surveys SET state = $2, updated_at = now() WHERE id = $1 AND state = $3",
        )
        .bind(survey)
        .bind(SurveyState::first_question_ended(status))
        .bind(SurveyState::Sending)
        .execute(&mut *tx)
        .await?;
        if let Some(phone) = opt_out_phone {
            super::opt_outs::record(&mut tx, phone, "carrier").await?;
        }
    }
    tx.commit().await?;
    Ok(survey.is_some())
}

/// Returns messages whose lease ran out (their worker died mid-send) to the queue; one
/// that has used every attempt fails instead, and so does a survey waiting on it. With
/// `reconcile_after` (a provider without idempotency key), each may have gone out: it is
/// parked `reconciling`, to be looked up after that long, whatever its attempts. Returns
/// how many were rescued.
pub async fn rescue_expired(
    pool: &PgPool,
    max_attempts: i32,
    reconcile_after: Option<Duration>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        r#"
        WITH rescued AS (
            UPDATE messages
               SET status = CASE WHEN $2::float8 IS NOT NULL THEN 'reconciling'
                                 WHEN attempts >= $1 THEN 'failed' ELSE 'pending' END,
                   error_message = CASE
                       WHEN $2::float8 IS NOT NULL THEN 'lease expired mid-send; outcome unknown'
                       WHEN attempts >= $1
                       THEN 'lease expired on the last attempt; outcome unknown' ELSE error_message END,
                   next_attempt_at = now() + make_interval(secs => coalesce($2::float8, 0)),
                   lease_until = NULL, updated_at = now()
             WHERE status = 'sending' AND lease_until < now()
            RETURNING survey_id, status
        ), failed AS (
            UPDATE surveys s SET state = 'failed', updated_at = now()
              FROM rescued r
             WHERE s.id = r.survey_id AND r.status = 'failed' AND s.state = 'sending'
        )
        SELECT count(*) FROM rescued
        "#,
    )
    .bind(max_attempts)
    .bind(reconcile_after.map(|d| d.as_secs_f64()))
    .fetch_one(pool)
    .await
}

/// When the earliest pending message or lookup is due.
pub async fn next_due(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT least((SELECT min(next_attempt_at) FROM messages WHERE status = 'pending'),
                      (SELECT min(next_attempt_at) FROM messages WHERE status = 'reconciling'))",
    )
    .fetch_one(pool)
    .await
}
