//! Score cells written straight into `score_cells`, as the aggregation would leave them, and
//! their sums, from which the tests compute what the page must show.

use chrono::{Days, NaiveDate, Utc};
use postcall::domain::scores::Tally;
use sqlx::PgPool;

pub struct Cell {
    pub day: NaiveDate,
    pub agent: &'static str,
    pub queue: &'static str,
    pub tally: Tally,
}

/// Two agents with plenty of answers in both queues on 14 of the 15 days ending a week ago
/// (inside the page's default last 30 days in any time zone), and agent-chen with a handful.
pub async fn seed(pool: &PgPool) -> Vec<Cell> {
    let first = Utc::now().date_naive() - Days::new(21);
    let mut cells = Vec::new();
    // Day 7 stays empty: the charts must show a gap there, not a line across it.
    for k in (0..15u64).filter(|k| *k != 7) {
        let day = first + Days::new(k);
        let mut add = |agent, queue, tally| {
            cells.push(Cell {
                day,
                agent,
                queue,
                tally,
            })
        };
        for queue in ["payment", "account"] {
            add("agent-anna", queue, anna(k));
            add("agent-bo", queue, bo(k));
        }
        if k == 3 || k == 10 {
            add("agent-chen", "payment", chen());
        }
    }
    for c in &cells {
        insert(pool, c).await;
    }
    cells
}

/// The seeded counts of the cells `pick` chooses, summed.
pub fn total(cells: &[Cell], pick: impl Fn(&Cell) -> bool) -> Tally {
    let mut sum = Tally::default();
    for c in cells.iter().filter(|c| pick(c)) {
        sum.add(&c.tally);
    }
    sum
}

/// ≈ 77 % satisfied of 168 answers: a solid score with a tight interval.
fn anna(k: u64) -> Tally {
    let satisfied = 5 - u64::from(k.is_multiple_of(3));
    let promoters = 4 - u64::from(k.is_multiple_of(4));
    Tally {
        sent: 12,
        delivered: 11 + k % 2,
        responses: 7,
        csat_n: 6,
        csat_satisfied: satisfied,
        csat_sum: 5 * satisfied + 3 * (6 - satisfied),
        nps_n: 6,
        promoters,
        passives: 1,
        detractors: 5 - promoters,
        fcr_n: 6,
        fcr_yes: 5 - u64::from(k.is_multiple_of(5)),
        wait_n: 12,
        wait_seconds_sum: 12.0 * (25 + k) as f64,
        sms_segments: 31,
    }
}

/// ≈ 69 % satisfied of 140: lower than anna's score and lower bound alike.
fn bo(k: u64) -> Tally {
    let satisfied = 3 + k % 2;
    let promoters = 2 + k % 2;
    Tally {
        sent: 10,
        delivered: 9,
        responses: 5,
        csat_n: 5,
        csat_satisfied: satisfied,
        csat_sum: 5 * satisfied + 2 * (5 - satisfied),
        nps_n: 5,
        promoters,
        passives: 1,
        detractors: 4 - promoters,
        fcr_n: 5,
        fcr_yes: 3 + u64::from(k.is_multiple_of(3)),
        wait_n: 10,
        wait_seconds_sum: 400.0,
        sms_segments: 25,
    }
}

/// 100 % satisfied, but of 4 answers in all (lower bound ≈ 51 %), and no NPS answer at all.
fn chen() -> Tally {
    Tally {
        sent: 3,
        delivered: 3,
        responses: 2,
        csat_n: 2,
        csat_satisfied: 2,
        csat_sum: 9,
        fcr_n: 2,
        fcr_yes: 2,
        wait_n: 3,
        wait_seconds_sum: 60.0,
        sms_segments: 9,
        ..Tally::default()
    }
}

async fn insert(pool: &PgPool, c: &Cell) {
    let t = &c.tally;
    let counts = [
        t.sent,
        t.delivered,
        t.responses,
        t.csat_n,
        t.csat_satisfied,
        t.csat_sum,
        t.nps_n,
        t.promoters,
        t.passives,
        t.detractors,
        t.fcr_n,
        t.fcr_yes,
        t.wait_n,
    ];
    let mut q = sqlx::query(
        "INSERT INTO score_cells (day, agent_id, queue, sent, delivered, responses, csat_n,
             csat_satisfied, csat_sum, nps_n, promoters, passives, detractors, fcr_n, fcr_yes,
             wait_n, wait_ms_sum, sms_segments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(c.day)
    .bind(c.agent)
    .bind(c.queue);
    for n in counts {
        q = q.bind(n as i64);
    }
    q.bind((t.wait_seconds_sum * 1000.0) as i64)
        .bind(t.sms_segments as i64)
        .execute(pool)
        .await
        .expect("seeding score_cells");
}
