//! The command line as a user meets it: exit codes, `--set`, `--json`, default output paths.

use crate::support::{hasim, scratch, stderr, stdout, toml_files};

#[test]
fn usage_errors_exit_2() {
    assert_eq!(hasim(&["run"]).status.code(), Some(2));
    assert_eq!(hasim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        hasim(&["run", "scenarios/quickstart.toml", "-n", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        hasim(&["run", "scenarios/quickstart.toml", "--set", "novalue"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn missing_file_exits_3_naming_it() {
    let o = hasim(&["validate", "scenarios/does_not_exist.toml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("scenarios/does_not_exist.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_accepts_every_bundled_scenario() {
    let files: Vec<String> = toml_files("scenarios")
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(files.len() >= 3);
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let o = hasim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches(": ok:").count(), files.len());
}

#[test]
fn set_overrides_any_key_by_path() {
    let dir = scratch("cli_set");
    let out = dir.join("o");
    let o = hasim(&[
        "run",
        "scenarios/quickstart.toml",
        "-n",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "policy.name=none",
        "--set",
        "failures.host.time_between.mean=2000h",
        "--set",
        "topology.hosts_per_rack=20",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["fleet"]["hosts"], 120);
    assert_eq!(v["replications"], 2);
    assert_eq!(v["seed"], "42");
    assert_eq!(v["schema_version"], 1);
    // 120 hosts failing every 2000 h: about 526 crashes a year.
    let failures = v["metrics"]["host_failures"]["mean"].as_f64().unwrap();
    assert!((400.0..650.0).contains(&failures), "{failures}");
    // --json prints exactly the file it wrote.
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(file, v);
    // Every metric is there; one no replication defines (no maintenance here) is null.
    for m in v["metrics"].as_object().unwrap().values() {
        if m["replications_defined"] == 0 {
            assert!(m["mean"].is_null() && m["ci95"].is_null(), "{m}");
        } else {
            assert!(m["mean"].is_number() && m["ci95"].is_array(), "{m}");
        }
    }
    assert!(v["metrics"]["live_migrations"]["mean"].is_null());
    assert!(v["metrics"]["vm_availability"]["ci95"].is_array());
}

#[test]
fn bad_set_value_is_an_invalid_scenario_naming_the_override() {
    let o = hasim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--set",
        "simulation.horizon=10parsecs",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(e.contains("(--set simulation.horizon=10parsecs): simulation.horizon: duration \"10parsecs\" has unknown unit"), "{e}");
}

#[test]
fn default_output_dir_is_results_scenario_name() {
    let dir = scratch("cli_default_out");
    std::fs::copy("scenarios/quickstart.toml", dir.join("q.toml")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["run", "q.toml", "-n", "2"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["summary.json", "vms.csv", "hosts.csv"] {
        assert!(
            dir.join("results/quickstart").join(f).is_file(),
            "{f} missing"
        );
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("results/quickstart"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .collect();
    assert!(leftovers.is_empty());
    let csv = std::fs::read_to_string(dir.join("results/quickstart/vms.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 2 * 1200,
        "one row per VM per replication"
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("0,42,web-1,web,"));
}

#[test]
fn expect_failure_exits_4_and_names_the_check() {
    let dir = scratch("cli_expect");
    let out = dir.join("o");
    let base = [
        "run",
        "scenarios/rack_outages.toml",
        "-n",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    let pass = hasim(&base);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    assert!(
        stdout(&pass).contains("expect vm_availability.mean >= 0.998: measured 0.99"),
        "{}",
        stdout(&pass)
    );
    let mut args = base.to_vec();
    args.extend(["--set", "expect.domain_outages.mean=== 0"]);
    let fail = hasim(&args);
    assert_eq!(fail.status.code(), Some(4), "{}", stderr(&fail));
    let text = stdout(&fail);
    assert!(
        text.contains("expect domain_outages.mean == 0: measured "),
        "{text}"
    );
    assert!(text.contains(": FAILED"), "{text}");
    assert!(stderr(&fail).contains("1 of 3 expectations failed"));
    // The results are still written, with the verdicts in summary.json.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let failed: Vec<&serde_json::Value> = v["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["check"], "domain_outages.mean == 0");
}

#[test]
fn issue_13_a_bound_on_an_undefined_metric_fails_saying_it_is_undefined() {
    // Every live migration of hot_database aborts, so no blackout is ever measured.
    let dir = scratch("issue_13_undefined_bound");
    let out = dir.join("o");
    let o = hasim(&[
        "run",
        "scenarios/hot_database.toml",
        "-n",
        "2",
        "--set",
        "expect.blackout_ms_p99.mean=<= 500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("expect blackout_ms_p99.mean <= 500: measured undefined (no replication of this run defines the metric): FAILED"),
        "{}",
        stdout(&o)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let m = &v["metrics"]["blackout_ms_p99"];
    assert!(m["mean"].is_null() && m["ci95"].is_null(), "{m}");
    assert_eq!(m["replications_defined"], 0);
    let check = &v["expectations"][0];
    assert_eq!(check["passed"], false);
    assert!(check["measured"].is_null());
    assert!(check["unmeasured"]
        .as_str()
        .unwrap()
        .starts_with("undefined"));
}

#[test]
fn issue_13_junit_xml_has_one_case_per_check_and_says_why_one_failed() {
    let dir = scratch("issue_13_junit");
    let xml = dir.join("expect.xml");
    let o = hasim(&[
        "run",
        "scenarios/hot_database.toml",
        "-n",
        "2",
        "--set",
        "expect.blackout_ms_p99.mean=<= 500",
        "--set",
        "expect.vm_availability.mean=>= 0.5",
        "--set",
        "expect.cold_migrations.mean=< 0",
        "--out",
        dir.join("o").to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // Python's own XML parser judges well-formedness; the cases and failures are read back.
    let script = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
print(suite.get("tests"), suite.get("failures"))
for c in suite.findall("testcase"):
    f = c.find("failure")
    print(c.get("name"), "|", "ok" if f is None else f.get("message"))
"#;
    let py = std::process::Command::new("python3")
        .args(["-c", script, xml.to_str().unwrap()])
        .output()
        .expect("python3");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let text = String::from_utf8_lossy(&py.stdout).into_owned();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("o").join("summary.json")).unwrap())
            .unwrap();
    let cold = v["metrics"]["cold_migrations"]["mean"].as_f64().unwrap();
    let want = format!(
        "3 2\nblackout_ms_p99.mean <= 500 | blackout_ms_p99.mean <= 500: measured undefined (no replication of this run defines the metric)\ncold_migrations.mean < 0 | cold_migrations.mean < 0: measured {cold}\nvm_availability.mean >= 0.5 | ok\n"
    );
    assert_eq!(text, want);
}

#[test]
fn issue_13_completions_and_man_pages_cover_every_subcommand() {
    let bash = hasim(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = stdout(&bash);
    for sub in [
        "run", "compare", "sweep", "replay", "validate", "policy", "man",
    ] {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    assert!(script.contains("--junit") && script.contains("--policy-log"));
    // bash itself judges the script's syntax.
    let dir = scratch("issue_13_completions");
    let path = dir.join("hasim.bash");
    std::fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let man = hasim(&["man"]);
    assert!(man.status.success());
    assert!(stdout(&man).starts_with(".ie") && stdout(&man).contains(".TH hasim 1"));
    let page = stdout(&hasim(&["man", "replay"]));
    assert!(
        page.contains(".TH hasim-replay 1") && page.contains("policy\\-log"),
        "{page}"
    );
    assert_eq!(hasim(&["man", "nope"]).status.code(), Some(2));
    assert_eq!(hasim(&["completions", "tcsh"]).status.code(), Some(2));
}
