//! What /proc says about a process: resident memory and CPU time, and where the machine's
//! CPU went over a window (the bench, PostgreSQL, RabbitMQ, everything).

use std::time::{Duration, Instant};

/// USER_HZ: /proc reports CPU time in these ticks; 100 on every mainstream Linux build.
const TICKS_PER_SECOND: f64 = 100.0;

/// Resident set size of `pid` ("self" for this process) in MiB, from /proc/PID/status.
pub fn rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[derive(Clone, Copy, Default, Debug)]
pub struct CpuTicks {
    pub bench: u64,
    pub postgres: u64,
    pub rabbitmq: u64,
    pub machine_busy: u64,
}

/// Cores used over a window. `machine` includes other tenants of this shared machine.
#[derive(Clone, Copy, Default, Debug)]
pub struct CpuUse {
    pub bench: f64,
    pub postgres: f64,
    pub rabbitmq: f64,
    pub machine: f64,
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cores: bench {:.2}, postgres {:.2}, rabbitmq {:.2}, machine {:.2}",
            self.bench, self.postgres, self.rabbitmq, self.machine
        )
    }
}

pub fn cpu_ticks() -> CpuTicks {
    let mut t = CpuTicks {
        bench: process_ticks("self").unwrap_or(0),
        machine_busy: machine_busy_ticks().unwrap_or(0),
        ..Default::default()
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return t;
    };
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        match comm.trim() {
            "postgres" => t.postgres += process_ticks(&pid).unwrap_or(0),
            "beam.smp" => t.rabbitmq += process_ticks(&pid).unwrap_or(0),
            _ => {}
        }
    }
    t
}

/// utime + stime from /proc/PID/stat (fields 14 and 15; the name in field 2 may hold
/// spaces, so count from the closing parenthesis).
pub fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// All CPUs' non-idle ticks from /proc/stat (idle and iowait excluded).
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let values: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().sum();
    Some(total - values.get(3)? - values.get(4)?)
}

/// A started clock with the CPU counters at its start.
pub struct Window {
    started: Instant,
    ticks: CpuTicks,
}

impl Window {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            ticks: cpu_ticks(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Items per second over the window, with the CPU used meanwhile.
    pub fn finish(self, items: usize) -> Rate {
        let elapsed = self.started.elapsed();
        let to = cpu_ticks();
        Rate {
            per_second: items as f64 / elapsed.as_secs_f64(),
            elapsed,
            cpu: cpu_use(self.ticks, to, elapsed),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_second: f64,
    pub elapsed: Duration,
    pub cpu: CpuUse,
}

fn cpu_use(from: CpuTicks, to: CpuTicks, window: Duration) -> CpuUse {
    let cores =
        |a: u64, b: u64| b.saturating_sub(a) as f64 / TICKS_PER_SECOND / window.as_secs_f64();
    CpuUse {
        bench: cores(from.bench, to.bench),
        postgres: cores(from.postgres, to.postgres),
        rabbitmq: cores(from.rabbitmq, to.rabbitmq),
        machine: cores(from.machine_busy, to.machine_busy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let rss = rss_mib("self").expect("VmRSS of this process");
        assert!(rss > 0.5 && rss < 4096.0, "{rss} MiB");
        assert!(process_ticks("self").is_some());
    }
}
