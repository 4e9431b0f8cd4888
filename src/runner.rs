//! Replications: run them in parallel on a rayon pool, hand each output to the caller's sink in
//! replication order as soon as it and every earlier one are done, reduce it into the run's
//! compact `RunResult`, and drop it. Memory is bounded by the worker count, not by `-n`.
//!
//! Thread count never changes a number: each replication's randomness is keyed by its index,
//! and sinks and reductions see the outputs in index order whatever order they finish in.

use crate::engine::{InvariantViolation, ReplicationOutput, Simulation};
use crate::metrics::pooled::{ChartData, ReplicationStats};
use crate::metrics::stats::mean_ci95;
use crate::metrics::summary::{
    aggregate, clamp_to_range, concurrency_fractions, replication_metrics, MetricSummary,
    FRACTION_OF_TIME,
};
use crate::scenario::model::Model;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{mpsc, Condvar, Mutex, PoisonError};

/// What a run keeps once every replication's output has been consumed, in replication order.
pub struct RunResult {
    /// Each replication's counters (events, HA, maintenance).
    pub replications: Vec<ReplicationStats>,
    pub per_replication: Vec<BTreeMap<String, f64>>,
    /// Each replication's time fractions with exactly k hosts down (k = index).
    pub per_replication_concurrency: Vec<Vec<f64>>,
    /// The replications this result holds: all of the run's (`0..n`), or one shard of them.
    pub range: Range<u32>,
    pub metrics: BTreeMap<String, MetricSummary>,
    /// Mean and interval of the time fraction with exactly k hosts down, k = index.
    pub hosts_down_concurrency: Vec<MetricSummary>,
    /// The charts' inputs, pooled over replications.
    pub charts: ChartData,
}

impl RunResult {
    pub fn events_total(&self) -> u64 {
        self.replications.iter().map(|r| r.events).sum()
    }

    /// Whether this result holds only some of the run's replications (`--replications A..B`).
    pub fn is_shard(&self, model: &Model) -> bool {
        self.range != (0..model.simulation.replications)
    }
}

/// Why a streamed run stopped.
#[derive(Debug)]
pub enum RunError {
    /// A replication broke an invariant (the lowest-numbered one that did).
    Invariant(InvariantViolation),
    /// The sink failed (writing a table).
    Sink(std::io::Error),
}

/// Consumes each replication's output, in replication order, before it is dropped.
pub type Sink<'a> = dyn FnMut(&ReplicationOutput) -> std::io::Result<()> + 'a;

/// Runs replication `r` alone (tests and replays use this). Replication 0 also records the
/// hosts/VMs-down timeline that the timeline plot draws.
pub fn run_replication(model: &Model, r: u32) -> Result<ReplicationOutput, InvariantViolation> {
    let sim = Simulation::with_policy(model, r, policy_for(model, r)?);
    if r == 0 {
        sim.with_timeline().run()
    } else {
        sim.run()
    }
}

/// The policy replication `r` runs under: the built-in one, or the model's external
/// controller (a process of its own for this replication).
pub fn policy_for(
    model: &Model,
    r: u32,
) -> Result<Box<dyn crate::policy::api::Policy>, InvariantViolation> {
    use crate::adapters::external::{ExternalPolicy, RunContext};
    use crate::policy::PolicyConfig;
    match &model.policy {
        PolicyConfig::External(cfg) => {
            let ctx = RunContext {
                scenario: model.name.clone(),
                seed: model.simulation.seed,
                replication: r,
            };
            match ExternalPolicy::new(cfg, ctx) {
                Ok(p) => Ok(Box::new(p)),
                Err(message) => Err(InvariantViolation {
                    replication: r,
                    time: crate::core::time::SimTime::ZERO,
                    message: format!("external controller: {message}"),
                    kind: crate::engine::ViolationKind::Controller,
                }),
            }
        }
        builtin => Ok(builtin.build().expect("a built-in policy")),
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
    match run_streaming(model, threads, done, &mut |_| Ok(())) {
        Ok(r) => Ok(r),
        Err(RunError::Invariant(v)) => Err(v),
        Err(RunError::Sink(e)) => unreachable!("the empty sink cannot fail: {e}"),
    }
}

/// Folds replication outputs, given in replication order, into a `RunResult`.
pub struct Reducer<'m> {
    model: &'m Model,
    range: Range<u32>,
    replications: Vec<ReplicationStats>,
    per_replication: Vec<BTreeMap<String, f64>>,
    concurrency: Vec<Vec<f64>>,
    charts: ChartData,
}

