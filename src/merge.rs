//! `hasim merge`: the result directory of a run from the directories of its shards
//! (`run --replications A..B`). The merged `summary.json` and `replications.csv` are computed
//! from the shards' per-replication values alone, exactly as the run made at once computes
//! them, so they are byte-identical to its files; the per-VM and per-host tables are the shards'
//! tables joined in replication order, which are the full run's rows in its order.
//!
//! The scenario is loaded again from the file and overrides the shards recorded (relative to
//! the directory `merge` runs in, as for the run) and must have the sha256 they recorded. The
//! charts and `report.html` are drawn from the chart inputs each shard keeps in
//! `chart_data.bin` (`metrics::chart_file`), identical to the full run's.

use crate::metrics::chart_file::{self, CHART_FILE};
use crate::metrics::pooled::ChartData;
use crate::report::replications::{self, Record};
use crate::report::tables::TABLE_FILES;
use crate::report::{atomic, json};
use crate::runner::RunResult;
use crate::scenario::model::Model;
use crate::scenario::{load_labelled, LoadError, Override};
use crate::shard::check_coverage;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Why a merge failed.
#[derive(Debug)]
pub enum MergeError {
    /// The shards do not make one run: different runs, overlapping or missing replications.
    Misfit(String),
    /// A shard or the output could not be read or written.
    Io(String),
    /// The recorded scenario no longer loads.
    Invalid(LoadError),
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeError::Misfit(s) | MergeError::Io(s) => f.write_str(s),
            MergeError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

/// One shard's result directory, read.
pub struct Shard {
    pub dir: PathBuf,
    pub summary: Value,
    pub records: Vec<Record>,
}

/// The fields of `summary.json` that say which run a shard belongs to: all shards of one run
/// have them equal (the others are computed from the replications).
const IDENTITY: [&str; 8] = [
    "schema_version",
    "hasim_version",
    "scenario",
    "seed",
    "horizon",
    "horizon_s",
    "policy",
    "fleet",
];

pub fn read_shard(dir: &Path) -> Result<Shard, MergeError> {
    let path = dir.join("summary.json");
    let bytes =
        std::fs::read(&path).map_err(|e| MergeError::Io(format!("{}: {e}", path.display())))?;
    let summary: Value = serde_json::from_slice(&bytes)
        .map_err(|e| MergeError::Misfit(format!("{}: not a summary: {e}", path.display())))?;
    let records = replications::parse(&summary)
        .map_err(|e| MergeError::Misfit(format!("{}: {e}", path.display())))?;
    Ok(Shard {
        dir: dir.to_path_buf(),
        summary,
        records,
    })
}

/// The run's replication count as a shard records it.
fn run_count(s: &Shard) -> Option<u64> {
    s.summary
        .get("shard")
        .map_or(s.summary.get("replications"), |sh| sh.get("of"))
        .and_then(Value::as_u64)
}

/// Checks that the shards are of one run and cover its replications exactly once; returns
/// the shards sorted by their first replication and the run's replication count.
pub fn check_shards(mut shards: Vec<Shard>) -> Result<(Vec<Shard>, u32), MergeError> {
    let first = shards
        .first()
        .ok_or_else(|| MergeError::Misfit("no shard directories given".into()))?;
    let n = run_count(first)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            MergeError::Misfit(format!("{}: no replication count", first.dir.display()))
        })?;
    for s in &shards[1..] {
        for key in IDENTITY {
            if s.summary.get(key) != first.summary.get(key) {
                return Err(MergeError::Misfit(format!(
                    "{} and {} are not shards of one run: their {key} differs",
                    first.dir.display(),
                    s.dir.display()
                )));
            }
        }
        if run_count(s) != Some(u64::from(n)) {
            return Err(MergeError::Misfit(format!(
                "{} and {} are not shards of one run: one of {n} replications and one of {}",
                first.dir.display(),
                s.dir.display(),
                run_count(s).map_or("?".into(), |c| c.to_string())
            )));
        }
    }
    let found: Vec<(String, u32)> = shards
        .iter()
        .flat_map(|s| {
            let name = s.dir.display().to_string();
            s.records.iter().map(move |r| (name.clone(), r.replication))
        })
        .collect();
    check_coverage(&found, n).map_err(MergeError::Misfit)?;
    for s in &shards {
        if s.records
            .windows(2)
            .any(|w| w[1].replication != w[0].replication + 1)
        {
            return Err(MergeError::Misfit(format!(
                "{}: its replications are not one contiguous range",
                s.dir.display()
            )));
        }
    }
    shards.sort_by_key(|s| s.records.first().map_or(0, |r| r.replication));
    Ok((shards, n))
}

