//! From raw replication output to named metrics: per replication first, then mean and 95 %
//! interval across replications. Metric names are a user contract (scripts and `[expect]`
//! tables use them): add names, never rename. `registry()` lists every name with its unit and
//! interval kind, so scenarios can be checked before anything runs.

use super::ledger::VmState;
use super::stats::{mean_ci95, percentile_sorted, wilson_ci95};
use crate::core::time::US_PER_Y;
use crate::metrics::replication::ReplicationOutput;
use std::collections::BTreeMap;

/// How a metric's interval is computed across replications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Student-t on the per-replication values.
    StudentT,
    /// Wilson score interval on a per-replication 0/1 outcome (rare events).
    Wilson,
    /// Mapped from another metric's interval (nines from availability).
    Derived,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::StudentT => "student-t",
            Interval::Wilson => "wilson",
            Interval::Derived => "derived",
        }
    }
}

/// A metric's name, unit and interval kind.
#[derive(Clone, Debug)]
pub struct MetricDef {
    pub name: String,
    pub unit: &'static str,
    pub interval: Interval,
}

/// One metric aggregated over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSummary {
    pub mean: f64,
    pub ci95: Option<(f64, f64)>,
    pub unit: &'static str,
}

const MIN_PER_VM_YEAR: &str = "minutes per VM-year";
const FRACTION: &str = "fraction";
const COUNT: &str = "count per replication";
/// The availability threshold of the rare-event probability metric.
const SLA_AVAILABILITY: f64 = 0.9995;

fn down_causes() -> impl Iterator<Item = VmState> {
    VmState::ALL
        .into_iter()
        .filter(|s| s.is_outage() && *s != VmState::Blackout)
}

/// Every metric `summary.json` may contain.
pub fn registry() -> Vec<MetricDef> {
    let t = |name: &str, unit| MetricDef {
        name: name.to_string(),
        unit,
        interval: Interval::StudentT,
    };
    let mut v = vec![
        t("vm_availability", FRACTION),
        MetricDef {
            name: "vm_nines".into(),
            unit: "nines",
            interval: Interval::Derived,
        },
        t("downtime_min_per_vm_year_mean", MIN_PER_VM_YEAR),
        t("downtime_min_per_vm_year_p50", MIN_PER_VM_YEAR),
        t("downtime_min_per_vm_year_p99", MIN_PER_VM_YEAR),
        t("downtime_min_per_vm_year_p999", MIN_PER_VM_YEAR),
        t("downtime_min_per_vm_year_max", MIN_PER_VM_YEAR),
        MetricDef {
            name: "p_any_vm_below_99_95".into(),
            unit: "probability per replication",
            interval: Interval::Wilson,
        },
        t("recovery_time_s_mean", "seconds"),
        t("recovery_time_s_p50", "seconds"),
        t("recovery_time_s_p99", "seconds"),
        t("host_availability", FRACTION),
        t("host_failures", COUNT),
        t("domain_outages", COUNT),
        t("live_migrations", COUNT),
        t("live_migration_aborts", COUNT),
        t("cold_migrations", COUNT),
        t("maintenance_skipped_hosts", COUNT),
        t("blackout_ms_p50", "milliseconds"),
        t("blackout_ms_p99", "milliseconds"),
        t("blackout_ms_max", "milliseconds"),
        t("brownout_s_mean", "seconds"),
        t("brownout_s_p99", "seconds"),
        t("migration_duration_s_p50", "seconds"),
        t("migration_duration_s_p99", "seconds"),
        t("migrated_gib", "GiB per replication"),
        t("maintenance_makespan_h", "hours"),
        t("split_brain_events", COUNT),
        t("data_loss_events", COUNT),
        t("evacuations", COUNT),
        t("evacuation_failures", COUNT),
        t("fencing_failures", COUNT),
        t("false_failovers", COUNT),
        t("host_errors", COUNT),
        t("cross_zone_moves", COUNT),
        t("failed_reboots", COUNT),
        t("commands_refused", COUNT),
        t("controller_crashes", COUNT),
        t("controller_restarts", COUNT),
        t("controller_observations_lost", COUNT),
    ];
    v.extend(down_causes().map(|s| {
        t(
            &format!("downtime_by_cause_{}_min_per_vm_year", s.name()),
            MIN_PER_VM_YEAR,
        )
    }));
    v
}

