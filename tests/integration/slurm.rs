//! The Slurm job array of `hasim slurm`, on a real Slurm: a run of 8 replications as a 4-task
//! array plus the dependent merge job is byte-identical to the run made on one machine (every
//! file: tables, summary, charts, report.html), and so is a sweep's.
//!
//! Needs a running Slurm (`bash tests/scripts/slurm.sh install && bash tests/scripts/slurm.sh up`
//! starts a one-node one; `.ci/run` does). Without one it is skipped with a loud message, except
//! under CI (`HASIM_CI=1`, which `.ci/run` exports, or a CI system's `CI`), where it fails:
//! there it must run.

use crate::support::{files_under, hasim, scratch, stderr, stdout};

fn slurm_is_up() -> bool {
    std::process::Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

/// Whether Slurm runs here; without it `test` is skipped loudly, except under CI
/// (`HASIM_CI=1` or a CI system's `CI`), where that is a failure.
fn slurm_or_skip(test: &str) -> bool {
    if slurm_is_up() {
        return true;
    }
    let under_ci =
        std::env::var("HASIM_CI").as_deref() == Ok("1") || std::env::var_os("CI").is_some();
    assert!(
        !under_ci,
        "CI must run {test}, and sinfo finds no Slurm (.ci/run starts one)"
    );
    eprintln!(
        "\n*** SKIPPED {test}: no Slurm here (sinfo fails). Start one: bash \
         tests/scripts/slurm.sh install && bash tests/scripts/slurm.sh up ***\n"
    );
    false
}

#[test]
fn slurm_array_of_four_shards_merged_is_the_single_machine_run() {
    if !slurm_or_skip("slurm_array_of_four_shards_merged_is_the_single_machine_run") {
        return;
    }
    let dir = scratch("slurm_array");
    let (merged, single) = (dir.join("merged"), dir.join("single"));
    let scenario = "scenarios/rack_outages.toml";
    let o = hasim(&[
        "slurm",
        scenario,
        "-n",
        "8",
        "--shards",
        "4",
        "--partition",
        "debug",
        "--time",
        "10:00",
        "--out",
        merged.to_str().unwrap(),
        "--submit",
        "--wait",
    ]);
    println!("{}", stdout(&o).trim_end());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let shards = std::fs::read_dir(dir.join("merged.shards"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("shard-")
        })
        .count();
    assert_eq!(shards, 4, "one result directory per array task");
    let o = hasim(&[
        "run",
        scenario,
        "-n",
        "8",
        "--out",
        single.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every file of the run: tables, summary, charts and report.html.
    let files = crate::support::dir_names(&single);
    assert!(files.contains(&"report.html".to_string()), "{files:?}");
    assert_eq!(crate::support::dir_names(&merged), files);
    for f in &files {
        let (a, b) = (
            std::fs::read(merged.join(f)).unwrap(),
            std::fs::read(single.join(f)).unwrap(),
        );
        assert!(
            a == b,
            "slurm: {f} of the merged array differs from the single-machine run"
        );
        println!(
            "slurm: {f}: 4-shard array merged == single-machine run ({} bytes, identical)",
            a.len()
        );
    }
}

/// A sweep as a job array: 6 points in 3 array tasks (`sweep --points K/3`), merged by the
/// dependent job, is the sweep made on one machine: every file the merge writes (sweep.csv,
/// sweep.json, the charts, report.html, each point's results) byte for byte.
#[test]
fn slurm_sweep_array_merged_is_the_single_machine_sweep() {
    if !slurm_or_skip("slurm_sweep_array_merged_is_the_single_machine_sweep") {
        return;
    }
    let dir = scratch("slurm_sweep_array");
    let (merged, single) = (dir.join("merged"), dir.join("single"));
    let grid = [
        "--grid",
        "failures.host.time_between.mean=2000h,8760h,17520h",
        "--grid",
        "workloads.web.boot_time=45s,30m",
    ];
    let mut args = vec!["slurm", "scenarios/quickstart.toml", "-n", "4"];
    args.extend(grid);
    args.extend([
        "--shards",
        "3",
        "--partition",
        "debug",
        "--time",
        "10:00",
        "--out",
        merged.to_str().unwrap(),
        "--submit",
        "--wait",
    ]);
    let o = hasim(&args);
    println!("{}", stdout(&o).trim_end());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let mut args = vec!["sweep", "scenarios/quickstart.toml", "-n", "4"];
    args.extend(grid);
    args.extend(["--out", single.to_str().unwrap()]);
    let o = hasim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let files: Vec<_> = files_under(&merged)
        .into_iter()
        .map(|p| p.strip_prefix(&merged).unwrap().to_path_buf())
        .collect();
    let points = files
        .iter()
        .filter(|p| p.starts_with("points") && p.ends_with("summary.json"))
        .count();
    assert_eq!(points, 6, "one summary per point: {files:?}");
    assert!(
        files.iter().any(|p| p.as_os_str() == "sweep.csv"),
        "{files:?}"
    );
    assert!(
        files.iter().any(|p| p.as_os_str() == "report.html"),
        "{files:?}"
    );
    for f in &files {
        let (a, b) = (
            std::fs::read(merged.join(f)).unwrap(),
            std::fs::read(single.join(f)).unwrap_or_else(|e| {
                panic!("{}: not in the single-machine sweep: {e}", f.display())
            }),
        );
        assert!(
            a == b,
            "slurm sweep: {} of the merged array differs from the single-machine sweep",
            f.display()
        );
    }
    println!(
        "slurm sweep: 3-task array merged == single-machine sweep ({} files, identical)",
        files.len()
    );
}
