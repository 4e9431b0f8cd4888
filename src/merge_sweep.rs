//! `hasim merge` of sweep directories: the shards of a sweep's points (`sweep --points I/N`)
//! combined into the directory the whole sweep writes. Each point's directory is copied as it
//! is; `sweep.csv`, `sweep.json` and the charts are made again from the points' summaries,
//! exactly as the sweep made them, so they are byte-identical to the whole sweep's.

use crate::merge::MergeError;
use crate::runner::RunResult;
use crate::shard::check_coverage;
use crate::sweep::{expand, Point};
use crate::sweep_run::{
    manifest_axes, point_dir, result_from_summary, write_sweep_files, SweepFiles,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Whether `dir` is a sweep's directory (it has `sweep.json`).
pub fn is_sweep(dir: &Path) -> bool {
    dir.join("sweep.json").is_file()
}

fn read_manifest(dir: &Path) -> Result<Value, MergeError> {
    let p = dir.join("sweep.json");
    let bytes = std::fs::read(&p).map_err(|e| MergeError::Io(format!("{}: {e}", p.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| MergeError::Misfit(format!("{}: not a sweep manifest: {e}", p.display())))
}

/// The point indices in a sweep directory's `points/`.
fn point_indices(dir: &Path) -> Result<Vec<usize>, MergeError> {
    let points = dir.join("points");
    let mut v = Vec::new();
    let entries = std::fs::read_dir(&points)
        .map_err(|e| MergeError::Io(format!("{}: {e}", points.display())))?;
    for e in entries {
        let e = e.map_err(|e| MergeError::Io(format!("{}: {e}", points.display())))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(i) = name.parse::<usize>() {
            v.push(i);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// The files a merge wrote and the merged points' results.
pub type Merged = (Vec<PathBuf>, Vec<(Point, RunResult)>);

/// Merges sweep shards into `out` (a staging directory); returns the files written and the
/// merged points' results.
pub fn merge_sweeps(dirs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    let misfit = MergeError::Misfit;
    let manifests = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<Vec<_>, _>>()?;
    let strip = |m: &Value| {
        let mut m = m.clone();
        m.as_object_mut().map(|o| o.remove("shard"));
        m
    };
    let first = strip(&manifests[0]);
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        if strip(m) != first {
            return Err(misfit(format!(
                "{} and {} are not shards of one sweep: their sweep.json differ",
                dirs[0].display(),
                d.display()
            )));
        }
    }
    let total = first["points"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            misfit(format!(
                "{}: sweep.json has no point count",
                dirs[0].display()
            ))
        })?;
    let mut owner = vec![None; total as usize];
    let mut found = Vec::new();
    for d in dirs {
        for i in point_indices(d)? {
            found.push((d.display().to_string(), i as u32));
            if let Some(slot) = owner.get_mut(i) {
                *slot = Some(d.clone());
            }
        }
    }
    check_coverage(&found, total).map_err(|e| misfit(e.replace("replication", "point")))?;
    let axes = manifest_axes(&first).map_err(|e| misfit(format!("sweep.json: {e}")))?;
    let points = expand(&axes);
    if points.len() != total as usize {
        return Err(misfit(
            "sweep.json: its axes and point count disagree".into(),
        ));
    }
    let mut results = Vec::new();
    for (p, src) in points.into_iter().zip(owner) {
        let src = point_dir(&src.expect("covered").join("points"), p.index);
        let dst = point_dir(&out.join("points"), p.index);
        std::fs::create_dir_all(&dst)
            .map_err(|e| MergeError::Io(format!("{}: {e}", dst.display())))?;
        for f in ["summary.json", "replications.csv"] {
            std::fs::copy(src.join(f), dst.join(f))
                .map_err(|e| MergeError::Io(format!("{}: {e}", src.join(f).display())))?;
        }
        let v: Value = std::fs::read(src.join("summary.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| misfit(format!("{}: no readable summary.json", src.display())))?;
        let r = result_from_summary(&v).map_err(|e| misfit(format!("{}: {e}", src.display())))?;
        results.push((p, r));
    }
    let text = |k: &str| first[k].as_str().unwrap_or_default().to_string();
    let metrics: Vec<String> = first["metrics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let (name, file) = (text("name"), text("file"));
    let seed = text("seed")
        .parse()
        .map_err(|_| misfit("sweep.json: the seed is not a number".into()))?;
    let files = SweepFiles {
        name: &name,
        file: &file,
        seed,
        axes: &axes,
        metrics: &metrics,
        points: total as usize,
        shard: None,
        results: &results,
    };
    let (mut written, figures) = write_sweep_files(out, &files).map_err(MergeError::Io)?;
    // report.html: its header describes point 0's model, rebuilt from the scenario file and
    // the overrides point 0's summary recorded (as a run's merge rebuilds its model).
    let point0 = crate::merge::read_shard(&point_dir(&out.join("points"), 0))?;
    let n = point0.records.len() as u32;
    let model = crate::merge::load_model(&point0, n)?;
    let page = crate::report::pages::sweep_report(&model, &axes, &results, &metrics, &figures);
    let p = out.join("report.html");
    crate::report::atomic::write_atomic(&p, page.as_bytes())
        .map_err(|e| MergeError::Io(format!("{}: {e}", p.display())))?;
    written.push(p);
    written.push(out.join("points"));
    Ok((written, results))
}
