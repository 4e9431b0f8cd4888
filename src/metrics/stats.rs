//! Small, exact statistics: mean, sample standard deviation, Student-t confidence intervals and
//! percentiles. Used on per-replication values (which are independent) — never on per-VM values
//! of one replication, which share hosts and are correlated.

use statrs::distribution::{ContinuousCDF, StudentsT};

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n − 1 denominator).
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// The two-sided `level` quantile of Student's t with `df` degrees of freedom (e.g. 0.95 →
/// t_{0.975, df}).
pub fn t_quantile(level: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(0.5 + level / 2.0)
}

/// Mean and 95 % Student-t interval; `None` for the interval with fewer than 2 values.
pub fn mean_ci95(xs: &[f64]) -> (f64, Option<(f64, f64)>) {
    let m = mean(xs);
    if xs.len() < 2 {
        return (m, None);
    }
    let half = t_quantile(0.95, (xs.len() - 1) as f64) * std_dev(xs) / (xs.len() as f64).sqrt();
    (m, Some((m - half, m + half)))
}

/// Wilson score 95 % interval for a proportion of `hits` in `n` trials (Wilson 1927). Unlike
/// the normal approximation it stays inside [0, 1] and is sensible at 0 or n hits, which is
/// what rare events ("some VM missed its SLA this year") produce.
pub fn wilson_ci95(hits: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054;
    let (nf, p) = (n as f64, hits as f64 / n as f64);
    let denom = 1.0 + z * z / nf;
    let centre = (p + z * z / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Percentile by linear interpolation between closest ranks (Hyndman & Fan type 7, the default
/// of R and numpy). `sorted` must be ascending; `p` in [0, 100].
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Standard two-sided 95 % critical values.
        for (df, t) in [
            (1.0, 12.7062),
            (4.0, 2.7764),
            (19.0, 2.0930),
            (100.0, 1.9840),
        ] {
            assert!((t_quantile(0.95, df) - t).abs() < 1e-3, "df {df}");
        }
    }

    #[test]
    fn percentiles_interpolate() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_sorted(&xs, 0.0), 1.0);
        assert_eq!(percentile_sorted(&xs, 50.0), 2.5);
        assert_eq!(percentile_sorted(&xs, 100.0), 4.0);
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Table I: 0/10 → [0, 0.2775]; 1/10 → [0.0179, 0.4042]; 81/263 →
        // [0.2553, 0.3662].
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4;
        assert!(
            close(wilson_ci95(0, 10), (0.0, 0.2775)),
            "{:?}",
            wilson_ci95(0, 10)
        );
        assert!(
            close(wilson_ci95(1, 10), (0.0179, 0.4042)),
            "{:?}",
            wilson_ci95(1, 10)
        );
        assert!(
            close(wilson_ci95(81, 263), (0.2553, 0.3662)),
            "{:?}",
            wilson_ci95(81, 263)
        );
    }

    #[test]
    fn ci_of_known_sample() {
        let (m, ci) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        let (lo, hi) = ci.unwrap();
        // s = 1.5811, t_{0.975,4} = 2.7764: half width 1.9632.
        assert!((hi - 3.0 - 1.9632).abs() < 1e-3 && (3.0 - lo - 1.9632).abs() < 1e-3);
    }
}
