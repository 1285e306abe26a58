//! The one result line per stage: `STAGE rate=<n>/s baseline=<n>/s ratio=<r> p99=<ms>
//! rss=<MiB>`, fields that do not apply left out, stage-specific `key=value` fields after.

use std::fmt;

#[derive(Debug, Clone, Default)]
pub struct Line {
    pub stage: &'static str,
    /// Items per second: the median over runs.
    pub rate: Option<f64>,
    pub baseline: Option<f64>,
    /// Median of the per-run ratios (each pairs two measurements taken seconds apart), so
    /// not always `rate / baseline` of the medians.
    pub ratio: Option<f64>,
    pub p99_ms: Option<f64>,
    pub rss_mib: Option<f64>,
    /// More figures, printed in this order as `key=value`; values carry their own unit.
    pub extra: Vec<(&'static str, String)>,
}

impl Line {
    pub fn new(stage: &'static str) -> Self {
        Self {
            stage,
            ..Self::default()
        }
    }

    pub fn with(mut self, key: &'static str, value: impl fmt::Display) -> Self {
        self.extra.push((key, value.to_string()));
        self
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.stage)?;
        if let Some(rate) = self.rate {
            write!(f, " rate={rate:.0}/s")?;
        }
        if let Some(baseline) = self.baseline {
            write!(f, " baseline={baseline:.0}/s")?;
        }
        if let Some(ratio) = self.ratio {
            write!(f, " ratio={}", two_significant(ratio))?;
        }
        if let Some(p99) = self.p99_ms {
            write!(f, " p99={p99:.1}")?;
        }
        if let Some(rss) = self.rss_mib {
            write!(f, " rss={rss:.1}")?;
        }
        for (key, value) in &self.extra {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

/// Two decimals, or as many as two significant digits need: a loaded machine can put a
/// ratio below 0.005, which two decimals would print as a meaningless `0.00`.
pub fn two_significant(x: f64) -> String {
    let decimals = if x > 0.0 && x < 0.1 {
        (1.0 - x.log10().floor()) as usize
    } else {
        2
    };
    format!("{x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_left_out() {
        let line = Line {
            rate: Some(1234.4),
            baseline: Some(2000.0),
            ratio: Some(0.617),
            ..Line::new("ingest")
        }
        .with("drain_1m", "41.2s");
        assert_eq!(
            line.to_string(),
            "ingest rate=1234/s baseline=2000/s ratio=0.62 drain_1m=41.2s"
        );
        let memory = Line {
            rss_mib: Some(31.04),
            ..Line::new("memory")
        };
        assert_eq!(memory.to_string(), "memory rss=31.0");
    }

    #[test]
    fn a_small_ratio_keeps_two_significant_digits() {
        assert_eq!(two_significant(0.617), "0.62");
        assert_eq!(two_significant(0.1), "0.10");
        assert_eq!(two_significant(0.0917), "0.092");
        assert_eq!(two_significant(0.00417), "0.0042");
        assert_eq!(two_significant(0.0), "0.00");
        assert_eq!(two_significant(1.25), "1.25");
    }
}
