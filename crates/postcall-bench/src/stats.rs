//! Medians and spreads: the machine is shared and noisy, so one run proves nothing.

pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "a median of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

pub fn min_max(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// Median of per-run ratios: run i of the stage against run i of its baseline.
pub fn ratio(values: &[f64], baseline: &[f64]) -> f64 {
    let ratios: Vec<f64> = values.iter().zip(baseline).map(|(v, b)| v / b).collect();
    median(&ratios)
}

/// The value at quantile `q` (0–1) of `values`, nearest-rank.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    assert!(!values.is_empty(), "a quantile of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// "median (min–max)" with `digits` decimals, for the stderr detail lines.
pub fn describe(values: &[f64], digits: usize) -> String {
    let (min, max) = min_max(values);
    format!(
        "{:.digits$} ({min:.digits$}–{max:.digits$}, n={})",
        median(values),
        values.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_quantiles_and_ratios() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&hundred, 0.99), 99.0);
        assert_eq!(quantile(&hundred, 1.0), 100.0);
        assert_eq!(quantile(&[5.0], 0.99), 5.0);
        assert_eq!(ratio(&[1.0, 3.0, 2.0], &[2.0, 4.0, 2.0]), 0.75);
        assert_eq!(describe(&[1.0, 2.0, 3.0], 1), "2.0 (1.0–3.0, n=3)");
    }
}
