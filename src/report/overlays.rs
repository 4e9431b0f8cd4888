//! Charts over per-replication values and the hosts-down distribution: both arms of a
//! comparison overlaid (their distributions, not only the difference), the convergence of a
//! mean as replications accumulate, and the time with k hosts down. Built from `RunResult`s
//! only, drawn through `plots::Chart`.

use super::experiments::Drawn;
use super::plots::{ecdf_points, sci, BandLines, BandPoint, Chart, DrawResult, COLOURS, SIZE};
use crate::compare::Comparison;
use crate::metrics::names::{label, with_unit};
use crate::metrics::stats::mean_ci95;
use crate::metrics::summary::clamp_to_range;
use crate::runner::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const FONT: &str = "sans-serif";

/// Empirical CDFs of samples on a linear x axis (per-replication values of both arms).
pub struct LinearCdf {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    /// `(legend, sorted values)` per series.
    pub series: Vec<(String, Vec<f64>)>,
}

impl Chart for LinearCdf {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let all = self.series.iter().flat_map(|s| s.1.iter().copied());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |a, x| {
            (a.0.min(x), a.1.max(x))
        });
        let (lo, hi) = if lo < hi {
            let pad = (hi - lo) * 0.05;
            (lo - pad, hi + pad)
        } else if lo.is_finite() {
            (lo - lo.abs().max(1.0) * 0.05, lo + lo.abs().max(1.0) * 0.05)
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 30))
            .margin(24)
            .margin_right(48)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(lo..hi, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("fraction of replications")
            .axis_desc_style((FONT, 24))
            .label_style((FONT, 19))
            .x_label_formatter(&|v| sci(*v))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()?;
        for (i, (name, values)) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            // A step ECDF: each value lifts the curve by 1/n.
            let pts = ecdf_points(values, 2000);
            let mut steps = vec![(lo, 0.0)];
            for p in &pts {
                steps.push((p.0, steps.last().map_or(0.0, |l| l.1)));
                steps.push(*p);
            }
            steps.push((hi, 1.0));
            chart
                .draw_series(LineSeries::new(steps, colour.stroke_width(3)))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 19))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// Vertical bars with an interval each (time fraction with k hosts down).
pub struct IntervalBars {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    /// `(label, mean, low, high)` per bar, left to right.
    pub bars: Vec<(String, f64, f64, f64)>,
    pub log_y: bool,
}

impl Chart for IntervalBars {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.bars.len().max(1);
        let top = self.bars.iter().map(|b| b.3.max(b.1)).fold(0.0, f64::max);
        let floor = self
            .bars
            .iter()
            .map(|b| b.1)
            .filter(|v| *v > 0.0)
            .fold(1.0, f64::min)
            / 3.0;
        let labels: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let area = root.titled(&self.title, (FONT, 30))?;
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin(24)
            .x_label_area_size(70)
            .y_label_area_size(110);
        // Bar i is centred on x = i, so integer ticks fall under the bars.
        let x = -0.5..n as f64 - 0.5;
        let colour = COLOURS[0];
        let fmt_x = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        // plotters fixes the y coordinate type at build time, so the two scales are two paths.
        macro_rules! body {
            ($chart:expr, $base:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(&self.x_desc)
                    .y_desc(&self.y_desc)
                    .axis_desc_style((FONT, 24))
                    .label_style((FONT, 19))
                    .x_labels(n.min(60))
                    .x_label_formatter(&fmt_x)
                    .y_label_formatter(&|v| sci(*v))
                    .disable_x_mesh()
                    .draw()?;
                for (i, b) in self.bars.iter().enumerate() {
                    let x0 = i as f64 - 0.35;
                    if b.1 > 0.0 {
                        chart.draw_series(std::iter::once(Rectangle::new(
                            [(x0, $base), (x0 + 0.7, b.1)],
                            colour.mix(0.7).filled(),
                        )))?;
                    }
                    let xm = i as f64;
                    if b.3 > b.2 {
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(xm, b.2.max($base)), (xm, b.3)],
                            BLACK.stroke_width(2),
                        )))?;
                    }
                }
            }};
        }
        if self.log_y {
            let chart = builder.build_cartesian_2d(x, (floor..top.max(floor) * 2.0).log_scale())?;
            body!(chart, floor);
        } else {
            let chart = builder.build_cartesian_2d(x, 0.0..top.max(1e-12) * 1.15)?;
            body!(chart, 0.0);
        }
        Ok(())
    }
}