/// Per-VM figures of one replication.
#[derive(Clone, Debug)]
pub struct VmFigures {
    /// Over the time it should run; 1 for a VM stopped by its user for the whole horizon.
    pub availability: f64,
    /// It should have run at some time in the horizon (only such VMs enter the mean).
    pub should_run: bool,
    pub downtime_min_per_year: f64,
}

pub fn vm_figures(out: &ReplicationOutput) -> Vec<VmFigures> {
    let years = out.horizon.as_us() as f64 / US_PER_Y as f64;
    out.vm_time_us
        .iter()
        .map(|t| {
            // Lifetime: the time it should run (a user's stop is neither up nor down).
            let total: u64 = t.iter().sum::<u64>() - t[VmState::Stopped as usize];
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
                should_run: total > 0,
                downtime_min_per_year: down as f64 / 60e6 / years,
            }
        })
        .collect()
}

/// The value of every registered metric (except derived ones) in one replication.
pub fn replication_metrics(out: &ReplicationOutput) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let figs = vm_figures(out);
    let n = figs.len().max(1) as f64;
    let years = out.horizon.as_us() as f64 / US_PER_Y as f64;
    let running: Vec<f64> = figs
        .iter()
        .filter(|f| f.should_run)
        .map(|f| f.availability)
        .collect();
    m.insert(
        "vm_availability".into(),
        if running.is_empty() {
            1.0
        } else {
            running.iter().sum::<f64>() / running.len() as f64
        },
    );
    let mut down: Vec<f64> = figs.iter().map(|f| f.downtime_min_per_year).collect();
    down.sort_by(f64::total_cmp);
    m.insert(
        "downtime_min_per_vm_year_mean".into(),
        down.iter().sum::<f64>() / n,
    );
    for (name, p) in [("p50", 50.0), ("p99", 99.0), ("p999", 99.9)] {
        m.insert(
            format!("downtime_min_per_vm_year_{name}"),
            percentile_sorted(&down, p),
        );
    }
    m.insert(
        "downtime_min_per_vm_year_max".into(),
        *down.last().unwrap_or(&0.0),
    );
    // Recovery time: each VM outage from failure to running again. A replication without any
    // outage has no recovery time; it is left out of that metric's interval (see `aggregate`).
    let outages = &out.vm_outage_us;
    if !outages.is_empty() {
        m.insert("recovery_time_s_mean".into(), outages.mean(1e6));
        m.insert("recovery_time_s_p50".into(), outages.percentile(50.0, 1e6));
        m.insert("recovery_time_s_p99".into(), outages.percentile(99.0, 1e6));
    }
    let any_below = figs.iter().any(|f| f.availability < SLA_AVAILABILITY);
    m.insert(
        "p_any_vm_below_99_95".into(),
        if any_below { 1.0 } else { 0.0 },
    );
    for s in down_causes() {
        let total_us: u64 = out.vm_time_us.iter().map(|t| t[s as usize]).sum();
        m.insert(
            format!("downtime_by_cause_{}_min_per_vm_year", s.name()),
            total_us as f64 / 60e6 / years / n,
        );
    }
    let (down_us, obs_us): (u64, u64) = (
        out.host_down_us.iter().sum(),
        out.host_observed_us.iter().sum(),
    );
    m.insert(
        "host_availability".into(),
        if obs_us == 0 {
            1.0
        } else {
            1.0 - down_us as f64 / obs_us as f64
        },
    );
    m.insert(
        "host_failures".into(),
        out.host_failures.iter().map(|&f| f64::from(f)).sum(),
    );
    m.insert("domain_outages".into(), out.domain_outages as f64);
    let ms = &out.maintenance;
    if !out.model_has_maintenance {
        // Scenarios without maintenance report no maintenance metrics at all.
    } else {
        m.insert("live_migrations".into(), ms.live_migrations as f64);
        m.insert(
            "live_migration_aborts".into(),
            ms.live_migration_aborts as f64,
        );
        m.insert("cold_migrations".into(), ms.cold_migrations as f64);
        m.insert("maintenance_skipped_hosts".into(), ms.skipped_hosts as f64);
        m.insert(
            "migrated_gib".into(),
            ms.migrated_bytes as f64 / (1u64 << 30) as f64,
        );
    }
    let sorted = |xs: &[u64], scale: f64| {
        let mut v: Vec<f64> = xs.iter().map(|x| *x as f64 / scale).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    if let Some(max) = ms.blackout_us.max(1e3) {
        let (b, br) = (&ms.blackout_us, &ms.brownout_us);
        m.insert("blackout_ms_p50".into(), b.percentile(50.0, 1e3));
        m.insert("blackout_ms_p99".into(), b.percentile(99.0, 1e3));
        m.insert("blackout_ms_max".into(), max);
        m.insert("brownout_s_mean".into(), br.mean(1e6));
        m.insert("brownout_s_p99".into(), br.percentile(99.0, 1e6));
    }
    let d = &ms.duration_us;
    if !d.is_empty() {
        m.insert("migration_duration_s_p50".into(), d.percentile(50.0, 1e6));
        m.insert("migration_duration_s_p99".into(), d.percentile(99.0, 1e6));
    }
    if !ms.makespans_us.is_empty() {
        let mk = sorted(&ms.makespans_us, 3.6e9);
        m.insert(
            "maintenance_makespan_h".into(),
            mk.iter().sum::<f64>() / mk.len() as f64,
        );
    }
    let ha = &out.ha;
    for (name, v) in [
        ("split_brain_events", ha.split_brain_events),
        ("data_loss_events", ha.data_loss_events),
        ("evacuations", ha.evacuations),
        ("evacuation_failures", ha.evacuation_failures),
        ("fencing_failures", ha.fencing_failures),
        ("false_failovers", ha.false_failovers),
        ("host_errors", ha.host_errors),
        ("cross_zone_moves", ha.cross_zone_moves),
        ("failed_reboots", ha.failed_reboots),
        ("commands_refused", ha.commands_refused),
        ("controller_crashes", ha.controller_crashes),
        ("controller_restarts", ha.controller_restarts),
        (
            "controller_observations_lost",
            ha.controller_observations_lost,
        ),
    ] {
        m.insert(name.into(), v as f64);
    }
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

/// Clamps a Student-t interval to the range its metric can take. Every Student-t metric is a
/// count, a duration, a size or a fraction of time, so never below 0, and fractions never above
/// 1; with few replications the t interval's tails reach past those bounds (availability above
/// 1, a count below 0), which says nothing the range does not. Clamping loses no coverage: the
/// true value lies in the range, so the clamped interval holds it whenever the raw one does.
pub fn clamp_to_range((lo, hi): (f64, f64), unit: &str) -> (f64, f64) {
    let max = if unit == FRACTION || unit == FRACTION_OF_TIME {
        1.0
    } else {
        f64::INFINITY
    };
    (lo.clamp(0.0, max), hi.clamp(0.0, max))
}

/// The unit of the hosts-down concurrency fractions.
pub const FRACTION_OF_TIME: &str = "fraction of time";

/// Aggregates per-replication metrics (in replication order) into mean and interval.
pub fn aggregate(per_rep: &[BTreeMap<String, f64>]) -> BTreeMap<String, MetricSummary> {
    let mut out = BTreeMap::new();
    if per_rep.is_empty() {
        return out;
    }
    for def in registry() {
        let Some(xs) = per_rep
            .iter()
            .map(|m| m.get(&def.name).copied())
            .collect::<Option<Vec<f64>>>()
        else {
            continue;
        };
        let (mean, ci95) = match def.interval {
            Interval::StudentT => {
                let (mean, ci95) = mean_ci95(&xs);
                (mean, ci95.map(|ci| clamp_to_range(ci, def.unit)))
            }
            Interval::Wilson => {
                let hits = xs.iter().filter(|x| **x > 0.5).count();
                (
                    hits as f64 / xs.len() as f64,
                    Some(wilson_ci95(hits, xs.len())),
                )
            }
            Interval::Derived => continue,
        };
        out.insert(
            def.name,
            MetricSummary {
                mean,
                ci95,
                unit: def.unit,
            },
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_stay_inside_the_metric_range() {
        // Two replications far apart: the raw t interval is about mean +- 6.4.
        let reps: Vec<BTreeMap<String, f64>> = [0.999, 0.0]
            .iter()
            .map(|a| {
                let mut m = BTreeMap::new();
                m.insert("vm_availability".to_string(), *a);
                m.insert("host_failures".to_string(), *a);
                m
            })
            .collect();
        let out = aggregate(&reps);
        assert_eq!(out["vm_availability"].ci95, Some((0.0, 1.0)));
        let (lo, hi) = out["host_failures"].ci95.unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 1.0, "counts have no upper bound");
    }
}
