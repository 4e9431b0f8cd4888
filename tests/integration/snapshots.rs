//! Every bundled scenario's summary, with few replications, as a reviewed snapshot: a behaviour
//! change shows up as a diff in `tests/integration/snapshots/`.

use crate::support::{runs_upstream_masakari, toml_files};
use hasim::scenario::load;

#[test]
fn every_bundled_scenario_summary() {
    let files = toml_files("scenarios");
    assert!(files.len() >= 7);
    for file in files.into_iter().filter(|f| !runs_upstream_masakari(f)) {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        // A trace replay has no randomness; one replication is the answer.
        let reps = if stem.starts_with("trace_") { "1" } else { "3" };
        let model = load(&file, &[format!("simulation.replications={reps}")])
            .unwrap_or_else(|e| panic!("{e}"));
        let result = hasim::runner::run(&model, Some(2)).unwrap();
        let mut v = hasim::report::json::summary(&model, &result);
        every_metric_present(&stem, &v, !model.maintenance.is_empty());
        // The path is how the test named the file, not a property of the run.
        v["scenario"]["file"] = serde_json::Value::String(format!("{stem}.toml"));
        // The per-replication values are what the snapshotted means and intervals are
        // computed from (the merge tests check that); the snapshot keeps to the summary.
        v.as_object_mut().unwrap().remove("per_replication");
        insta::assert_json_snapshot!(format!("{stem}_summary"), v);
    }
}

/// The contract of `summary.json`: every metric of the registry under its name, `null` where no
/// replication defines it, and a metric is undefined exactly when the mechanism it measures
/// never happened (checked against the counters that say whether it did).
fn every_metric_present(stem: &str, v: &serde_json::Value, has_campaign: bool) {
    let metrics = v["metrics"].as_object().unwrap();
    let names: Vec<String> = hasim::metrics::summary::registry()
        .into_iter()
        .map(|d| d.name)
        .collect();
    let mut keys: Vec<&String> = metrics.keys().collect();
    keys.sort();
    let mut want: Vec<&String> = names.iter().collect();
    want.sort();
    assert_eq!(
        keys, want,
        "{stem}: summary.json metrics differ from the registry"
    );
    for (name, m) in metrics {
        let defined = m["replications_defined"].as_u64().unwrap();
        assert!(m["unit"].is_string(), "{stem}: {name} has no unit");
        if m["mean"].is_null() {
            assert!(
                m["ci95"].is_null(),
                "{stem}: {name}: an interval without a mean"
            );
            assert!(name == "vm_nines" || defined == 0, "{stem}: {name}");
        } else {
            assert!(defined >= 1, "{stem}: {name} has a mean but no replication");
        }
        if defined < 2 && name != "p_any_vm_below_99_95" {
            assert!(
                m["ci95"].is_null(),
                "{stem}: {name}: a t interval from {defined}"
            );
        }
    }
    let mean = |n: &str| metrics[n]["mean"].as_f64();
    // A blackout is measured on a completed live migration: undefined iff none completed.
    let migrated = mean("live_migrations").is_some_and(|x| x > 0.0);
    for n in [
        "blackout_ms_p50",
        "blackout_ms_p99",
        "brownout_s_mean",
        "migration_duration_s_p50",
    ] {
        assert_eq!(
            mean(n).is_some(),
            migrated,
            "{stem}: {n} against live_migrations"
        );
    }
    // Maintenance counters exist exactly when the scenario has a campaign.
    assert_eq!(
        mean("maintenance_skipped_hosts").is_some(),
        has_campaign,
        "{stem}"
    );
    // A recovery time needs a VM outage that ended: some downtime in some replication (an
    // outage may also last to the horizon, guests left SHUTOFF, and give no recovery time).
    let down = mean("downtime_min_per_vm_year_mean").unwrap();
    if mean("recovery_time_s_mean").is_some() {
        assert!(down > 0.0, "{stem}: a recovery time without downtime");
    }
    if down == 0.0 {
        assert!(mean("recovery_time_s_mean").is_none(), "{stem}");
    }
}
