//! Shards and merge: a run split into `--replications A..B` shards on any thread counts and
//! merged is the run made at once, byte for byte; shards that overlap or leave a gap are
//! refused with exit 5, naming the replications.

use crate::support::{dir_names, hasim, scratch, stderr};
use std::path::Path;

const SCENARIO: &str = "scenarios/rack_outages.toml";

/// The files a merge must reproduce exactly.
const FILES: [&str; 4] = ["summary.json", "replications.csv", "vms.csv", "hosts.csv"];

fn run(out: &Path, extra: &[&str]) {
    let mut args = vec!["run", SCENARIO, "-n", "8", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = hasim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn merge(out: &Path, shards: &[&Path]) -> std::process::Output {
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|s| s.to_str().unwrap()));
    args.extend(["--out", out.to_str().unwrap()]);
    hasim(&args)
}

#[test]
fn three_shards_merged_are_the_full_run_byte_for_byte() {
    let dir = scratch("shards_merge");
    run(&dir.join("full"), &["--threads", "2"]);
    // Uneven shards, each on another thread count, given to merge out of order.
    run(
        &dir.join("a"),
        &["--replications", "0..2", "--threads", "1"],
    );
    run(
        &dir.join("b"),
        &["--replications", "2..7", "--threads", "2"],
    );
    run(
        &dir.join("c"),
        &["--replications", "7..8", "--threads", "3"],
    );
    let o = merge(
        &dir.join("merged"),
        &[&dir.join("c"), &dir.join("a"), &dir.join("b")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in FILES {
        let want = std::fs::read(dir.join("full").join(f)).unwrap();
        let got = std::fs::read(dir.join("merged").join(f)).unwrap();
        assert!(want == got, "merged {f} differs from the full run's");
    }
    // Every file of the full run, the charts (SVG and PNG) and report.html too, drawn from the
    // shards' chart_data.bin; nothing else.
    let full = dir_names(&dir.join("full"));
    assert!(
        full.contains(&"timeline.svg".to_string()) && full.contains(&"report.html".to_string())
    );
    assert_eq!(dir_names(&dir.join("merged")), full);
    for f in &full {
        let want = std::fs::read(dir.join("full").join(f)).unwrap();
        let got = std::fs::read(dir.join("merged").join(f)).unwrap();
        assert!(want == got, "merged {f} differs from the full run's");
    }
    // A shard without its chart inputs (or with broken ones) is refused, named.
    std::fs::remove_file(dir.join("c/chart_data.bin")).unwrap();
    let o = merge(
        &dir.join("merged2"),
        &[&dir.join("a"), &dir.join("b"), &dir.join("c")],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("chart_data.bin is in 2 of the 3 shards"),
        "{}",
        stderr(&o)
    );
    std::fs::write(dir.join("c/chart_data.bin"), b"HASIMCD1\x01").unwrap();
    let o = merge(
        &dir.join("merged2"),
        &[&dir.join("a"), &dir.join("b"), &dir.join("c")],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("c/chart_data.bin: truncated"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("merged2").exists());
    // A shard is not the run: its summary covers its own replications only.
    let shard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("b/summary.json")).unwrap()).unwrap();
    assert_eq!(shard["replications"], 5);
    assert_eq!(
        shard["shard"],
        serde_json::json!({"first": 2, "end": 7, "of": 8})
    );
    assert_eq!(shard["per_replication"][0]["replication"], 2);
}

/// The summary's mean is the mean of its per-replication values, and replications.csv holds
/// the same values (computed here from the files, not by hasim's aggregation).
#[test]
fn per_replication_values_are_what_the_summary_is_computed_from() {
    let dir = scratch("shards_values");
    run(&dir.join("full"), &[]);
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("full/summary.json")).unwrap()).unwrap();
    let reps = s["per_replication"].as_array().unwrap();
    assert_eq!(reps.len(), 8);
    let xs: Vec<f64> = reps
        .iter()
        .map(|r| r["metrics"]["host_failures"].as_f64().unwrap())
        .collect();
    let mean = xs.iter().sum::<f64>() / 8.0;
    let reported = s["metrics"]["host_failures"]["mean"].as_f64().unwrap();
    assert!(
        (mean - reported).abs() < 1e-9 * mean,
        "{mean} vs {reported}"
    );
    let events: u64 = reps.iter().map(|r| r["events"].as_u64().unwrap()).sum();
    assert_eq!(s["engine"]["events_total"].as_u64().unwrap(), events);
    let csv = std::fs::read_to_string(dir.join("full/replications.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("replication,seed,metric,value"));
    let from_csv: Vec<f64> = lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2] == "host_failures").then(|| f[3].parse().unwrap())
        })
        .collect();
    assert_eq!(from_csv, xs);
}

#[test]
fn overlapping_or_missing_shards_are_refused_naming_the_replications() {
    let dir = scratch("shards_misfit");
    run(&dir.join("a"), &["--replications", "0..4"]);
    run(&dir.join("b"), &["--replications", "3..6"]);
    run(&dir.join("c"), &["--replications", "7..8"]);
    let o = merge(
        &dir.join("m"),
        &[&dir.join("a"), &dir.join("b"), &dir.join("c")],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("replication 3 is in both"), "{e}");
    assert!(e.contains("replications 6 of 0..8 are in no shard"), "{e}");
    assert!(!dir.join("m").exists(), "a refused merge writes nothing");
    // Shards of another run (another seed) do not merge either.
    run(&dir.join("d"), &["--replications", "4..8", "--seed", "7"]);
    let o = merge(&dir.join("m"), &[&dir.join("a"), &dir.join("d")]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("are not shards of one run"),
        "{}",
        stderr(&o)
    );
    // A shard past the run is a usage error before anything runs.
    let o = hasim(&["run", SCENARIO, "-n", "8", "--replications", "6..9"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("the run has 8 replications"));
}
