//! Samples of durations (integer µs) that the metrics and charts take order statistics of:
//! every live migration's blackout, brownout and duration, every VM outage.
//!
//! `Durations` keeps one replication's values exactly, in 4 bytes each when they fit in 32
//! bits (below 71.6 min, which every blackout and nearly every pre-copy is) and in 8 bytes
//! otherwise; at 10k hosts a year holds ~5 M migrations, so this halves what the three
//! migration samples cost (~120 MiB as `Vec<u64>`). Sorted once, it answers percentiles,
//! means and maxima with the same f64 arithmetic, in the same order, as sorting a `Vec<f64>`
//! of the scaled values would, without building one.
//!
//! `PooledSample` pools values over replications for the charts with a memory bound: all of
//! them up to `POOLED_SAMPLE_CAP`, then a uniform random sample of that size (reservoir
//! sampling, Vitter's algorithm R, on a keyed stream, fed in replication order, so the same
//! seed gives the same sample whatever the thread count). Runs below the cap chart every
//! value, as before.

use crate::core::rng::{stream, StreamKind, StreamRng};
use rand::Rng;

/// Values pooled for a chart before sampling starts: 1 M (8 MiB at most). An engineering
/// limit: an empirical CDF drawn at 2,000 points or a histogram does not change visibly with
/// more.
pub const POOLED_SAMPLE_CAP: usize = 1_000_000;

/// An exact multiset of µs durations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    /// Values below 2³² µs.
    narrow: Vec<u32>,
    /// The others (each larger than every narrow value).
    wide: Vec<u64>,
    sorted: bool,
}

impl Durations {
    pub fn push(&mut self, us: u64) {
        match u32::try_from(us) {
            Ok(n) => self.narrow.push(n),
            Err(_) => self.wide.push(us),
        }
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.narrow.len() + self.wide.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts the values ascending (needed by the order statistics below).
    pub fn sort(&mut self) {
        self.narrow.sort_unstable();
        self.wide.sort_unstable();
        self.sorted = true;
    }

    /// The `i`-th value: in ascending order once sorted, in an unspecified order otherwise.
    fn get(&self, i: usize) -> u64 {
        match self.narrow.get(i) {
            Some(&n) => u64::from(n),
            None => self.wide[i - self.narrow.len()],
        }
    }

    /// Every value, narrow ones first (ascending once sorted).
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.narrow
            .iter()
            .map(|&n| u64::from(n))
            .chain(self.wide.iter().copied())
    }

    /// The `p`-th percentile of the values divided by `scale`, interpolated between closest
    /// ranks exactly as `stats::percentile_sorted` does on the sorted scaled values; NaN when
    /// empty.
    pub fn percentile(&self, p: f64, scale: f64) -> f64 {
        assert!(self.sorted, "percentile of unsorted durations");
        if self.is_empty() {
            return f64::NAN;
        }
        let x = |i: usize| self.get(i) as f64 / scale;
        let h = (self.len() - 1) as f64 * p / 100.0;
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        x(lo) + (h - lo as f64) * (x(hi) - x(lo))
    }

    /// Mean of the values divided by `scale`, summed in ascending order; NaN when empty.
    pub fn mean(&self, scale: f64) -> f64 {
        assert!(self.sorted, "mean of unsorted durations");
        self.iter().map(|v| v as f64 / scale).sum::<f64>() / self.len() as f64
    }

    /// The largest value divided by `scale`, if any.
    pub fn max(&self, scale: f64) -> Option<f64> {
        assert!(self.sorted, "max of unsorted durations");
        (!self.is_empty()).then(|| self.get(self.len() - 1) as f64 / scale)
    }
}

/// Durations pooled over replications for a chart: all, or a uniform sample of
/// `POOLED_SAMPLE_CAP` of them (see the module doc).
#[derive(Clone, Debug)]
pub struct PooledSample {
    kept: Vec<u64>,
    seen: u64,
    rng: StreamRng,
}

impl PooledSample {
    /// `entity` tells the charts' streams apart.
    pub fn new(seed: u64, entity: u64) -> Self {
        PooledSample {
            kept: Vec::new(),
            seen: 0,
            rng: stream(seed, 0, StreamKind::ChartSample, entity),
        }
    }

    pub fn add(&mut self, values: impl Iterator<Item = u64>) {
        for v in values {
            self.seen += 1;
            if self.kept.len() < POOLED_SAMPLE_CAP {
                self.kept.push(v);
            } else {
                // Algorithm R: the n-th value replaces a random kept one with probability cap/n.
                let j = self.rng.random_range(0..self.seen);
                if let Some(slot) = self.kept.get_mut(j as usize) {
                    *slot = v;
                }
            }
        }
    }

    /// Values pooled in all.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The values kept: all of them, or the sample.
    pub fn kept(&self) -> &[u64] {
        &self.kept
    }

    /// Whether the kept values are a sample rather than all of them.
    pub fn sampled(&self) -> bool {
        self.seen > self.kept.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::percentile_sorted;

    /// Order statistics agree bit for bit with sorting the scaled values as f64, with values
    /// on both sides of 2³² µs.
    #[test]
    fn order_statistics_match_a_sorted_f64_vector() {
        let mut rng = stream(7, 0, StreamKind::ChartSample, 99);
        let mut d = Durations::default();
        let mut raw = Vec::new();
        for i in 0..5_000u64 {
            let v = if i % 7 == 0 {
                (1u64 << 32) + rng.random_range(0..1u64 << 40)
            } else {
                rng.random_range(0..1u64 << 32)
            };
            d.push(v);
            raw.push(v);
        }
        d.sort();
        for scale in [1e3, 1e6, 60e6] {
            let mut f: Vec<f64> = raw.iter().map(|v| *v as f64 / scale).collect();
            f.sort_by(f64::total_cmp);
            for p in [0.0, 1.0, 50.0, 99.0, 99.9, 100.0] {
                assert_eq!(
                    d.percentile(p, scale).to_bits(),
                    percentile_sorted(&f, p).to_bits()
                );
            }
            let mean = f.iter().sum::<f64>() / f.len() as f64;
            assert_eq!(d.mean(scale).to_bits(), mean.to_bits());
            assert_eq!(d.max(scale), f.last().copied());
        }
        assert_eq!(d.len(), 5_000);
        assert!(d.wide.len() > 500 && d.narrow.len() > 4_000);
    }

    #[test]
    fn pooled_sample_keeps_everything_below_the_cap_and_a_uniform_sample_above() {
        let mut p = PooledSample::new(1, 0);
        p.add(0..1_000u64);
        assert_eq!(p.kept(), (0..1_000u64).collect::<Vec<_>>().as_slice());
        assert!(!p.sampled());
        // Past the cap: 3 M values 0..3M, of which a third are below 1 M. A uniform sample of
        // 1 M holds about a third of them (binomial sd ~ 471, so ± 5,000 cannot fail by
        // chance), and the same seed gives the same sample.
        let mut p = PooledSample::new(1, 0);
        p.add(0..3_000_000u64);
        assert_eq!(p.seen(), 3_000_000);
        assert_eq!(p.kept().len(), POOLED_SAMPLE_CAP);
        assert!(p.sampled());
        let low = p.kept().iter().filter(|v| **v < 1_000_000).count() as i64;
        assert!((low - 333_333).abs() < 5_000, "{low}");
        let mut q = PooledSample::new(1, 0);
        q.add(0..3_000_000u64);
        assert_eq!(p.kept(), q.kept());
    }
}