/// Loads the scenario the shards ran, checking it is the same file.
pub fn load_model(shard: &Shard, n: u32) -> Result<Model, MergeError> {
    let scenario = &shard.summary["scenario"];
    let file = scenario["file"]
        .as_str()
        .ok_or_else(|| MergeError::Misfit(format!("{}: no scenario file", shard.dir.display())))?;
    let overrides: Vec<Override> = scenario["overrides"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(Override::set)
                .collect()
        })
        .unwrap_or_default();
    let model = load_labelled(Path::new(file), &overrides).map_err(MergeError::Invalid)?;
    if Some(model.provenance.sha256.as_str()) != scenario["sha256"].as_str() {
        return Err(MergeError::Misfit(format!(
            "{file} has changed since {} ran (its sha256 differs)",
            shard.dir.display()
        )));
    }
    if model.simulation.replications != n {
        return Err(MergeError::Misfit(format!(
            "{file} with its overrides has {} replications, the shards {n}",
            model.simulation.replications
        )));
    }
    Ok(model)
}

/// The run's result from the shards' replications (sorted shards), with the chart inputs of
/// their `chart_data.bin` when every shard has one (`None` when none has: shards of an older
/// hasim; then no charts are drawn). The flag says a shard's own sample had overflowed.
pub fn merged_result(
    model: &Model,
    shards: &[Shard],
    n: u32,
) -> Result<(RunResult, Option<bool>), MergeError> {
    let records = shards.iter().flat_map(|s| s.records.iter());
    let stats = records.clone().map(Record::stats).collect();
    let metrics = records.clone().map(|r| r.metrics.clone()).collect();
    let concurrency = records.map(|r| r.concurrency.clone()).collect();
    let files: Vec<PathBuf> = shards.iter().map(|s| s.dir.join(CHART_FILE)).collect();
    let have = files.iter().filter(|p| p.is_file()).count();
    let (charts, resampled) = if have == 0 {
        (ChartData::new(model), None)
    } else if have < shards.len() {
        return Err(MergeError::Misfit(format!(
            "{CHART_FILE} is in {have} of the {} shards (made by different hasim versions?)",
            shards.len()
        )));
    } else {
        let mut parts = Vec::with_capacity(files.len());
        for p in &files {
            let bytes =
                std::fs::read(p).map_err(|e| MergeError::Io(format!("{}: {e}", p.display())))?;
            let part = chart_file::decode(&bytes, model.workloads.len())
                .map_err(|e| MergeError::Misfit(format!("{}: {e}", p.display())))?;
            parts.push(part);
        }
        let (c, resampled) = chart_file::merge(model, parts);
        (c, Some(resampled))
    };
    Ok((
        RunResult::from_parts(0..n, stats, metrics, concurrency, charts),
        resampled,
    ))
}

