//! Every bundled scenario's summary, with few replications, as a reviewed snapshot: a behaviour
//! change shows up as a diff in `tests/integration/snapshots/`.

use hasim::scenario::load;
use std::path::Path;

fn snapshot_of(file: &str, reps: &str) -> serde_json::Value {
    let overrides = vec![format!("simulation.replications={reps}")];
    let model = load(Path::new(file), &overrides).unwrap();
    let result = hasim::runner::run(&model, Some(2)).unwrap();
    let mut v = hasim::report::json::summary(&model, &result);
    // The path is how the test named the file, not a property of the run.
    v["scenario"]["file"] = serde_json::Value::String(
        Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into(),
    );
    v
}

#[test]
fn quickstart_summary() {
    insta::assert_json_snapshot!(snapshot_of("scenarios/quickstart.toml", "3"));
}

#[test]
fn rack_outages_summary() {
    insta::assert_json_snapshot!(snapshot_of("scenarios/rack_outages.toml", "3"));
}

#[test]
fn trace_lanl05_summary() {
    insta::assert_json_snapshot!(snapshot_of("scenarios/trace_lanl05.toml", "1"));
}
