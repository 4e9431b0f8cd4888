//! Duration distributions that scenarios name (`exponential`, `weibull`, `lognormal`, `gamma`,
//! `uniform`, `fixed`, `empirical`) and their sampling into integer microseconds.
//!
//! Parameters are validated when the scenario is read, so sampling cannot fail. Samples are
//! rounded to whole microseconds and floored at 1 µs: a zero-length up-time would let a host fail
//! twice at one instant, which no real host does.

use crate::core::time::{SimDuration, US_PER_S};
use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Weibull};
use std::sync::Arc;

/// A validated distribution over durations. Time parameters are in seconds (`f64`), converted
/// once from the scenario's integer durations.
#[derive(Clone, Debug)]
pub enum DurationDist {
    Exponential {
        mean_s: f64,
    },
    Weibull {
        shape: f64,
        scale_s: f64,
    },
    /// `ln X ~ Normal(mu, sigma)` with `mu = ln(median in seconds)`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale_s: f64,
    },
    Uniform {
        min_s: f64,
        max_s: f64,
    },
    Fixed {
        value: SimDuration,
    },
    /// Resampled uniformly from the observed values (the empirical distribution).
    Empirical {
        values: Arc<Vec<SimDuration>>,
    },
}

impl DurationDist {
    /// The mean, in seconds: what steady-state availability depends on.
    pub fn mean_s(&self) -> f64 {
        match self {
            DurationDist::Exponential { mean_s } => *mean_s,
            DurationDist::Weibull { shape, scale_s } => scale_s * gamma_fn(1.0 + 1.0 / shape),
            DurationDist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            DurationDist::Gamma { shape, scale_s } => shape * scale_s,
            DurationDist::Uniform { min_s, max_s } => (min_s + max_s) / 2.0,
            DurationDist::Fixed { value } => value.as_secs_f64(),
            DurationDist::Empirical { values } => {
                values.iter().map(|v| v.as_secs_f64()).sum::<f64>() / values.len() as f64
            }
        }
    }

    /// A duration: the sample rounded to whole microseconds, at least 1 µs.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            DurationDist::Fixed { value } => (*value).max(SimDuration(1)),
            DurationDist::Empirical { values } => {
                values[rng.random_range(0..values.len())].max(SimDuration(1))
            }
            _ => SimDuration::from_secs_f64_round(self.sample_raw(rng)).max(SimDuration(1)),
        }
    }

    /// A sample in the distribution's own unit (seconds for durations, MiB/s for the rate
    /// inputs that share this type) on the same 1e-6 grid as `sample`, but without its 1 µs
    /// floor: a fixed 0 stays 0.
    pub fn sample_value<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        SimDuration::from_secs_f64_round(self.sample_raw(rng)).as_secs_f64()
    }

    fn sample_raw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            DurationDist::Exponential { mean_s } => {
                Exp::new(1.0 / mean_s).expect("validated").sample(rng)
            }
            DurationDist::Weibull { shape, scale_s } => Weibull::new(*scale_s, *shape)
                .expect("validated")
                .sample(rng),
            DurationDist::LogNormal { mu, sigma } => {
                LogNormal::new(*mu, *sigma).expect("validated").sample(rng)
            }
            DurationDist::Gamma { shape, scale_s } => {
                Gamma::new(*shape, *scale_s).expect("validated").sample(rng)
            }
            DurationDist::Uniform { min_s, max_s } => {
                if max_s > min_s {
                    rng.random_range(*min_s..*max_s)
                } else {
                    *min_s
                }
            }
            DurationDist::Fixed { value } => value.as_secs_f64(),
            DurationDist::Empirical { values } => {
                values[rng.random_range(0..values.len())].as_secs_f64()
            }
        }
    }
}

/// Lanczos approximation of Γ(x) for x > 0 (g = 7, n = 9), accurate to ~1e-15 relative; used
/// only to report the mean of a Weibull distribution.
pub fn gamma_fn(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x))
    } else {
        let x = x - 1.0;
        let mut a = C[0];
        let t = x + G + 0.5;
        for (i, c) in C.iter().enumerate().skip(1) {
            a += c / (x + i as f64);
        }
        (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
    }
}

/// Seconds in a `SimDuration`, for distribution parameters.
pub fn secs(d: SimDuration) -> f64 {
    d.as_us() as f64 / US_PER_S as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{stream, StreamKind};

    #[test]
    fn gamma_function_known_values() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-10);
        assert!((gamma_fn(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        // Weibull(k=0.48, λ=816.60 h) mean from failure-data.md: 1766.1 h (§3 item 1 uses it).
        let m = 816.60 * gamma_fn(1.0 + 1.0 / 0.48);
        assert!((m - 1766.1).abs() < 1.0, "{m}");
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let dists = [
            DurationDist::Exponential { mean_s: 3600.0 },
            DurationDist::Weibull {
                shape: 0.7,
                scale_s: 3600.0,
            },
            DurationDist::LogNormal {
                mu: 3600f64.ln(),
                sigma: 1.0,
            },
            DurationDist::Gamma {
                shape: 2.0,
                scale_s: 1800.0,
            },
            DurationDist::Uniform {
                min_s: 60.0,
                max_s: 180.0,
            },
        ];
        for d in dists {
            let mut rng = stream(7, 0, StreamKind::HostRepair, 0);
            let n = 200_000;
            let mean = (0..n)
                .map(|_| d.sample(&mut rng).as_secs_f64())
                .sum::<f64>()
                / n as f64;
            let rel = (mean - d.mean_s()).abs() / d.mean_s();
            assert!(rel < 0.03, "{d:?}: sample mean {mean} vs {}", d.mean_s());
        }
    }
}
