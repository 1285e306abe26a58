//! Delays between attempts at something that is down: exponential, jittered, capped, and
//! never-ending (the worker waits for its dependencies instead of exiting).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

pub fn forever(min: Duration, max: Duration) -> impl Iterator<Item = Duration> {
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
        let max = Duration::from_secs(30);
        let delays: Vec<Duration> = forever(Duration::from_millis(500), max)
            .take(1000)
            .collect();
        assert!(delays.iter().all(|d| *d <= max), "{delays:?}");
        assert_eq!(delays[999], max);
        let firsts: Vec<Duration> = (0..50)
            .map(|_| forever(Duration::from_millis(500), max).next().unwrap())
            .collect();
        assert!(firsts.iter().all(|d| *d >= Duration::from_millis(500)));
        assert!(
            firsts.iter().any(|d| *d != firsts[0]),
            "no jitter: {firsts:?}"
        );
    }
}
