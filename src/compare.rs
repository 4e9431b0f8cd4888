//! `hasim compare`: the same scenario under two policies on common random numbers.
//!
//! Both arms use the same seed, so every keyed failure stream draws the same values in both;
//! the only difference between replication r of A and of B is the policy. Comparing a policy
//! with itself therefore gives a difference of exactly zero.

use crate::engine::InvariantViolation;
use crate::metrics::paired::{paired, PairedDiff};
use crate::metrics::summary::{registry, Interval};
use crate::runner::{run, RunResult};
use crate::scenario::model::Model;

/// The two arms and the per-metric comparison, in registry order.
pub struct Comparison {
    pub policy_a: String,
    pub policy_b: String,
    pub a: RunResult,
    pub b: RunResult,
    pub rows: Vec<(String, &'static str, PairedDiff)>,
    /// Metrics of the registry with no replication in which both arms define them (no live
    /// migration completed in either, say): `compare.csv` lists them with empty cells.
    pub undefined: Vec<(String, &'static str)>,
}

/// Runs both models (identical but for the policy) and compares every metric on the
/// replications where both arms define it.
pub fn compare(
    model_a: &Model,
    model_b: &Model,
    threads: Option<usize>,
) -> Result<Comparison, InvariantViolation> {
    Ok(from_results(
        model_a,
        model_b,
        run(model_a, threads)?,
        run(model_b, threads)?,
    ))
}

/// Compares two finished runs of the same scenario and seed.
pub fn from_results(model_a: &Model, model_b: &Model, a: RunResult, b: RunResult) -> Comparison {
    let (mut rows, mut undefined) = (Vec::new(), Vec::new());
    // Derived metrics (nines) have no per-replication values to pair: not compared.
    for def in registry()
        .into_iter()
        .filter(|d| d.interval != Interval::Derived)
    {
        // Pair only replications where both arms have the metric (recovery time needs an outage).
        let (xs, ys): (Vec<f64>, Vec<f64>) = a
            .per_replication
            .iter()
            .zip(&b.per_replication)
            .filter_map(|(ra, rb)| Some((*ra.get(&def.name)?, *rb.get(&def.name)?)))
            .unzip();
        if xs.is_empty() {
            undefined.push((def.name, def.unit));
        } else {
            rows.push((def.name, def.unit, paired(&xs, &ys)));
        }
    }
    Comparison {
        policy_a: model_a.policy.name().to_string(),
        policy_b: model_b.policy.name().to_string(),
        a,
        b,
        rows,
        undefined,
    }
}
