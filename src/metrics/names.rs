//! Display names and short units of every metric, the one place charts (titles, axis labels,
//! legends) and reports take them from instead of the raw keys. The keys themselves are the
//! contract (`summary::registry`); these are for people and may be reworded freely.

/// A metric's name as people read it: "VM availability", "Downtime per VM-year, p99".
pub fn label(metric: &str) -> String {
    if let Some(cause) = metric
        .strip_prefix("downtime_by_cause_")
        .and_then(|c| c.strip_suffix("_min_per_vm_year"))
    {
        return format!("Downtime per VM-year: {}", cause.replace('_', " "));
    }
    if let Some(stat) = metric.strip_prefix("downtime_min_per_vm_year_") {
        return format!("Downtime per VM-year, {}", stat_label(stat));
    }
    let fixed = match metric {
        "vm_availability" => "VM availability",
        "vm_nines" => "VM availability in nines",
        "p_any_vm_below_99_95" => "P(some VM below 99.95 %)",
        "recovery_time_s_mean" => "Recovery time, mean",
        "recovery_time_s_p50" => "Recovery time, median",
        "recovery_time_s_p99" => "Recovery time, p99",
        "host_availability" => "Host availability",
        "host_failures" => "Host failures",
        "domain_outages" => "Domain outages",
        "live_migrations" => "Live migrations",
        "live_migration_aborts" => "Live-migration aborts",
        "cold_migrations" => "Cold migrations",
        "maintenance_skipped_hosts" => "Hosts skipped by maintenance",
        "blackout_ms_p50" => "Migration blackout, median",
        "blackout_ms_p99" => "Migration blackout, p99",
        "blackout_ms_max" => "Migration blackout, max",
        "brownout_s_mean" => "Migration brownout, mean",
        "brownout_s_p99" => "Migration brownout, p99",
        "migration_duration_s_p50" => "Migration duration, median",
        "migration_duration_s_p99" => "Migration duration, p99",
        "migrated_gib" => "Data migrated",
        "maintenance_makespan_h" => "Maintenance cycle makespan",
        "split_brain_events" => "Split-brain events",
        "data_loss_events" => "Data-loss events",
        "evacuations" => "Evacuations",
        "evacuation_failures" => "Failed evacuations",
        "fencing_failures" => "Fencing failures",
        "false_failovers" => "False failovers",
        "commands_refused" => "Commands refused by Nova",
        "controller_crashes" => "Controller crashes",
        "controller_restarts" => "Controller restarts",
        "controller_observations_lost" => "Observations lost by the controller",
        other => return other.replace('_', " "),
    };
    fixed.to_string()
}

fn stat_label(stat: &str) -> &str {
    match stat {
        "p50" => "median",
        "p999" => "p99.9",
        "mean" => "mean over VMs",
        "max" => "worst VM",
        s => s,
    }
}

/// A unit as an axis shows it: "min / VM-year", "s", "per replication".
pub fn short_unit(unit: &str) -> &str {
    match unit {
        "minutes per VM-year" => "min / VM-year",
        "count per replication" => "per replication",
        "probability per replication" => "probability",
        "seconds" => "s",
        "milliseconds" => "ms",
        "hours" => "h",
        "GiB per replication" => "GiB per replication",
        u => u,
    }
}

/// "Label (unit)" for an axis or a table; no parentheses for a fraction or a nines figure,
/// which read as themselves.
pub fn with_unit(metric: &str, unit: &str) -> String {
    match unit {
        "fraction" | "nines" | "" => label(metric),
        u => format!("{} ({})", label(metric), short_unit(u)),
    }
}

/// A scenario key of a sweep axis as people read it (the key itself when it has no name here).
pub fn key_label(key: &str) -> String {
    match key {
        "failures.host.time_between.mean" => "Host MTBF (mean time between crashes)".into(),
        "failures.host.repair.mean" => "Host repair time, mean".into(),
        k if k.starts_with("workloads.") && k.ends_with(".boot_time") => {
            format!(
                "VM boot time ({})",
                &k["workloads.".len()..k.len() - ".boot_time".len()]
            )
        }
        "policy.name" => "HA policy".into(),
        k => k.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::registry;

    #[test]
    fn every_registered_metric_has_a_name_of_its_own() {
        let mut seen = std::collections::BTreeSet::new();
        for d in registry() {
            let l = label(&d.name);
            assert!(!l.contains('_'), "{}: {l}", d.name);
            assert!(seen.insert(l.clone()), "{} shares its name {l}", d.name);
        }
        assert_eq!(
            with_unit("downtime_min_per_vm_year_p99", "minutes per VM-year"),
            "Downtime per VM-year, p99 (min / VM-year)"
        );
    }
}
