//! Per-provider rate limits, in messages and in segments (what providers bill and
//! throttle) per second; every send of this replica waits for both.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Mutex;

use crate::config::RateLimit;

pub struct Limiter {
    messages: DefaultDirectRateLimiter,
    segments: DefaultDirectRateLimiter,
    segment_burst: NonZeroU32,
    messages_per_second: u32,
    /// Senders queue here in order, so only the first of them polls the buckets: with every
    /// sender polling, those woken together stampede (and a busy replica spends its CPU
    /// waking waiters that go back to sleep).
    turn: Mutex<()>,
}

/// A tenth of a second's allowance may go at once. Governor's default, a whole second's,
/// lets the first second of a backlog send twice the configured rate (figures in
/// BENCHMARKS.md, "Measurements behind the code"); with none, every late timer wake-up
/// would lose its slot.
fn quota(per_second: u32) -> (Quota, NonZeroU32) {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(per_second / 10).unwrap_or(NonZeroU32::MIN);
    (Quota::per_second(rate).allow_burst(burst), burst)
}

impl Limiter {
    pub fn new(settings: &RateLimit) -> Self {
        let (messages, _) = quota(settings.messages_per_second);
        let (segments, segment_burst) = quota(settings.segments_per_second);
        Self {
            messages: RateLimiter::direct(messages),
            segments: RateLimiter::direct(segments),
            segment_burst,
            messages_per_second: settings.messages_per_second.max(1),
            turn: Mutex::new(()),
        }
    }

    pub fn messages_per_second(&self) -> u32 {
        self.messages_per_second
    }

    /// Waits until one message of `segments` segments may go.
    pub async fn acquire(&self, segments: u32) {
        let _turn = self.turn.lock().await;
        self.messages.until_ready().await;
        // A message longer than the burst takes its segments in burst-sized parts.
        let mut left = segments.max(1);
        while let Some(n) = NonZeroU32::new(left.min(self.segment_burst.get())) {
            // `n` never exceeds the burst, so capacity is always sufficient.
            let _ = self.segments.until_n_ready(n).await;
            left -= n.get();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn a_backlog_goes_at_the_rate_after_a_tenth_of_a_second_burst() {
        let limiter = Limiter::new(&RateLimit {
            messages_per_second: 200,
            segments_per_second: 1_000_000,
        });
        let began = Instant::now();
        for _ in 0..20 {
            limiter.acquire(1).await;
        }
        assert!(
            began.elapsed() < Duration::from_millis(20),
            "the burst waited"
        );
        for _ in 0..100 {
            limiter.acquire(1).await;
        }
        let elapsed = began.elapsed().as_secs_f64();
        // 100 after the burst at 200/s: half a second, give or take a timer tick.
        assert!((0.48..0.6).contains(&elapsed), "{elapsed}");
    }

    #[tokio::test]
    async fn a_long_message_takes_all_its_segments() {
        let limiter = Limiter::new(&RateLimit {
            messages_per_second: 1_000_000,
            segments_per_second: 100,
        });
        let began = Instant::now();
        // 10 segments of burst, then 30 more at 100/s.
        for _ in 0..8 {
            limiter.acquire(5).await;
        }
        let elapsed = began.elapsed().as_secs_f64();
        assert!((0.28..0.4).contains(&elapsed), "{elapsed}");
    }
}
