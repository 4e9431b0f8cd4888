//! Paired comparison of two arms run on common random numbers: replication r of arm A and
//! replication r of arm B saw the same failure draws, so B − A per replication removes the
//! shared noise. The unpaired (Welch) interval on the same data is reported beside it to show
//! what pairing buys.

use super::stats::{mean, std_dev, t_quantile};

/// One metric compared across two arms.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedDiff {
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean(B − A) over paired replications.
    pub mean_diff: f64,
    /// 95 % paired-t interval of mean(B − A); `None` with fewer than 2 pairs.
    pub paired_ci95: Option<(f64, f64)>,
    /// 95 % Welch interval of mean(B) − mean(A), ignoring the pairing.
    pub unpaired_ci95: Option<(f64, f64)>,
    /// Pearson correlation of A and B across replications; `None` when either is constant.
    pub correlation: Option<f64>,
    pub pairs: usize,
}

/// Compares per-replication values given in replication order.
pub fn paired(a: &[f64], b: &[f64]) -> PairedDiff {
    assert_eq!(a.len(), b.len(), "paired arms need the same replications");
    let n = a.len();
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let mean_diff = mean(&d);
    let paired_ci95 = (n >= 2).then(|| {
        let half = t_quantile(0.95, (n - 1) as f64) * std_dev(&d) / (n as f64).sqrt();
        (mean_diff - half, mean_diff + half)
    });
    let unpaired_ci95 = (n >= 2).then(|| {
        let (va, vb) = (std_dev(a).powi(2) / n as f64, std_dev(b).powi(2) / n as f64);
        let se = (va + vb).sqrt();
        let diff = mean(b) - mean(a);
        if se == 0.0 {
            return (diff, diff);
        }
        // Welch–Satterthwaite degrees of freedom.
        let df = (va + vb).powi(2) / (va * va / (n - 1) as f64 + vb * vb / (n - 1) as f64);
        let half = t_quantile(0.95, df) * se;
        (diff - half, diff + half)
    });
    let correlation = (n >= 2).then(|| {
        let (ma, mb) = (mean(a), mean(b));
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let (sa, sb): (f64, f64) = (
            a.iter().map(|x| (x - ma).powi(2)).sum::<f64>().sqrt(),
            b.iter().map(|y| (y - mb).powi(2)).sum::<f64>().sqrt(),
        );
        (sa > 0.0 && sb > 0.0).then(|| cov / (sa * sb))
    });
    PairedDiff {
        mean_a: mean(a),
        mean_b: mean(b),
        mean_diff,
        paired_ci95,
        unpaired_ci95,
        correlation: correlation.flatten(),
        pairs: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_arms_differ_by_exactly_zero() {
        let a = [1.0, 2.5, 3.0, 7.0];
        let p = paired(&a, &a);
        assert_eq!(p.mean_diff, 0.0);
        assert_eq!(p.paired_ci95, Some((0.0, 0.0)));
        assert!((p.correlation.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pairing_removes_shared_noise() {
        // B = A + 1 + small noise: the shared part is large, the difference nearly constant.
        let a = [10.0, 20.0, 15.0, 30.0, 25.0, 12.0];
        let b = [11.1, 20.9, 16.0, 31.05, 25.95, 13.0];
        let p = paired(&a, &b);
        let (pl, ph) = p.paired_ci95.unwrap();
        let (ul, uh) = p.unpaired_ci95.unwrap();
        assert!(pl < 1.0 && 1.0 < ph);
        assert!(
            ph - pl < (uh - ul) / 10.0,
            "paired {pl}..{ph} vs unpaired {ul}..{uh}"
        );
        assert!(p.correlation.unwrap() > 0.99);
    }
}
