//! Score arithmetic (DESIGN.md §5): the counts kept for one group and the figures reported for
//! it — rates, means, NPS and their 95 % intervals. A group with n = 0 reports `null`, never 0.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval.
const Z: f64 = 1.96;

/// Counts for one group (agent / queue / day …), as aggregation stores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub sent: u64,
    pub delivered: u64,
    pub responses: u64,
    /// Answers to the csat question (1–5).
    pub csat_n: u64,
    /// Of those, answers ≥ 4.
    pub csat_satisfied: u64,
    /// Sum of the answers, for the mean.
    pub csat_sum: u64,
    /// Answers to the nps question (0–10).
    pub nps_n: u64,
    /// 9–10.
    pub promoters: u64,
    /// 7–8.
    pub passives: u64,
    /// 0–6.
    pub detractors: u64,
    pub fcr_n: u64,
    pub fcr_yes: u64,
    pub wait_seconds_sum: f64,
    pub wait_n: u64,
    pub sms_segments: u64,
}

impl Tally {
    /// Merges another group's counts into this one (e.g. days into a week).
    pub fn add(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.responses += other.responses;
        self.csat_n += other.csat_n;
        self.csat_satisfied += other.csat_satisfied;
        self.csat_sum += other.csat_sum;
        self.nps_n += other.nps_n;
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
        self.fcr_n += other.fcr_n;
        self.fcr_yes += other.fcr_yes;
        self.wait_seconds_sum += other.wait_seconds_sum;
        self.wait_n += other.wait_n;
        self.sms_segments += other.sms_segments;
    }
}

/// The CSAT block of a group's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CsatScores {
    pub n: u64,
    pub satisfied: u64,
    /// satisfied ÷ n.
    pub score: Option<f64>,
    /// Mean answer on 1–5.
    pub mean: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

/// The NPS block of a group's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NpsScores {
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// 100 × (promoters − detractors) ÷ n, in [−100, 100].
    pub score: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

/// The FCR block of a group's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FcrScores {
    pub n: u64,
    pub yes: u64,
    /// yes ÷ n.
    pub rate: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

/// One group's figures, serialised exactly as the group object of DESIGN.md §5 (without `key`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub sent: u64,
    pub delivered: u64,
    pub responses: u64,
    /// responses ÷ sent, a ratio in [0, 1].
    pub response_rate: Option<f64>,
    pub csat: CsatScores,
    pub nps: NpsScores,
    pub fcr: FcrScores,
    pub avg_wait_seconds: Option<f64>,
    pub sms_segments: u64,
    /// sms_segments ÷ responses: what one useful answer costs in SMS segments.
    pub segments_per_response: Option<f64>,
}

/// `num ÷ den`, or `None` when there is nothing to divide by.
fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// The reported figures for one group's counts.
pub fn scores(t: &Tally) -> Scores {
    Scores {
        sent: t.sent,
        delivered: t.delivered,
        responses: t.responses,
        response_rate: ratio(t.responses as f64, t.sent).map(|r| r.clamp(0.0, 1.0)),
        csat: CsatScores {
            n: t.csat_n,
            satisfied: t.csat_satisfied,
            score: ratio(t.csat_satisfied as f64, t.csat_n),
            mean: ratio(t.csat_sum as f64, t.csat_n),
            ci95: wilson(t.csat_satisfied, t.csat_n),
        },
        nps: NpsScores {
            n: t.nps_n,
            promoters: t.promoters,
            passives: t.passives,
            detractors: t.detractors,
            score: ratio(100.0 * (t.promoters as f64 - t.detractors as f64), t.nps_n),
            ci95: nps_interval(t.promoters, t.detractors, t.nps_n),
        },
        fcr: FcrScores {
            n: t.fcr_n,
            yes: t.fcr_yes,
            rate: ratio(t.fcr_yes as f64, t.fcr_n),
            ci95: wilson(t.fcr_yes, t.fcr_n),
        },
        avg_wait_seconds: ratio(t.wait_seconds_sum, t.wait_n),
        sms_segments: t.sms_segments,
        segments_per_response: ratio(t.sms_segments as f64, t.responses),
    }
}

/// 95 % Wilson score interval for `successes` of `n`, clamped to [0, 1]; `None` for n = 0.
pub fn wilson(successes: u64, n: u64) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let p = (successes as f64 / nf).clamp(0.0, 1.0);
    let z2 = Z * Z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); pin it against rounding.
    let low = if successes == 0 { 0.0 } else { centre - half };
    let high = if successes >= n { 1.0 } else { centre + half };
    Some([low.clamp(0.0, 1.0), high.clamp(0.0, 1.0)])
}

/// 95 % adjusted-Wald interval for NPS; `None` for n = 0.
///
/// The plain Wald interval has zero width when every answer is a promoter (or every one a
/// detractor), so one promoter read as [100, 100] and ranked above hundreds of answers. Adding
/// ¾ of a promoter and ¾ of a detractor (and so 3 answers, with 1½ passives) before computing
/// it keeps a small sample wide: n′ = n + 3, p′ = (promoters + ¾) ÷ n′, d′ = (detractors + ¾) ÷ n′,
/// interval 100·((p′ − d′) ± 1.96·√((p′ + d′ − (p′ − d′)²) ÷ n′)), clamped to [−100, 100].
/// The score itself stays the unadjusted 100·(promoters − detractors) ÷ n.
pub fn nps_interval(promoters: u64, detractors: u64, n: u64) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let n_adjusted = n as f64 + 3.0;
    let p = (promoters as f64 + 0.75) / n_adjusted;
    let d = (detractors as f64 + 0.75) / n_adjusted;
    let diff = p - d;
    // Variance of a single answer scored +1 / 0 / −1; never negative but for rounding.
    let variance = (p + d - diff * diff).max(0.0);
    let half = Z * (variance / n_adjusted).sqrt();
    Some([
        (100.0 * (diff - half)).clamp(-100.0, 100.0),
        (100.0 * (diff + half)).clamp(-100.0, 100.0),
    ])
}

#[cfg(test)]
mod tests;
