//! Outputs of `compare` and `sweep`: tidy CSV tables, charts and a short text table.

use super::plots::{write_chart, BandLines, BandPoint, IntervalRows};
use super::tables::float_text;
use super::text::num;
use crate::compare::Comparison;
use crate::runner::RunResult;
use crate::sweep::{x_values, Axis, Point, XValues};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn ci_cells(ci: Option<(f64, f64)>) -> [String; 2] {
    match ci {
        Some((lo, hi)) => [float_text(lo), float_text(hi)],
        None => [String::new(), String::new()],
    }
}

pub fn compare_csv(c: &Comparison, seed: u64) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "metric",
        "unit",
        "policy_a",
        "policy_b",
        "mean_a",
        "mean_b",
        "mean_diff",
        "paired_ci95_low",
        "paired_ci95_high",
        "unpaired_ci95_low",
        "unpaired_ci95_high",
        "correlation",
        "pairs",
        "seed",
    ])?;
    for (name, unit, d) in &c.rows {
        let [pl, ph] = ci_cells(d.paired_ci95);
        let [ul, uh] = ci_cells(d.unpaired_ci95);
        w.write_record([
            name.clone(),
            unit.to_string(),
            c.policy_a.clone(),
            c.policy_b.clone(),
            float_text(d.mean_a),
            float_text(d.mean_b),
            float_text(d.mean_diff),
            pl,
            ph,
            ul,
            uh,
            d.correlation.map(float_text).unwrap_or_default(),
            d.pairs.to_string(),
            seed.to_string(),
        ])?;
    }
    Ok(w.into_inner().expect("in-memory writer"))
}

