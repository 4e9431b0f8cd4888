//! Outputs of `compare` and `sweep`: tidy CSV tables, charts and a short text table.

use super::html::{figure, Figure};
use super::plots::{write_chart, BandLines, BandPoint, Chart, IntervalRows};
use super::tables::float_text;
use super::text::num;
use crate::compare::Comparison;
use crate::metrics::names::{self, key_label, label};
use crate::metrics::summary::registry;
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

/// Charts written to a directory, and the same charts as SVG text for the report.
#[derive(Default)]
pub struct Drawn {
    pub paths: Vec<PathBuf>,
    pub figures: Vec<Figure>,
}

impl Drawn {
    /// Writes `chart` into `dir` (SVG and PNG) and keeps it for the report with `caption`.
    pub fn add<C: Chart>(&mut self, dir: &Path, caption: &str, chart: &C) -> Result<(), String> {
        self.paths.extend(write_chart(dir, chart)?);
        self.figures.push(figure(caption, chart)?);
        Ok(())
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
    // Undefined in every pair of replications: the row is there, its numbers are empty.
    for (name, unit) in &c.undefined {
        let mut row = vec![
            name.clone(),
            unit.to_string(),
            c.policy_a.clone(),
            c.policy_b.clone(),
        ];
        row.extend((0..8).map(|_| String::new()));
        row.extend(["0".to_string(), seed.to_string()]);
        w.write_record(&row)?;
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
    if !c.undefined.is_empty() {
        let names: Vec<&str> = c.undefined.iter().map(|(n, _)| n.as_str()).collect();
        let _ = writeln!(
            s,
            "undefined (no replication where both arms define it): {}",
            names.join(", ")
        );
    }
    s
}

/// Charts of a comparison: downtime differences with paired intervals, and availability with
/// paired against unpaired intervals (what common random numbers buy).
pub fn compare_charts(dir: &Path, c: &Comparison, scenario: &str) -> Result<Drawn, String> {
    let title = format!(
        "{scenario}: {} − {} (paired 95 % intervals)",
        c.policy_b, c.policy_a
    );
    let row = |name: &str, d: &crate::metrics::paired::PairedDiff, ci: Option<(f64, f64)>| {
        let (lo, hi) = ci.unwrap_or((d.mean_diff, d.mean_diff));
        (name.to_string(), d.mean_diff, lo, hi)
    };
    // Downtime rows drop the shared "Downtime per VM-year" the axis already says.
    let short = |n: &str| {
        let l = label(n);
        l.strip_prefix("Downtime per VM-year")
            .map(|r| r.trim_start_matches([':', ',', ' ']).to_string())
            .filter(|r| !r.is_empty())
            .unwrap_or(l)
    };
    let downtime: Vec<_> = c
        .rows
        .iter()
        .filter(|(n, unit, d)| {
            *unit == "minutes per VM-year"
                && (d.mean_a != 0.0 || d.mean_b != 0.0)
                && !n.ends_with("_max")
        })
        .map(|(n, _, d)| row(&short(n), d, d.paired_ci95))
        .collect();
    let mut availability = Vec::new();
    for (n, _, d) in c
        .rows
        .iter()
        .filter(|(n, _, _)| n == "vm_availability" || n == "host_availability")
    {
        availability.push(row(&format!("{}, paired", label(n)), d, d.paired_ci95));
        availability.push(row(&format!("{}, unpaired", label(n)), d, d.unpaired_ci95));
    }
    let mut drawn = Drawn::default();
    drawn.add(
        dir,
        "Paired difference of mean downtime per VM-year (B − A), with its 95 % paired-t interval.",
        &IntervalRows {
            stem: "compare_downtime".into(),
            title: title.clone(),
            x_desc: format!(
                "downtime difference {} − {} (min / VM-year)",
                c.policy_b, c.policy_a
            ),
            rows: downtime,
        },
    )?;
    drawn.add(
        dir,
        "Availability difference (B − A): the paired interval against the unpaired (Welch) one on the same replications, what common random numbers buy.",
        &IntervalRows {
            stem: "compare_availability".into(),
            title: format!(
                "{scenario}: {} − {}, paired vs unpaired 95 % intervals",
                c.policy_b, c.policy_a
            ),
            x_desc: format!("availability difference {} − {}", c.policy_b, c.policy_a),
            rows: availability,
        },
    )?;
    super::overlays::compare_overlays(dir, c, scenario, &mut drawn)?;
    Ok(drawn)
}

/// An axis key as a plain column name: `snake_case`, dots and dashes made underscores
/// (`workloads.web.count` → `workloads_web_count`).
fn plain_name(key: &str) -> String {
    key.replace(['.', '-'], "_")
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
    secs.map(|s| (format!("{}_s", plain_name(&a.key)), s))
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
    // Added columns go last, so readers that index columns by position are not moved: the
    // seconds of duration axes, then every axis again under its plain name (the values as
    // given, so an integer axis stays integer).
    header.extend(seconds.iter().flatten().map(|(name, _)| name.clone()));
    header.extend(axes.iter().map(|a| plain_name(&a.key)));
    w.write_record(&header)?;
    // Every metric of the registry at every point; one no replication defines has empty cells
    // and 0 replications (the count is of the replications its interval is over). Rows sorted
    // by metric name, as they always were.
    let mut defs = registry();
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    for (p, r) in points {
        for def in defs.iter().cloned() {
            let mut row = vec![p.index.to_string()];
            row.extend(p.assignments.iter().map(|(_, v)| v.clone()));
            let (mean, [lo, hi], n) = match r.metrics.get(&def.name) {
                Some(m) => (float_text(m.mean), ci_cells(m.ci95), m.replications_defined),
                None => (String::new(), ci_cells(None), 0),
            };
            row.extend([def.name, mean, lo, hi, def.unit.to_string()]);
            row.push(n.to_string());
            row.push(seed.to_string());
            for ((a, s), (_, v)) in axes.iter().zip(&seconds).zip(&p.assignments) {
                if let Some((_, secs)) = s {
                    let i = a.values.iter().position(|x| x == v).expect("axis value");
                    row.push(float_text(secs[i]));
                }
            }
            row.extend(p.assignments.iter().map(|(_, v)| v.clone()));
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
        // The rows of sweep.csv: every registry metric, null where no replication defines it.
        let mut defs = registry();
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        for def in defs {
            let m = r.metrics.get(&def.name);
            rows.push(serde_json::json!({
                "point": p.index, "axes": a, "metric": def.name, "mean": m.map(|m| m.mean),
                "ci95_low": m.and_then(|m| m.ci95.map(|c| c.0)),
                "ci95_high": m.and_then(|m| m.ci95.map(|c| c.1)),
                "unit": def.unit, "replications": m.map_or(0, |m| m.replications_defined),
                "seed": seed.to_string(),
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
) -> Result<Drawn, String> {
    let first = &axes[0];
    let (xs, x_labels, unit) = match x_values(first) {
        XValues::Numeric { values, unit } => (values, None, unit),
        XValues::Categories(c) => ((0..c.len()).map(|i| i as f64).collect(), Some(c), None),
    };
    let x_desc = match unit {
        Some(u) => format!("{} ({u})", key_label(&first.key)),
        None => key_label(&first.key),
    };
    let mut drawn = Drawn::default();
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
                .map(|(k, v)| format!("{} = {v}", key_label(k)))
                .collect();
            let label = if label.is_empty() {
                names::label(metric)
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
        drawn.add(
            dir,
            &format!(
                "{} against {}, mean and 95 % band over the replications of each point.",
                names::label(metric),
                key_label(&first.key)
            ),
            &BandLines {
                stem: format!("sweep_{metric}"),
                title: format!("{scenario}: {} (mean, 95 % band)", names::label(metric)),
                x_desc: x_desc.clone(),
                y_desc: names::with_unit(metric, unit),
                x_labels: x_labels.clone(),
                series,
            },
        )?;
    }
    Ok(drawn)
}
