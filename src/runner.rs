//! Replications: run them (in parallel with rayon), collect them in replication order, and
//! aggregate. Thread count never changes a number: each replication's randomness is keyed by its
//! index, and results are combined in index order.

use crate::engine::{InvariantViolation, ReplicationOutput, Simulation};
use crate::metrics::stats::mean_ci95;
use crate::metrics::summary::{
    aggregate, concurrency_fractions, replication_metrics, MetricSummary,
};
use crate::scenario::model::Model;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Everything a run produced, in replication order.
pub struct RunResult {
    pub outputs: Vec<ReplicationOutput>,
    pub per_replication: Vec<BTreeMap<String, f64>>,
    pub metrics: BTreeMap<String, MetricSummary>,
    /// Mean and interval of the time fraction with exactly k hosts down, k = index.
    pub hosts_down_concurrency: Vec<MetricSummary>,
}

impl RunResult {
    pub fn events_total(&self) -> u64 {
        self.outputs.iter().map(|o| o.events).sum()
    }
}

/// Runs replication `r` alone (tests and replays use this). Replication 0 also records the
/// hosts/VMs-down timeline that the timeline plot draws.
pub fn run_replication(model: &Model, r: u32) -> Result<ReplicationOutput, InvariantViolation> {
    let sim = Simulation::new(model, r);
    if r == 0 {
        sim.with_timeline().run()
    } else {
        sim.run()
    }
}

/// Runs all replications of `model` on `threads` worker threads (None: all cores).
pub fn run(model: &Model, threads: Option<usize>) -> Result<RunResult, InvariantViolation> {
    run_with_progress(model, threads, &|| {})
}

/// `run`, calling `done` once per finished replication (from worker threads, in any order).
pub fn run_with_progress(
    model: &Model,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
) -> Result<RunResult, InvariantViolation> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n.max(1));
    }
    let pool = builder.build().expect("thread pool");
    let reps = model.simulation.replications;
    let results: Vec<Result<ReplicationOutput, InvariantViolation>> = pool.install(|| {
        (0..reps)
            .into_par_iter()
            .map(|r| {
                let out = run_replication(model, r);
                done();
                out
            })
            .collect()
    });
    let outputs = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(summarise(outputs))
}

/// Aggregates replication outputs given in replication order.
pub fn summarise(outputs: Vec<ReplicationOutput>) -> RunResult {
    let per_replication: Vec<_> = outputs.iter().map(replication_metrics).collect();
    let metrics = aggregate(&per_replication);
    let fractions: Vec<Vec<f64>> = outputs.iter().map(concurrency_fractions).collect();
    let kmax = fractions.iter().map(Vec::len).max().unwrap_or(0);
    let hosts_down_concurrency = (0..kmax)
        .map(|k| {
            let xs: Vec<f64> = fractions
                .iter()
                .map(|f| f.get(k).copied().unwrap_or(0.0))
                .collect();
            let (mean, ci95) = mean_ci95(&xs);
            MetricSummary {
                mean,
                ci95,
                unit: "fraction of time",
            }
        })
        .collect();
    RunResult {
        outputs,
        per_replication,
        metrics,
        hosts_down_concurrency,
    }
}

/// Runs replication `r` recording every observation its policy receives (for the adapter).
pub fn run_recorded(
    model: &Model,
    r: u32,
) -> Result<(ReplicationOutput, Vec<crate::engine::RecordedStep>), InvariantViolation> {
    Simulation::new(model, r).with_recorder().run_recorded()
}
