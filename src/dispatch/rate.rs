//! Per-provider rate limits, in messages and in segments (what providers bill and
//! throttle) per second; every send of this replica waits for both.

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};

use crate::config::RateLimit;

pub struct Limiter {
    messages: DefaultDirectRateLimiter,
    segments: DefaultDirectRateLimiter,
    segment_burst: NonZeroU32,
}

impl Limiter {
    pub fn new(settings: &RateLimit) -> Self {
        let per_second = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let segment_burst = per_second(settings.segments_per_second);
        Self {
            messages: RateLimiter::direct(Quota::per_second(per_second(
                settings.messages_per_second,
            ))),
            segments: RateLimiter::direct(Quota::per_second(segment_burst)),
            segment_burst,
        }
    }

    /// Waits until one message of `segments` segments may go. A little jitter spreads the
    /// senders that wake together, so they take turns rather than stampede.
    pub async fn acquire(&self, segments: u32) {
        let jitter = Jitter::up_to(Duration::from_millis(5));
        self.messages.until_ready_with_jitter(jitter).await;
        // A message longer than a whole second's allowance waits for a full bucket.
        let n = NonZeroU32::new(segments)
            .unwrap_or(NonZeroU32::MIN)
            .min(self.segment_burst);
        // `n` never exceeds the burst, so capacity is always sufficient.
        let _ = self.segments.until_n_ready_with_jitter(n, jitter).await;
    }
}
