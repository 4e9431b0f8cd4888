//! Running a sweep's points: several at once over the threads (points × replications), each
//! point's result written to `points/NNNNN/` of the sweep directory (`summary.json` and
//! `replications.csv`, as a run writes them) as soon as it finishes, so a killed sweep keeps
//! every finished point; with `resume`, a point whose directory holds the result of the very
//! same run (scenario file and sha256, overrides, seed, replications, hasim version) is read
//! back instead of run again.
//!
//! A point's result never depends on how many points run beside it or on the thread count:
//! each point is a run of its own model, whose replications are keyed by index.

use crate::engine::InvariantViolation;
use crate::metrics::pooled::ChartData;
use crate::report::replications::{self, Record};
use crate::report::{atomic, json};
use crate::runner::RunResult;
use crate::scenario::model::Model;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The directory of point `index` inside a sweep's `points/`.
pub fn point_dir(points: &Path, index: usize) -> PathBuf {
    points.join(format!("{index:05}"))
}

/// Why a sweep's points stopped.
#[derive(Debug)]
pub enum PointError {
    /// A point's replication broke an invariant (the point's index and the violation).
    Invariant(usize, InvariantViolation),
    Io(PathBuf, std::io::Error),
}

/// A run's result from the per-replication values of its `summary.json` (no chart data).
pub fn result_from_summary(v: &Value) -> Result<RunResult, String> {
    let records = replications::parse(v)?;
    let n = u32::try_from(records.len()).map_err(|_| "too many replications")?;
    if records.iter().zip(0..).any(|(r, i)| r.replication != i) {
        return Err("its replications are not 0..n in order".into());
    }
    Ok(RunResult::from_parts(
        0..n,
        records.iter().map(Record::stats).collect(),
        records.iter().map(|r| r.metrics.clone()).collect(),
        records.iter().map(|r| r.concurrency.clone()).collect(),
        ChartData::empty(),
    ))
}

/// The finished result in `dir`, if it is the result of exactly `model`'s run.
pub fn load_finished(dir: &Path, model: &Model) -> Option<RunResult> {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).ok()?).ok()?;
    let p = &model.provenance;
    let same = v["scenario"]["file"].as_str() == Some(&p.file.display().to_string())
        && v["scenario"]["sha256"].as_str() == Some(&p.sha256)
        && v["scenario"]["overrides"] == serde_json::json!(p.overrides)
        && v["seed"].as_str() == Some(&model.simulation.seed.to_string())
        && v["replications"].as_u64() == Some(u64::from(model.simulation.replications))
        && v["hasim_version"].as_str() == Some(env!("CARGO_PKG_VERSION"))
        && v.get("shard").is_none();
    if !same {
        return None;
    }
    result_from_summary(&v).ok()
}

/// Writes a point's `summary.json` and `replications.csv` into a temporary directory beside
/// its own and renames it into place (replacing an older one), so a point directory is always
/// complete.
pub fn write_point(dir: &Path, model: &Model, result: &RunResult) -> std::io::Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp)?;
    let mut summary =
        serde_json::to_vec_pretty(&json::summary(model, result)).map_err(std::io::Error::other)?;
    summary.push(b'\n');
    atomic::write_atomic(&tmp.join("summary.json"), &summary)?;
    let csv = replications::replications_csv(model.simulation.seed, result);
    atomic::write_atomic(&tmp.join("replications.csv"), &csv)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::rename(&tmp, dir)
}

/// What `run_points` did.
pub struct PointsDone {
    /// Each point's result, in the order of `models`.
    pub results: Vec<RunResult>,
    /// How many were read back (`resume`) rather than run.
    pub resumed: usize,
}

