//! Delays between attempts at something that is down: exponential, jittered, capped, and
//! never-ending (the worker waits for its dependencies instead of exiting). Each schedule the
//! service uses is named here, so a loop says which one it follows instead of two numbers.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Reconnecting to RabbitMQ or PostgreSQL (a session, the pool at start): a broker or
/// database that restarts is back within a few attempts, an outage costs at most 30 s idle.
pub const RECONNECT: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

/// A statement failing inside a loop that otherwise polls often (claiming due messages):
/// the first retry comes soon, a database that stays down is not hammered.
pub const DATABASE_LOOP: Backoff =
    Backoff::new(Duration::from_millis(200), Duration::from_secs(30));

/// Recording a provider's accepted sends: a few quick attempts over ~14 s, within a
/// lease, after which the lease expires and the rescuer takes over.
pub const RECORD_SENDS: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(10),
];

/// A named schedule: the first delay and the longest, jitter included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(min: Duration, max: Duration) -> Self {
        Self { min, max }
    }

    /// The delays from the first one again.
    pub fn delays(self) -> Delays {
        Delays {
            backoff: self,
            inner: Box::new(forever(self.min, self.max)),
        }
    }
}

/// A running schedule: never ends, and starts over when told the thing works again.
pub struct Delays {
    backoff: Backoff,
    inner: Box<dyn Iterator<Item = Duration> + Send + Sync>,
}

impl Delays {
    pub fn next_delay(&mut self) -> Duration {
        self.inner.next().unwrap_or(self.backoff.max)
    }

    pub fn reset(&mut self) {
        *self = self.backoff.delays();
    }
}

pub fn forever(min: Duration, max: Duration) -> impl Iterator<Item = Duration> + Send + Sync {
    ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_jitter()
        .without_max_times()
        .build()
        // backon's jitter adds up to the whole current delay on top of it, so its cap alone
        // let a "30 s" backoff wait 60 s (found by scripts/faults: a worker reconnected
        // 48 s apart during a RabbitMQ outage). `max` is the longest wait, jitter included.
        .map(move |delay| delay.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_waits_longer_than_max_and_still_jitters_below_it() {
        let max = RECONNECT.max;
        let delays: Vec<Duration> = forever(RECONNECT.min, max).take(1000).collect();
        assert!(delays.iter().all(|d| *d <= max), "{delays:?}");
        assert_eq!(delays[999], max);
        let firsts: Vec<Duration> = (0..50).map(|_| RECONNECT.delays().next_delay()).collect();
        assert!(firsts.iter().all(|d| *d >= RECONNECT.min));
        assert!(
            firsts.iter().any(|d| *d != firsts[0]),
            "no jitter: {firsts:?}"
        );
    }

    #[test]
    fn a_reset_starts_from_the_first_delay_again() {
        let mut delays = DATABASE_LOOP.delays();
        for _ in 0..20 {
            delays.next_delay();
        }
        delays.reset();
        assert!(delays.next_delay() <= DATABASE_LOOP.min * 2);
    }
}