impl<'m> Reducer<'m> {
    pub fn new(model: &'m Model) -> Self {
        Self::for_range(model, 0..model.simulation.replications)
    }

    /// A reducer of the replications `range` only (one shard of the run).
    pub fn for_range(model: &'m Model, range: Range<u32>) -> Self {
        Reducer {
            model,
            range,
            replications: Vec::new(),
            per_replication: Vec::new(),
            concurrency: Vec::new(),
            charts: ChartData::new(model),
        }
    }

    /// Adds the next replication's output and drops it.
    pub fn add(&mut self, mut out: ReplicationOutput) {
        // Here, on the thread that reduces, rather than in the engine that simulates.
        out.sort_samples();
        self.replications.push(ReplicationStats::of(&out));
        self.per_replication.push(replication_metrics(&out));
        self.concurrency.push(concurrency_fractions(&out));
        self.charts.add(self.model, out);
    }

    pub fn finish(self) -> RunResult {
        RunResult::from_parts(
            self.range,
            self.replications,
            self.per_replication,
            self.concurrency,
            self.charts,
        )
    }
}

impl RunResult {
    /// The result of the replications `range` from their per-replication values, in
    /// replication order: the metrics and concurrency intervals are computed from them alone,
    /// so a run merged from its shards' values equals the run made at once.
    pub fn from_parts(
        range: Range<u32>,
        replications: Vec<ReplicationStats>,
        per_replication: Vec<BTreeMap<String, f64>>,
        concurrency: Vec<Vec<f64>>,
        charts: ChartData,
    ) -> RunResult {
        let metrics = aggregate(&per_replication);
        let kmax = concurrency.iter().map(Vec::len).max().unwrap_or(0);
        let hosts_down_concurrency = (0..kmax)
            .map(|k| {
                let xs: Vec<f64> = concurrency
                    .iter()
                    .map(|f| f.get(k).copied().unwrap_or(0.0))
                    .collect();
                let (mean, ci95) = mean_ci95(&xs);
                MetricSummary {
                    mean,
                    ci95: ci95.map(|c| clamp_to_range(c, FRACTION_OF_TIME)),
                    unit: FRACTION_OF_TIME,
                }
            })
            .collect();
        RunResult {
            replications,
            per_replication,
            per_replication_concurrency: concurrency,
            range,
            metrics,
            hosts_down_concurrency,
            charts,
        }
    }
}

/// Aggregates replication outputs given in replication order.
pub fn summarise(model: &Model, outputs: impl IntoIterator<Item = ReplicationOutput>) -> RunResult {
    let mut reducer = Reducer::new(model);
    for out in outputs {
        reducer.add(out);
    }
    reducer.finish()
}

/// Replications a worker may start beyond the workers' count while the oldest unconsumed one
/// is still running or waiting for its turn.
const LOOKAHEAD: usize = 2;

/// Shared between the workers and the consumer of `run_streaming`.
struct Window {
    /// The next replication to start.
    next: u32,
    /// Replications handed to the sink so far (all below this index).
    consumed: u32,
    /// Set when the run stops early (an error, or a worker's panic): start nothing more.
    stop: bool,
}

/// Stops the run if the thread holding it unwinds (a worker, or the sink on the calling
/// thread), so no worker waits for a window that will never move (the scope then re-raises the
/// panic once every worker has returned).
struct StopOnPanic<'a>(&'a (Mutex<Window>, Condvar));

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let (lock, cv) = self.0;
            lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
            cv.notify_all();
        }
    }
}

