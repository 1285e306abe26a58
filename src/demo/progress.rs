//! The progress bar through the demo's stages, drawn only on a terminal, and the bounded
//! waits behind it: a stage that stops moving fails with its name and what it saw.

use std::{
    future::Future,
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    stage_started: Instant,
}

impl Progress {
    /// Drawn on stdout when it is a terminal; otherwise only the stage lines print.
    pub fn new() -> Self {
        let target = if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(
            "  {spinner} {msg:<15} [{bar:32.cyan/blue}] {pos:>5}/{len:<5} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        Self {
            bar,
            stage_started: Instant::now(),
        }
    }

    pub fn stage(&mut self, name: &'static str, length: u64) {
        self.bar.set_message(name);
        self.bar.set_length(length);
        self.bar.set_position(0);
        self.stage_started = Instant::now();
    }

    pub fn set(&self, position: u64) {
        self.bar.set_position(position);
    }

    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// A finished stage's line, printed above the bar, with how long the stage took.
    pub fn done(&self, text: impl AsRef<str>) {
        let took = self.stage_started.elapsed().as_secs_f64();
        self.say(format!("  ✓ {} ({took:.1} s)", text.as_ref()));
    }

    /// Any line, printed above the bar (or alone when there is none).
    pub fn say(&self, text: impl AsRef<str>) {
        self.bar.suspend(|| println!("{}", text.as_ref()));
    }

    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

/// Polls `count` until it reaches `target`, failing when it has not moved for `stall`.
/// `what` names the stage and `hint` says what usually stops it.
pub async fn reach<F, Fut>(
    progress: &Progress,
    what: &str,
    target: u64,
    stall: Duration,
    hint: &str,
    mut count: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<i64>>,
{
    let mut last = (0u64, Instant::now());
    loop {
        let n = count().await?.max(0) as u64;
        progress.set(n);
        if n >= target {
            return Ok(());
        }
        if n != last.0 {
            last = (n, Instant::now());
        } else if last.1.elapsed() > stall {
            anyhow::bail!(
                "{what} stalled: {n} of {target} after {} s without progress; {hint}",
                stall.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stage_that_stops_moving_fails_naming_itself_and_what_it_saw() {
        let progress = Progress::new();
        let started = Instant::now();
        let stalled = reach(
            &progress,
            "ingest",
            10,
            Duration::from_millis(200),
            "a hint",
            || async { Ok(3) },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(stalled.starts_with("ingest stalled: 3 of 10"), "{stalled}");
        assert!(stalled.ends_with("a hint"), "{stalled}");
    }

    #[tokio::test]
    async fn a_stage_that_keeps_moving_is_given_its_time() {
        let progress = Progress::new();
        let mut n = 0;
        reach(
            &progress,
            "sending",
            8,
            Duration::from_millis(120),
            "",
            || {
                n += 1;
                async move { Ok(n) }
            },
        )
        .await
        .unwrap();
    }
}
