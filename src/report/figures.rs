//! The charts of a run, built from its results (the pooled `RunResult::charts`, reduced while
//! replications complete): what `hasim run` draws into the output folder and `report.html`
//! inlines.

use super::plots::{LogCdf, StackedBars, StepPanels};
use crate::core::time::{US_PER_D, US_PER_Y};
use crate::metrics::ledger::VmState;
use crate::runner::RunResult;
use crate::scenario::model::Model;

/// Per-VM unavailability across all replications, one series per workload when there are several.
pub fn availability_cdf(model: &Model, result: &RunResult) -> LogCdf {
    let per_workload = &result.charts.unavailability;
    let mut all: Vec<f64> = per_workload.iter().flatten().copied().collect();
    // Unstable sorts are in place and give the same sequence: under `total_cmp` equal values
    // are the same bits.
    all.sort_unstable_by(f64::total_cmp);
    let zeros = all.iter().filter(|u| **u <= 0.0).count();
    let note =
        (zeros > 0).then(|| format!("{zeros} of {} with no downtime start the curve", all.len()));
    let mut series = vec![("all VMs".to_string(), all)];
    if model.workloads.len() > 1 {
        for (w, v) in per_workload.iter().enumerate() {
            let mut v = v.clone();
            v.sort_unstable_by(f64::total_cmp);
            series.push((model.workloads[w].name.clone(), v));
        }
    }
    LogCdf {
        stem: "availability_cdf".into(),
        title: format!("{}: VM availability across VMs", model.name),
        x_desc: "VM availability (log scale of the unavailability 1 − A)".into(),
        y_desc: "fraction of VMs (all replications)".into(),
        series,
        markers: vec![
            (1e-3, "99.9 %".into()),
            (5e-4, "99.95 %".into()),
            (1e-4, "99.99 %".into()),
        ],
        note,
        x_as_availability: true,
    }
}

/// Mean downtime per VM-year by cause, one stacked bar per workload.
pub fn downtime_by_cause(model: &Model, result: &RunResult) -> StackedBars {
    let causes: Vec<VmState> = VmState::ALL.into_iter().filter(|s| s.is_outage()).collect();
    let totals: Vec<Vec<f64>> = result
        .charts
        .state_us
        .iter()
        .map(|w| {
            causes
                .iter()
                .map(|s| w[*s as usize] as f64 / 60e6)
                .collect()
        })
        .collect();
    let vm_years: Vec<f64> = result
        .charts
        .observed_us
        .iter()
        .map(|us| *us as f64 / US_PER_Y as f64)
        .collect();
    let used: Vec<usize> = (0..causes.len())
        .filter(|c| totals.iter().any(|w| w[*c] > 0.0))
        .collect();
    StackedBars {
        stem: "downtime_by_cause".into(),
        title: format!("{}: downtime by cause", model.name),
        y_desc: "downtime (minutes per VM-year)".into(),
        groups: model.workloads.iter().map(|w| w.name.clone()).collect(),
        categories: used
            .iter()
            .map(|c| causes[*c].name().replace('_', " "))
            .collect(),
        values: totals
            .iter()
            .zip(vm_years)
            .map(|(w, y)| {
                used.iter()
                    .map(|c| w[*c] / y.max(f64::MIN_POSITIVE))
                    .collect()
            })
            .collect(),
    }
}

/// Hosts and VMs down over the first replication.
pub fn timeline(model: &Model, result: &RunResult) -> Option<StepPanels> {
    let (tl, horizon) = result.charts.timeline.as_ref()?;
    let days = |t: u64| t as f64 / US_PER_D as f64;
    let vms: Vec<(f64, f64)> = tl
        .points
        .iter()
        .map(|p| (days(p.0.as_us()), f64::from(p.2)))
        .collect();
    let hosts: Vec<(f64, f64)> = tl
        .points
        .iter()
        .map(|p| (days(p.0.as_us()), f64::from(p.1)))
        .collect();
    Some(StepPanels {
        stem: "timeline".into(),
        title: format!(
            "{}: replication 0, seed {}{}",
            model.name,
            model.simulation.seed,
            if tl.truncated { " (truncated)" } else { "" }
        ),
        x_desc: "simulated time (days)".into(),
        x_max: days(horizon.as_us()),
        panels: vec![("VMs down".into(), vms), ("hosts down".into(), hosts)],
    })
}

/// Time from a VM going down to running again, pooled over replications.
pub fn recovery_cdf(model: &Model, result: &RunResult) -> Option<LogCdf> {
    let pooled = &result.charts.vm_outage_us;
    let mut mins: Vec<f64> = pooled.kept().iter().map(|us| *us as f64 / 60e6).collect();
    if mins.is_empty() {
        return None;
    }
    mins.sort_unstable_by(f64::total_cmp);
    Some(LogCdf {
        stem: "recovery_time_cdf".into(),
        title: format!(
            "{}: VM recovery time (failure to running again)",
            model.name
        ),
        x_desc: "recovery time (minutes, log scale)".into(),
        y_desc: "fraction of VM outages".into(),
        series: vec![(format!("{} outages", pooled.seen()), mins)],
        markers: vec![
            (5.0, "5 min".into()),
            (60.0, "1 h".into()),
            (1440.0, "1 d".into()),
        ],
        note: pooled
            .sampled()
            .then(|| format!("uniform sample of {} shown", pooled.kept().len())),
        x_as_availability: false,
    })
}

/// Live-migration blackouts pooled over replications, when any migration happened, with
/// Google's published median and p99 (Ruprecht et al., VEE 2018) for reference.
pub fn blackout_histogram(model: &Model, result: &RunResult) -> Option<super::plots::Histogram> {
    let pooled = &result.charts.blackout_us;
    let values: Vec<f64> = pooled.kept().iter().map(|us| *us as f64 / 1e3).collect();
    if values.is_empty() {
        return None;
    }
    Some(super::plots::Histogram {
        stem: "blackout_histogram".into(),
        title: format!(
            "{}: live-migration blackout ({} migrations)",
            model.name,
            pooled.seen()
        ),
        x_desc: "blackout (ms)".into(),
        y_desc: if pooled.sampled() {
            format!("migrations (uniform sample of {})", values.len())
        } else {
            "migrations".into()
        },
        values,
        bins: 50,
        markers: vec![(50.0, " Google p50".into()), (300.0, " Google p99".into())],
    })
}
