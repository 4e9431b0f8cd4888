//! Exporters of aggregated results: JSON summary, CSV tables, the text summary, charts. They
//! consume a `RunResult` (and, for the per-VM tables, each replication's output as the runner
//! hands it over) and never reach into the engine. All files are written atomically.

pub mod atomic;
pub mod experiments;
pub mod figures;
pub mod html;
pub mod json;
pub mod junit;
pub mod outset;
pub mod overlays;
pub mod pages;
#[cfg(feature = "parquet")]
pub mod parquet_tables;
pub mod plots;
pub mod replications;
pub mod run_tables;
pub mod tables;
pub mod text;

use crate::runner::RunResult;
use crate::scenario::model::Model;
use std::path::{Path, PathBuf};

/// Writes `summary.json` and `replications.csv` into `dir`, renames the streamed `vms.csv` and `hosts.csv` into place
/// and draws the charts; returns the paths written.
pub fn write_all(
    dir: &Path,
    model: &Model,
    result: &RunResult,
    tables: run_tables::RunTables<'_>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut summary =
        serde_json::to_vec_pretty(&json::summary(model, result)).map_err(std::io::Error::other)?;
    summary.push(b'\n');
    let p = dir.join("summary.json");
    atomic::write_atomic(&p, &summary)?;
    let mut written = vec![p];
    let p = dir.join("replications.csv");
    atomic::write_atomic(
        &p,
        &replications::replications_csv(model.simulation.seed, result),
    )?;
    written.push(p);
    written.extend(tables.commit()?);
    if result.is_shard(model) {
        // What `merge` needs to draw the whole run's charts (metrics::chart_file).
        let p = dir.join(crate::metrics::chart_file::CHART_FILE);
        atomic::write_atomic(&p, &crate::metrics::chart_file::encode(&result.charts))?;
        written.push(p);
    }
    written.extend(write_run_charts(dir, model, result).map_err(std::io::Error::other)?);
    Ok(written)
}

/// Draws every chart of a run into `dir` (SVG and PNG) and `report.html` with them inlined.
pub fn write_run_charts(
    dir: &Path,
    model: &Model,
    result: &RunResult,
) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    let mut inline = Vec::new();
    // Each chart's data is dropped once drawn: the pooled CDFs are as long as the run.
    let cdf = figures::availability_cdf(model, result);
    written.extend(plots::write_chart(dir, &cdf)?);
    inline.push(html::figure(
        "Per-VM unavailability, pooled over replications; the vertical lines mark common SLA levels.",
        &cdf,
    )?);
    drop(cdf);
    let causes = figures::downtime_by_cause(model, result);
    written.extend(plots::write_chart(dir, &causes)?);
    inline.push(html::figure(
        "Mean downtime per VM-year, by cause and workload.",
        &causes,
    )?);
    if let Some(c) = figures::timeline(model, result) {
        written.extend(plots::write_chart(dir, &c)?);
        inline.push(html::figure("Hosts and VMs down over replication 0.", &c)?);
    }
    if let Some(c) = figures::recovery_cdf(model, result) {
        written.extend(plots::write_chart(dir, &c)?);
        inline.push(html::figure(
            "Time from a VM going down to running again, every outage of every replication.",
            &c,
        )?);
    }
    if let Some(c) = figures::blackout_histogram(model, result) {
        written.extend(plots::write_chart(dir, &c)?);
        inline.push(html::figure(
            "Live-migration blackouts (pause at switchover), with Google's published median and p99 for reference.",
            &c,
        )?);
    }
    if let Some(c) = overlays::host_down_concurrency(result, &model.name) {
        written.extend(plots::write_chart(dir, &c)?);
        inline.push(html::figure(
            "Fraction of the horizon with exactly k hosts down at once (k >= 1; log scale), mean and 95 % interval over replications.",
            &c,
        )?);
    }
    if let Some(c) = overlays::convergence(result, "downtime_min_per_vm_year_mean", &model.name) {
        written.extend(plots::write_chart(dir, &c)?);
        inline.push(html::figure(
            "The mean downtime per VM-year and its 95 % interval after the first k replications: a band still narrowing says more replications would pay.",
            &c,
        )?);
    }
    let page = dir.join("report.html");
    atomic::write_atomic(&page, html::report(model, result, &inline).as_bytes())
        .map_err(|e| e.to_string())?;
    written.push(page);
    Ok(written)
}
