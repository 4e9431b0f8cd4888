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
        // The path is how the test named the file, not a property of the run.
        v["scenario"]["file"] = serde_json::Value::String(format!("{stem}.toml"));
        // The per-replication values are what the snapshotted means and intervals are
        // computed from (the merge tests check that); the snapshot keeps to the summary.
        v.as_object_mut().unwrap().remove("per_replication");
        insta::assert_json_snapshot!(format!("{stem}_summary"), v);
    }
}
