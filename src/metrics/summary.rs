//! From raw replication output to named metrics: per replication first, then mean and 95 %
//! interval across replications. Metric names are a user contract (scripts and `[expect]`
//! tables use them): add names, never rename.

use super::ledger::VmState;
use super::stats::{mean_ci95, percentile_sorted};
use crate::sim::engine::ReplicationOutput;
use crate::sim::time::US_PER_Y;
use std::collections::BTreeMap;

/// One metric aggregated over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSummary {
    pub mean: f64,
    pub ci95: Option<(f64, f64)>,
    pub unit: &'static str,
}

/// Per-VM figures of one replication.
#[derive(Clone, Debug)]
pub struct VmFigures {
    pub availability: f64,
    pub downtime_min_per_year: f64,
}

pub fn vm_figures(out: &ReplicationOutput) -> Vec<VmFigures> {
    let years = out.horizon.as_us() as f64 / US_PER_Y as f64;
    out.vm_time_us
        .iter()
        .map(|t| {
            let total: u64 = t.iter().sum();
            let avail: u64 = VmState::ALL
                .iter()
                .filter(|s| s.is_available())
                .map(|s| t[*s as usize])
                .sum();
            let down = total - avail;
            VmFigures {
                availability: if total == 0 {
                    1.0
                } else {
                    avail as f64 / total as f64
                },
                downtime_min_per_year: down as f64 / 60e6 / years,
            }
        })
        .collect()
}

/// The scalar metrics of one replication, by name, with their units.
pub fn replication_metrics(out: &ReplicationOutput) -> BTreeMap<String, (f64, &'static str)> {
    let mut m = BTreeMap::new();
    let figs = vm_figures(out);
    let n = figs.len().max(1) as f64;
    let years = out.horizon.as_us() as f64 / US_PER_Y as f64;
    m.insert(
        "vm_availability".into(),
        (
            figs.iter().map(|f| f.availability).sum::<f64>() / n,
            "fraction",
        ),
    );
    let mut down: Vec<f64> = figs.iter().map(|f| f.downtime_min_per_year).collect();
    down.sort_by(f64::total_cmp);
    let unit = "minutes per VM-year";
    m.insert(
        "downtime_min_per_vm_year_mean".into(),
        (down.iter().sum::<f64>() / n, unit),
    );
    m.insert(
        "downtime_min_per_vm_year_p50".into(),
        (percentile_sorted(&down, 50.0), unit),
    );
    m.insert(
        "downtime_min_per_vm_year_p99".into(),
        (percentile_sorted(&down, 99.0), unit),
    );
    m.insert(
        "downtime_min_per_vm_year_max".into(),
        (*down.last().unwrap_or(&0.0), unit),
    );
    for s in VmState::ALL
        .iter()
        .filter(|s| !s.is_available() && **s != VmState::Blackout)
    {
        let total_us: u64 = out.vm_time_us.iter().map(|t| t[*s as usize]).sum();
        m.insert(
            format!("downtime_by_cause_{}_min_per_vm_year", s.name()),
            (total_us as f64 / 60e6 / years / n, unit),
        );
    }
    let (down_us, obs_us): (u64, u64) = (
        out.host_down_us.iter().sum(),
        out.host_observed_us.iter().sum(),
    );
    m.insert(
        "host_availability".into(),
        (
            if obs_us == 0 {
                1.0
            } else {
                1.0 - down_us as f64 / obs_us as f64
            },
            "fraction",
        ),
    );
    m.insert(
        "host_failures".into(),
        (
            out.host_failures.iter().map(|&f| f64::from(f)).sum(),
            "count per replication",
        ),
    );
    m.insert(
        "domain_outages".into(),
        (out.domain_outages as f64, "count per replication"),
    );
    m
}

/// Fraction of the horizon during which exactly k hosts were down, for each k.
pub fn concurrency_fractions(out: &ReplicationOutput) -> Vec<f64> {
    let total: u64 = out.hosts_down_concurrency_us.iter().sum();
    out.hosts_down_concurrency_us
        .iter()
        .map(|&t| {
            if total == 0 {
                0.0
            } else {
                t as f64 / total as f64
            }
        })
        .collect()
}

/// Aggregates per-replication metrics (in replication order) into mean and interval.
pub fn aggregate(
    per_rep: &[BTreeMap<String, (f64, &'static str)>],
) -> BTreeMap<String, MetricSummary> {
    let mut out = BTreeMap::new();
    let Some(first) = per_rep.first() else {
        return out;
    };
    for (name, (_, unit)) in first {
        let xs: Vec<f64> = per_rep.iter().map(|m| m[name].0).collect();
        let (mean, ci95) = mean_ci95(&xs);
        out.insert(name.clone(), MetricSummary { mean, ci95, unit });
    }
    // Nines follow from availability by a monotone map, so its interval maps across too. A bound
    // of perfect availability has no finite nines and leaves the interval open (None).
    if let Some(a) = out.get("vm_availability").cloned() {
        let nines = |x: f64| {
            if x < 1.0 {
                Some(-(1.0 - x).log10())
            } else {
                None
            }
        };
        if let Some(mean) = nines(a.mean) {
            let ci95 = a
                .ci95
                .and_then(|(lo, hi)| Some((nines(lo.max(0.0))?, nines(hi)?)));
            out.insert(
                "vm_nines".into(),
                MetricSummary {
                    mean,
                    ci95,
                    unit: "nines",
                },
            );
        }
    }
    out
}
