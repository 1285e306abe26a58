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
}
