//! The short human summary `hasim run` prints.

use crate::runner::RunResult;
use crate::scenario::model::Model;
use std::fmt::Write;

/// Metrics shown first, in this order; the rest follow alphabetically.
const HEADLINE: &[&str] = &[
    "vm_availability",
    "vm_nines",
    "downtime_min_per_vm_year_mean",
    "downtime_min_per_vm_year_p50",
    "downtime_min_per_vm_year_p99",
    "downtime_min_per_vm_year_max",
    "host_availability",
    "host_failures",
    "domain_outages",
];

/// A number for tables: six decimals near 1 (availability), four elsewhere, one when large.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() < 1e-3 {
        format!("{x:.3e}")
    } else if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else if x.abs() >= 0.99 && x.abs() < 1.0 {
        format!("{x:.6}")
    } else {
        format!("{x:.4}")
    }
}

pub fn summary(model: &Model, result: &RunResult) -> String {
    let mut s = String::new();
    let t = &model.topology;
    let shard = if result.is_shard(model) {
        format!(" (shard {}..{})", result.range.start, result.range.end)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "{}: {} hosts, {} VMs, policy {}, {} replications{shard} x {}, seed {}",
        model.name,
        t.hosts.len(),
        model.vms.len(),
        model.policy.name(),
        model.simulation.replications,
        model.simulation.horizon,
        model.simulation.seed
    );
    let _ = writeln!(s, "{:<48} {:>14}  {:<32} unit", "metric", "mean", "95% CI");
    let mut names: Vec<&str> = HEADLINE
        .iter()
        .copied()
        .filter(|n| result.metrics.contains_key(*n))
        .collect();
    for k in result.metrics.keys() {
        if !HEADLINE.contains(&k.as_str()) && result.metrics[k].mean != 0.0 {
            names.push(k);
        }
    }
    for n in names {
        let m = &result.metrics[n];
        let ci = match m.ci95 {
            Some((lo, hi)) => format!("[{}, {}]", num(lo), num(hi)),
            None => "-".into(),
        };
        let _ = writeln!(s, "{:<48} {:>14}  {:<32} {}", n, num(m.mean), ci, m.unit);
    }
    s
}

/// Why a check has no measured value, in words: an interval of one replication, or a value the
/// run did not produce (a metric of a mechanism the scenario lacks, nines of perfect
/// availability).
pub fn not_measured(c: &crate::metrics::expect::CheckResult, replications: u32) -> String {
    use crate::metrics::expect::Stat;
    if c.expectation.stat != Stat::Mean && replications < 2 {
        format!(
            "nothing (a 95 % interval needs at least 2 replications; this run has {replications})"
        )
    } else {
        "not measured".into()
    }
}

/// One line per `[expect]` check with its measured value; `None` if the scenario has none.
pub fn checks(checks: &[crate::metrics::expect::CheckResult], replications: u32) -> String {
    let mut s = String::new();
    for c in checks {
        let measured = c
            .measured
            .map(|m| format!("{m}"))
            .unwrap_or_else(|| not_measured(c, replications));
        let verdict = if c.passed { "ok" } else { "FAILED" };
        let _ = writeln!(
            s,
            "expect {}: measured {measured}: {verdict}",
            c.expectation
        );
    }
    s
}