/// Runs all replications on `threads` workers (None: all cores), calling `done` once per
/// finished replication (from worker threads, in any order) and `sink` with each output in
/// replication order, on the calling thread, as soon as it and every earlier one are done. The
/// sink runs concurrently with the simulations of later replications.
///
/// Memory is bounded by a reorder window rather than by running in chunks: a worker may start
/// replication r only while r < consumed + workers + `LOOKAHEAD`, so at most that many outputs
/// are alive at once (running, finished and waiting for an earlier one, or in the sink).
/// Chunks of `workers` replications would also bound memory, but every chunk would wait for
/// its slowest replication, and replications differ in length (failures and migrations drive
/// the event count); the window lets the other workers run ahead by `LOOKAHEAD` meanwhile.
///
/// The first error in replication order ends the run: an invariant violation (the
/// lowest-numbered failing replication, as if all had run) or the sink's error. Replications
/// already running finish and are discarded.
pub fn run_streaming(
    model: &Model,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
    sink: &mut Sink<'_>,
) -> Result<RunResult, RunError> {
    run_streaming_range(model, 0..model.simulation.replications, threads, done, sink)
}

/// `run_streaming` of the replications `range` only (a shard of the run): replication r is
/// the same as in the full run, since its streams are keyed by r alone.
pub fn run_streaming_range(
    model: &Model,
    range: Range<u32>,
    threads: Option<usize>,
    done: &(dyn Fn() + Sync),
    sink: &mut Sink<'_>,
) -> Result<RunResult, RunError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n.max(1));
    }
    let pool = builder.build().expect("thread pool");
    let reps = range.end;
    let workers = pool.current_num_threads().max(1);
    let window = u32::try_from(workers + LOOKAHEAD).unwrap_or(u32::MAX);
    let shared = (
        Mutex::new(Window {
            next: range.start,
            consumed: range.start,
            stop: false,
        }),
        Condvar::new(),
    );
    let shared = &shared;
    let mut reducer = Reducer::for_range(model, range.clone());
    let (tx, rx) = mpsc::channel::<(u32, Result<ReplicationOutput, InvariantViolation>)>();
    let outcome = pool.in_place_scope(|s| {
        for _ in 0..workers.min(range.len()) {
            let tx = tx.clone();
            s.spawn(move |_| {
                let _guard = StopOnPanic(shared);
                let (lock, cv) = shared;
                loop {
                    let r = {
                        let mut w = lock.lock().unwrap_or_else(PoisonError::into_inner);
                        loop {
                            if w.stop || w.next >= reps {
                                return;
                            }
                            if w.next - w.consumed < window {
                                break;
                            }
                            w = cv.wait(w).unwrap_or_else(PoisonError::into_inner);
                        }
                        w.next += 1;
                        w.next - 1
                    };
                    let out = run_replication(model, r);
                    done();
                    if tx.send((r, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        // A panicking sink must stop the workers too, or the scope would wait for them forever.
        let _guard = StopOnPanic(shared);
        let (lock, cv) = shared;
        let mut pending = BTreeMap::new();
        let mut consumed = range.start;
        let mut outcome = Ok(());
        // Ends when every worker has returned: all replications consumed, or a stop.
        for (r, out) in rx.iter() {
            pending.insert(r, out);
            while let Some(out) = pending.remove(&consumed) {
                let step = match out {
                    Ok(out) => sink(&out)
                        .map(|()| reducer.add(out))
                        .map_err(RunError::Sink),
                    Err(v) => Err(RunError::Invariant(v)),
                };
                consumed += 1;
                let mut w = lock.lock().unwrap_or_else(PoisonError::into_inner);
                w.consumed = consumed;
                if step.is_err() {
                    w.stop = true;
                    outcome = step;
                }
                drop(w);
                cv.notify_all();
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_err() {
                break;
            }
        }
        outcome
    });
    outcome?;
    debug_assert_eq!(reducer.replications.len(), range.len());
    Ok(reducer.finish())
}

/// Runs replication `r` recording every observation its policy receives (for the adapter).
pub fn run_recorded(
    model: &Model,
    r: u32,
) -> Result<(ReplicationOutput, Vec<crate::engine::RecordedStep>), InvariantViolation> {
    Simulation::with_policy(model, r, policy_for(model, r)?)
        .with_recorder()
        .run_recorded()
}
