//! One seed reproduces a run bit for bit, whatever the thread count; another seed does not.

use crate::support::{hasim, scratch, stderr};
use std::path::Path;

fn run_to(out: &Path, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let mut args = vec![
        "run",
        "scenarios/rack_outages.toml",
        "-n",
        "6",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = hasim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (
        std::fs::read(out.join("summary.json")).unwrap(),
        std::fs::read(out.join("vms.csv")).unwrap(),
    )
}

#[test]
fn same_seed_gives_byte_identical_results() {
    let dir = scratch("determinism_same");
    let a = run_to(&dir.join("a"), &["--seed", "11"]);
    let b = run_to(&dir.join("b"), &["--seed", "11"]);
    assert!(
        a.0 == b.0,
        "summary.json differs between two runs with the same seed"
    );
    assert!(
        a.1 == b.1,
        "vms.csv differs between two runs with the same seed"
    );
}

#[test]
fn thread_count_does_not_change_results() {
    let dir = scratch("determinism_threads");
    let one = run_to(&dir.join("t1"), &["--seed", "5", "--threads", "1"]);
    let two = run_to(&dir.join("t2"), &["--seed", "5", "--threads", "2"]);
    assert!(
        one.0 == two.0 && one.1 == two.1,
        "--threads 1 and --threads 2 differ"
    );
}

#[test]
fn different_seeds_give_different_results() {
    let dir = scratch("determinism_seeds");
    let a = run_to(&dir.join("a"), &["--seed", "1"]);
    let b = run_to(&dir.join("b"), &["--seed", "2"]);
    let metrics = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes).unwrap()["metrics"].clone()
    };
    assert_ne!(metrics(&a.0), metrics(&b.0));
}

/// Replication r does not depend on how many replications run, so `-n 6` contains `-n 3`.
#[test]
fn replications_are_independent_of_their_count() {
    let model = hasim::scenario::load(Path::new("scenarios/rack_outages.toml"), &[]).unwrap();
    let alone = hasim::runner::run_replication(&model, 4).unwrap();
    let (_, outputs) = crate::support::run_outputs(&model, Some(2));
    assert_eq!(alone.vm_time_us, outputs[4].vm_time_us);
}