/// The metrics whose per-replication distributions a comparison overlays.
const OVERLAID: &[&str] = &["downtime_min_per_vm_year_mean", "vm_availability"];

fn per_replication(r: &RunResult, metric: &str) -> Vec<f64> {
    let mut v: Vec<f64> = r
        .per_replication
        .iter()
        .filter_map(|m| m.get(metric).copied())
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Both arms' per-replication distributions of the headline metrics, overlaid.
pub fn compare_overlays(
    dir: &Path,
    c: &Comparison,
    scenario: &str,
    drawn: &mut Drawn,
) -> Result<(), String> {
    for metric in OVERLAID {
        let (a, b) = (per_replication(&c.a, metric), per_replication(&c.b, metric));
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let unit = c.a.metrics.get(*metric).map_or("", |m| m.unit);
        drawn.add(
            dir,
            &format!(
                "{} per replication under each policy: the distributions themselves, not only their difference.",
                label(metric)
            ),
            &LinearCdf {
                stem: format!("compare_{metric}_distribution"),
                title: format!("{scenario}: {} per replication", label(metric)),
                x_desc: with_unit(metric, unit),
                series: vec![(c.policy_a.clone(), a), (c.policy_b.clone(), b)],
            },
        )?;
    }
    Ok(())
}

/// The running mean of `metric` and its 95 % interval after 2, 3, …, n replications: whether
/// more replications would still move it.
pub fn convergence(result: &RunResult, metric: &str, scenario: &str) -> Option<BandLines> {
    let xs: Vec<f64> = result
        .per_replication
        .iter()
        .filter_map(|m| m.get(metric).copied())
        .collect();
    if xs.len() < 3 {
        return None;
    }
    let unit = result.metrics.get(metric).map_or("", |m| m.unit);
    let pts: Vec<BandPoint> = (2..=xs.len())
        .map(|k| {
            let (mean, ci) = mean_ci95(&xs[..k]);
            // Clamped to the metric's range, as summary.json's intervals are.
            let (lo, hi) = ci.map_or((mean, mean), |c| clamp_to_range(c, unit));
            (k as f64, mean, lo, hi)
        })
        .collect();
    Some(BandLines {
        stem: format!("convergence_{metric}"),
        title: format!("{scenario}: {} as replications accumulate", label(metric)),
        x_desc: "replications".into(),
        y_desc: with_unit(metric, unit),
        x_labels: None,
        series: vec![("mean, 95 % interval".into(), pts)],
    })
}

/// Time fraction with exactly k hosts down, k ≥ 1, on a log axis (k = 0 dwarfs the rest).
pub fn host_down_concurrency(result: &RunResult, scenario: &str) -> Option<IntervalBars> {
    let bars: Vec<(String, f64, f64, f64)> = result
        .hosts_down_concurrency
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, m)| m.mean > 0.0)
        .map(|(k, m)| {
            let (lo, hi) = m.ci95.unwrap_or((m.mean, m.mean));
            (k.to_string(), m.mean, lo, hi)
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    // Past ~60 bars the labels would collide on a 1280-pixel chart; the JSON has them all.
    let bars = bars.into_iter().take((SIZE.0 / 20) as usize).collect();
    Some(IntervalBars {
        stem: "host_down_concurrency".into(),
        title: format!("{scenario}: time with k hosts down at once"),
        x_desc: "hosts down at once (k)".into(),
        y_desc: "fraction of time".into(),
        bars,
        log_y: true,
    })
}