/// Joins one table of every shard (in shard order) into `out`: the first shard's header, then
/// every shard's rows. Each header must be the same.
fn join_csv(
    shards: &[Shard],
    name: &str,
    out: &Path,
    decode: &dyn Fn(std::fs::File) -> Box<dyn Read>,
) -> Result<PathBuf, MergeError> {
    let io = |p: &Path, e: std::io::Error| MergeError::Io(format!("{}: {e}", p.display()));
    let target = out.join(name);
    let mut w = atomic::AtomicFile::create(&target).map_err(|e| io(&target, e))?;
    let mut header: Option<Vec<u8>> = None;
    for s in shards {
        let path = s.dir.join(name);
        let f = std::fs::File::open(&path).map_err(|e| io(&path, e))?;
        let mut r = BufReader::with_capacity(1 << 16, decode(f));
        let mut h = Vec::new();
        r.read_until(b'\n', &mut h).map_err(|e| io(&path, e))?;
        match &header {
            None => {
                w.write_all(&h).map_err(|e| io(&target, e))?;
                header = Some(h);
            }
            Some(first) if *first != h => {
                return Err(MergeError::Misfit(format!(
                    "{}: its columns differ from the first shard's",
                    path.display()
                )))
            }
            Some(_) => {}
        }
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = r.read(&mut buf).map_err(|e| io(&path, e))?;
            if k == 0 {
                break;
            }
            w.write_all(&buf[..k]).map_err(|e| io(&target, e))?;
        }
    }
    w.commit().map_err(|e| io(&target, e))?;
    Ok(target)
}

/// Writes the merged run into `out` (a staging directory): `summary.json`,
/// `replications.csv`, each table every shard has and, `with_charts`, the charts and
/// `report.html`. A table only some shards have is an
/// error (shards run with different `--tables`).
pub fn write_merged(
    out: &Path,
    model: &Model,
    result: &RunResult,
    shards: &[Shard],
    with_charts: bool,
) -> Result<Vec<PathBuf>, MergeError> {
    let io = |p: &Path, e: std::io::Error| MergeError::Io(format!("{}: {e}", p.display()));
    let mut written = Vec::new();
    let mut summary = serde_json::to_vec_pretty(&json::summary(model, result)).expect("json");
    summary.push(b'\n');
    let p = out.join("summary.json");
    atomic::write_atomic(&p, &summary).map_err(|e| io(&p, e))?;
    written.push(p);
    let p = out.join("replications.csv");
    let csv = replications::replications_csv(model.simulation.seed, result);
    atomic::write_atomic(&p, &csv).map_err(|e| io(&p, e))?;
    written.push(p);
    for name in TABLE_FILES {
        let have = shards.iter().filter(|s| s.dir.join(name).is_file()).count();
        if have == 0 {
            continue;
        }
        if have < shards.len() {
            return Err(MergeError::Misfit(format!(
                "{name} is in {have} of the {} shards (were they run with different --tables?)",
                shards.len()
            )));
        }
        written.push(join_table(shards, name, out)?);
    }
    if with_charts {
        let charts = crate::report::write_run_charts(out, model, result).map_err(MergeError::Io)?;
        written.extend(charts);
    }
    Ok(written)
}

/// Joins one table, whatever its format. A gzip table is joined as its text and compressed
/// again as the run compresses it, so it is the whole run's file, not a chain of members.
fn join_table(shards: &[Shard], name: &str, out: &Path) -> Result<PathBuf, MergeError> {
    if name.ends_with(".parquet") {
        return Err(MergeError::Misfit(format!(
            "{name}: merge joins csv and csv.gz tables, not Parquet (run the shards with --tables csv.gz)"
        )));
    }
    let Some(csv) = name.strip_suffix(".gz") else {
        return join_csv(shards, name, out, &|r| Box::new(r));
    };
    let io = |p: &Path, e: std::io::Error| MergeError::Io(format!("{}: {e}", p.display()));
    // The text of the whole table into a temporary file beside the output, then compressed.
    let tmp = out.join(format!(".{csv}.join-{}", std::process::id()));
    let plain = join_csv(shards, name, out, &|r| {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    })?;
    std::fs::rename(&plain, &tmp).map_err(|e| io(&tmp, e))?;
    let target = out.join(name);
    let f = atomic::AtomicFile::create(&target).map_err(|e| io(&target, e))?;
    let mut gz = flate2::write::GzEncoder::new(f, crate::report::run_tables::GZIP_LEVEL);
    let mut src = std::fs::File::open(&tmp).map_err(|e| io(&tmp, e))?;
    std::io::copy(&mut src, &mut gz).map_err(|e| io(&target, e))?;
    let f = gz.finish().map_err(|e| io(&target, e))?;
    f.commit().map_err(|e| io(&target, e))?;
    let _ = std::fs::remove_file(&tmp);
    Ok(target)
}
