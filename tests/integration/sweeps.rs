//! Sweeps that scale: shards of the points merged equal the whole sweep byte for byte,
//! whatever the thread count; `--resume` runs only the points a sweep had not finished; the
//! TOML-array and range forms of `--grid` mean what the comma form means; `--json` prints the
//! tables.

use crate::support::{files_under, hasim, scratch, stderr, stdout};
use std::path::Path;

const GRID: [&str; 4] = [
    "--grid",
    "failures.host.time_between.mean=2000h,8760h",
    "--grid",
    "workloads.web.boot_time=45s,30m,2h",
];

fn sweep(out: &Path, grid: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "scenarios/quickstart.toml", "-n", "3"];
    args.extend_from_slice(grid);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = hasim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// Every file under `dir`, relative path and bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let bytes = std::fs::read(&p).unwrap();
            (rel, bytes)
        })
        .collect()
}

#[test]
fn sweep_shards_merged_are_the_whole_sweep_byte_for_byte() {
    let dir = scratch("sweeps_merge");
    sweep(&dir.join("full"), &GRID, &["--threads", "2"]);
    sweep(
        &dir.join("a"),
        &GRID,
        &["--points", "1/3", "--threads", "1"],
    );
    sweep(
        &dir.join("b"),
        &GRID,
        &["--points", "2/3", "--threads", "2"],
    );
    sweep(
        &dir.join("c"),
        &GRID,
        &["--points", "3/3", "--threads", "3"],
    );
    let m = dir.join("merged");
    let o = hasim(&[
        "merge",
        dir.join("c").to_str().unwrap(),
        dir.join("a").to_str().unwrap(),
        dir.join("b").to_str().unwrap(),
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every file of the whole sweep, report.html included.
    let full = tree(&dir.join("full"));
    assert!(full.iter().any(|(n, _)| n == "report.html"));
    let merged = tree(&m);
    let names: Vec<&str> = full.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"points/00005/summary.json"), "{names:?}");
    assert!(names.contains(&"sweep.csv") && names.contains(&"sweep.json"));
    assert_eq!(
        names,
        merged.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    for ((n, a), (_, b)) in full.iter().zip(&merged) {
        assert!(a == b, "merged {n} differs from the whole sweep's");
    }
    // A shard missing: refused, naming the points.
    let o = hasim(&[
        "merge",
        dir.join("a").to_str().unwrap(),
        dir.join("c").to_str().unwrap(),
        "--out",
        dir.join("m2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("points 2..4 of 0..6 are in no shard"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn resume_runs_only_the_missing_points() {
    let dir = scratch("sweeps_resume");
    let out = dir.join("s");
    sweep(&out, &GRID, &[]);
    let before = std::fs::read(out.join("sweep.csv")).unwrap();
    // As a kill would leave it: two points never finished.
    std::fs::remove_dir_all(out.join("points/00001")).unwrap();
    std::fs::remove_dir_all(out.join("points/00004")).unwrap();
    let stamp = std::fs::metadata(out.join("points/00000/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    let o = sweep(&out, &GRID, &["--resume"]);
    assert!(
        stderr(&o).contains("4 finished points read back, 2 run"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(out.join("sweep.csv")).unwrap(), before);
    let after = std::fs::metadata(out.join("points/00000/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stamp, after, "a finished point is not written again");
    // Another seed is another sweep: nothing is read back.
    let o = sweep(&out, &GRID, &["--resume", "--seed", "9"]);
    assert!(
        stderr(&o).contains("0 finished points read back, 6 run"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn grid_values_as_toml_arrays_and_ranges_mean_the_comma_form() {
    let dir = scratch("sweeps_forms");
    sweep(&dir.join("comma"), &GRID, &[]);
    let toml = [
        "--grid",
        r#"failures.host.time_between.mean=["2000h", "8760h"]"#,
        "--grid",
        r#"workloads.web.boot_time=["45s", "30m", "2h"]"#,
    ];
    sweep(&dir.join("toml"), &toml, &[]);
    let csv = |d: &str| std::fs::read(dir.join(d).join("sweep.csv")).unwrap();
    assert!(
        csv("comma") == csv("toml"),
        "TOML arrays differ from the comma form"
    );
    let range = ["--grid", "workloads.web.count=600..=1200:300"];
    sweep(&dir.join("range"), &range, &[]);
    sweep(
        &dir.join("list"),
        &["--grid", "workloads.web.count=600,900,1200"],
        &[],
    );
    assert!(csv("range") == csv("list"), "a range differs from its list");
    // Duration axes also as seconds, then every axis under its plain snake_case name, in
    // columns of their own at the end.
    let mut rdr = csv::Reader::from_path(dir.join("comma/sweep.csv")).unwrap();
    let h: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let n = h.len();
    assert_eq!(
        &h[n - 4..],
        [
            "failures_host_time_between_mean_s",
            "workloads_web_boot_time_s",
            "failures_host_time_between_mean",
            "workloads_web_boot_time"
        ]
    );
    let row = rdr.records().next().unwrap().unwrap();
    assert_eq!(
        (&row[n - 4], &row[n - 3], &row[n - 2], &row[n - 1]),
        ("7200000.0", "45.0", "2000h", "45s")
    );
    // An integer axis keeps its integers under the plain name too.
    let mut rdr = csv::Reader::from_path(dir.join("list/sweep.csv")).unwrap();
    let h: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(h.last().map(String::as_str), Some("workloads_web_count"));
    let row = rdr.records().next().unwrap().unwrap();
    assert_eq!(&row[h.len() - 1], "600");
    // A repeated axis key stays an error.
    let o = hasim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--grid",
        "workloads.web.count=[1, 2]",
        "--grid",
        "workloads.web.count=3",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("on two axes"), "{}", stderr(&o));
}

#[test]
fn json_prints_the_sweep_and_compare_tables() {
    let dir = scratch("sweeps_json");
    let o = sweep(&dir.join("s"), &GRID, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut rdr = csv::Reader::from_path(dir.join("s/sweep.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let rows_json = v.as_array().unwrap();
    assert_eq!(rows_json.len(), rows.len());
    for (j, r) in rows_json.iter().zip(&rows) {
        assert_eq!(j["metric"], &r[3]);
        // Undefined metrics are null in JSON and an empty cell in the CSV.
        match j["mean"].as_f64() {
            Some(m) => assert_eq!(m, r[4].parse::<f64>().unwrap()),
            None => assert_eq!(&r[4], ""),
        }
    }
    assert_eq!(rows_json[0]["axes"]["workloads.web.boot_time"], "45s");
    let o = hasim(&[
        "compare",
        "scenarios/quickstart.toml",
        "--policy",
        "none",
        "--policy",
        "none",
        "-n",
        "3",
        "--json",
        "--out",
        dir.join("c").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "vm_availability")
        .unwrap();
    // A policy compared with itself differs by exactly zero.
    assert_eq!(row["mean_diff"].as_f64(), Some(0.0));
    assert_eq!(row["pairs"].as_u64(), Some(3));
}