/// Runs (or, with `resume`, reads back) the point of each `(index, model)` on `threads`
/// threads in all, writing each into `point_dir(points, index)` as it finishes; `done` is
/// called once per point. The first error in point order ends the sweep; points already
/// running finish and are kept.
pub fn run_points(
    jobs: &[(usize, &Model)],
    points: &Path,
    threads: usize,
    resume: bool,
    done: &(dyn Fn() + Sync),
) -> Result<PointsDone, PointError> {
    let threads = threads.max(1);
    // Points side by side, each on its share of the threads: with fewer points than threads,
    // a point's replications run in parallel too.
    let side_by_side = threads.min(jobs.len()).max(1);
    let per_point = (threads / side_by_side).max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let resumed = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<RunResult, PointError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..side_by_side {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= jobs.len() || stop.load(Ordering::SeqCst) {
                    return;
                }
                let (index, model) = jobs[i];
                let dir = point_dir(points, index);
                let outcome = match load_finished(&dir, model).filter(|_| resume) {
                    Some(r) => {
                        resumed.fetch_add(1, Ordering::SeqCst);
                        Ok(r)
                    }
                    None => crate::runner::run(model, Some(per_point))
                        .map_err(|v| PointError::Invariant(index, v))
                        .and_then(|mut r| {
                            // A sweep keeps the metrics of a point, not its charts' data.
                            r.charts = ChartData::empty();
                            write_point(&dir, model, &r)
                                .map(|()| r)
                                .map_err(|e| PointError::Io(dir.clone(), e))
                        }),
                };
                if outcome.is_err() {
                    stop.store(true, Ordering::SeqCst);
                }
                done();
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    let mut results = Vec::with_capacity(jobs.len());
    for slot in slots.into_inner().unwrap_or_else(|e| e.into_inner()) {
        match slot {
            Some(Ok(r)) => results.push(r),
            Some(Err(e)) => return Err(e),
            // Not started because an earlier point failed: that failure comes first.
            None => {}
        }
    }
    Ok(PointsDone {
        results,
        resumed: resumed.into_inner(),
    })
}

/// `sweep.json`: what a sweep directory holds, for `merge` and `--resume`: the scenario, the
/// axes (values as shown and as applied), the charted metrics, the point count and seed, and
/// for a shard of the points (`--points I/N`) which one.
pub fn manifest(sweep: &SweepFiles<'_>) -> Value {
    let SweepFiles {
        name,
        file,
        seed,
        axes,
        metrics,
        points,
        shard,
        ..
    } = sweep;
    let axes: Vec<Value> = axes
        .iter()
        .map(|a| serde_json::json!({ "key": a.key, "values": a.values, "texts": a.texts }))
        .collect();
    let mut v = serde_json::json!({
        "schema_version": 1,
        "hasim_version": env!("CARGO_PKG_VERSION"),
        "name": name,
        "file": file,
        "seed": seed.to_string(),
        "axes": axes,
        "metrics": metrics,
        "points": points,
    });
    if let Some(((i, n), r)) = shard.clone() {
        v["shard"] = serde_json::json!({ "index": i, "of": n, "first": r.start, "end": r.end });
    }
    v
}

/// The axes a `sweep.json` records.
pub fn manifest_axes(v: &Value) -> Result<Vec<crate::sweep::Axis>, String> {
    let strings = |a: &Value, k: &str| -> Result<Vec<String>, String> {
        a[k].as_array()
            .ok_or(format!("axes.{k} is not an array"))?
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .ok_or(format!("axes.{k}: not a string"))
            })
            .collect()
    };
    v["axes"]
        .as_array()
        .ok_or("no axes")?
        .iter()
        .map(|a| {
            Ok(crate::sweep::Axis {
                key: a["key"]
                    .as_str()
                    .ok_or("axes.key is not a string")?
                    .to_string(),
                values: strings(a, "values")?,
                texts: strings(a, "texts")?,
            })
        })
        .collect()
}

/// The files at the top of a sweep directory, and what they are made of.
pub struct SweepFiles<'a> {
    pub name: &'a str,
    /// The scenario file as the sweep was given it.
    pub file: &'a str,
    pub seed: u64,
    pub axes: &'a [crate::sweep::Axis],
    pub metrics: &'a [String],
    /// The grid's point count (all shards).
    pub points: usize,
    /// For `--points I/N`: `(I, N)` and the point indices of the shard.
    pub shard: Option<((usize, usize), std::ops::Range<usize>)>,
    /// The results of the points this directory holds, in point order.
    pub results: &'a [(crate::sweep::Point, RunResult)],
}

/// Writes `sweep.csv`, `sweep.json` and the charts into `dir`; returns their paths.
pub fn write_sweep_files(dir: &Path, sweep: &SweepFiles<'_>) -> Result<Vec<PathBuf>, String> {
    use crate::report::experiments::{sweep_charts, sweep_csv};
    let mut written = Vec::new();
    let csv = sweep_csv(sweep.axes, sweep.results, sweep.seed).map_err(|e| e.to_string())?;
    let path = dir.join("sweep.csv");
    atomic::write_atomic(&path, &csv).map_err(|e| e.to_string())?;
    written.push(path);
    let mut m = serde_json::to_vec_pretty(&manifest(sweep)).expect("json");
    m.push(b'\n');
    let path = dir.join("sweep.json");
    atomic::write_atomic(&path, &m).map_err(|e| e.to_string())?;
    written.push(path);
    written.extend(sweep_charts(
        dir,
        sweep.axes,
        sweep.results,
        sweep.metrics,
        sweep.name,
    )?);
    Ok(written)
}