/// `compare --json`: compare.csv's rows as JSON objects (the same column names; a missing
/// interval or correlation is `null`).
pub fn compare_json(c: &Comparison, seed: u64) -> serde_json::Value {
    let ci = |x: Option<(f64, f64)>| x.map_or([None, None], |(lo, hi)| [Some(lo), Some(hi)]);
    let rows: Vec<serde_json::Value> = c
        .rows
        .iter()
        .map(|(name, unit, d)| {
            let ([pl, ph], [ul, uh]) = (ci(d.paired_ci95), ci(d.unpaired_ci95));
            serde_json::json!({
                "metric": name, "unit": unit,
                "policy_a": c.policy_a, "policy_b": c.policy_b,
                "mean_a": d.mean_a, "mean_b": d.mean_b, "mean_diff": d.mean_diff,
                "paired_ci95_low": pl, "paired_ci95_high": ph,
                "unpaired_ci95_low": ul, "unpaired_ci95_high": uh,
                "correlation": d.correlation, "pairs": d.pairs, "seed": seed.to_string(),
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

pub fn compare_text(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<48} {:>12} {:>12} {:>12}  {:<28} {:<28} {:>6}",
        "metric", c.policy_a, c.policy_b, "B - A", "paired 95% CI", "unpaired 95% CI", "corr"
    );
    let ci = |x: Option<(f64, f64)>| {
        x.map(|(l, h)| format!("[{}, {}]", num(l), num(h)))
            .unwrap_or_else(|| "-".into())
    };
    for (name, _, d) in &c.rows {
        let _ = writeln!(
            s,
            "{:<48} {:>12} {:>12} {:>12}  {:<28} {:<28} {:>6}",
            name,
            num(d.mean_a),
            num(d.mean_b),
            num(d.mean_diff),
            ci(d.paired_ci95),
            ci(d.unpaired_ci95),
            d.correlation
                .map(|r| format!("{r:.3}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    s
}

/// Charts of a comparison: downtime differences with paired intervals, and availability with
/// paired against unpaired intervals (what common random numbers buy).
pub fn compare_charts(dir: &Path, c: &Comparison, scenario: &str) -> Result<Vec<PathBuf>, String> {
    let title = format!(
        "{scenario}: {} − {} (paired 95 % intervals)",
        c.policy_b, c.policy_a
    );
    let row = |name: &str, d: &crate::metrics::paired::PairedDiff, ci: Option<(f64, f64)>| {
        let (lo, hi) = ci.unwrap_or((d.mean_diff, d.mean_diff));
        (name.to_string(), d.mean_diff, lo, hi)
    };
    let downtime: Vec<_> = c
        .rows
        .iter()
        .filter(|(n, unit, d)| {
            *unit == "minutes per VM-year"
                && (d.mean_a != 0.0 || d.mean_b != 0.0)
                && !n.ends_with("_max")
        })
        .map(|(n, _, d)| row(n, d, d.paired_ci95))
        .collect();
    let mut availability = Vec::new();
    for (n, _, d) in c
        .rows
        .iter()
        .filter(|(n, _, _)| n == "vm_availability" || n == "host_availability")
    {
        availability.push(row(&format!("{n} (paired)"), d, d.paired_ci95));
        availability.push(row(&format!("{n} (unpaired)"), d, d.unpaired_ci95));
    }
    let mut written = write_chart(
        dir,
        &IntervalRows {
            stem: "compare_downtime".into(),
            title: title.clone(),
            x_desc: "difference (minutes per VM-year)".into(),
            rows: downtime,
        },
    )?;
    written.extend(write_chart(
        dir,
        &IntervalRows {
            stem: "compare_availability".into(),
            title: format!(
                "{scenario}: {} − {}, paired vs unpaired 95 % intervals",
                c.policy_b, c.policy_a
            ),
            x_desc: "difference (fraction)".into(),
            rows: availability,
        },
    )?);
    Ok(written)
}

/// Extra typed columns of an axis in `sweep.csv`: a duration axis also in seconds, as
/// `<key>_s` with the dots of the key made underscores (the axis column keeps the key as
/// given, a name scripts already use), after the other columns.
fn seconds_column(a: &Axis) -> Option<(String, Vec<f64>)> {
    let secs: Option<Vec<f64>> = a
        .values
        .iter()
        .map(|v| {
            let d = crate::core::time::parse_duration(v).ok()?;
            // A bare number is not a duration (parse_duration may read it as one).
            (v.parse::<f64>().is_err()).then(|| d.as_secs_f64())
        })
        .collect();
    secs.map(|s| (format!("{}_s", a.key.replace(['.', '-'], "_")), s))
}

pub fn sweep_csv(axes: &[Axis], points: &[(Point, RunResult)], seed: u64) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().map(|a| a.key.clone()));
    let seconds: Vec<Option<(String, Vec<f64>)>> = axes.iter().map(seconds_column).collect();
    header.extend(
        [
            "metric",
            "mean",
            "ci95_low",
            "ci95_high",
            "unit",
            "replications",
            "seed",
        ]
        .map(String::from),
    );
    // Added columns go last, so readers that index columns by position are not moved.
    header.extend(seconds.iter().flatten().map(|(name, _)| name.clone()));
    w.write_record(&header)?;
    for (p, r) in points {
        for (name, m) in &r.metrics {
            let mut row = vec![p.index.to_string()];
            row.extend(p.assignments.iter().map(|(_, v)| v.clone()));
            let [lo, hi] = ci_cells(m.ci95);
            row.extend([name.clone(), float_text(m.mean), lo, hi, m.unit.to_string()]);
            row.push(r.replications.len().to_string());
            row.push(seed.to_string());
            for ((a, s), (_, v)) in axes.iter().zip(&seconds).zip(&p.assignments) {
                if let Some((_, secs)) = s {
                    let i = a.values.iter().position(|x| x == v).expect("axis value");
                    row.push(float_text(secs[i]));
                }
            }
            w.write_record(&row)?;
        }
    }
    Ok(w.into_inner().expect("in-memory writer"))
}

/// `sweep --json`: sweep.csv's rows as JSON objects, axis values under `axes` by key.
pub fn sweep_json(points: &[(Point, RunResult)], seed: u64) -> serde_json::Value {
    let mut rows = Vec::new();
    for (p, r) in points {
        let a: serde_json::Map<String, serde_json::Value> = p
            .assignments
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        for (name, m) in &r.metrics {
            rows.push(serde_json::json!({
                "point": p.index, "axes": a, "metric": name, "mean": m.mean,
                "ci95_low": m.ci95.map(|c| c.0), "ci95_high": m.ci95.map(|c| c.1),
                "unit": m.unit, "replications": r.replications.len(), "seed": seed.to_string(),
            }));
        }
    }
    serde_json::Value::Array(rows)
}

/// One chart per metric: the metric against the first axis, one line per combination of the
/// other axes, each with its 95 % band.
pub fn sweep_charts(
    dir: &Path,
    axes: &[Axis],
    points: &[(Point, RunResult)],
    metrics: &[String],
    scenario: &str,
) -> Result<Vec<PathBuf>, String> {
    let first = &axes[0];
    let (xs, x_labels, unit) = match x_values(first) {
        XValues::Numeric { values, unit } => (values, None, unit),
        XValues::Categories(c) => ((0..c.len()).map(|i| i as f64).collect(), Some(c), None),
    };
    let x_desc = match unit {
        Some(u) => format!("{} ({u})", first.key),
        None => first.key.clone(),
    };
    let mut written = Vec::new();
    for metric in metrics {
        let mut series: Vec<(String, Vec<BandPoint>)> = Vec::new();
        for (p, r) in points {
            let Some(m) = r.metrics.get(metric) else {
                continue;
            };
            let xi = first
                .values
                .iter()
                .position(|v| *v == p.assignments[0].1)
                .expect("first axis value");
            let label: Vec<String> = p.assignments[1..]
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let label = if label.is_empty() {
                metric.clone()
            } else {
                label.join(", ")
            };
            let (lo, hi) = m.ci95.unwrap_or((m.mean, m.mean));
            match series.iter_mut().find(|s| s.0 == label) {
                Some(s) => s.1.push((xs[xi], m.mean, lo, hi)),
                None => series.push((label, vec![(xs[xi], m.mean, lo, hi)])),
            }
        }
        for s in &mut series {
            s.1.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        if series.is_empty() {
            continue;
        }
        let unit = points
            .iter()
            .find_map(|(_, r)| r.metrics.get(metric).map(|m| m.unit))
            .unwrap_or("");
        written.extend(write_chart(
            dir,
            &BandLines {
                stem: format!("sweep_{metric}"),
                title: format!("{scenario}: {metric} (mean, 95 % band)"),
                x_desc: x_desc.clone(),
                y_desc: format!("{metric} ({unit})"),
                x_labels: x_labels.clone(),
                series,
            },
        )?);
    }
    Ok(written)
}
