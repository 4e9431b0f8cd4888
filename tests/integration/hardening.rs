//! Regression tests of issue #11 (hardening): what an adversarial user types must end in a clear
//! message and a documented exit code, never a panic, an abort, a hang or a mixed result set.

use crate::support::{dir_names as names, hasim, scratch, stderr, stdout};
use std::path::Path;
use std::process::{Command, Stdio};

/// Asserts that hasim exited with `code` and said `text` on stderr.
fn expect_exit(o: &std::process::Output, code: i32, text: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(
        stderr(o).contains(text),
        "expected {text:?} in:\n{}",
        stderr(o)
    );
}

/// One replication of the quickstart into `out`.
fn quickstart_once(out: &Path) -> std::process::Output {
    let out = out.to_str().unwrap();
    hasim(&["run", "scenarios/quickstart.toml", "-n", "1", "--out", out])
}

#[test]
fn issue_11_a_run_replaces_the_whole_set_and_cleans_leftovers() {
    let dir = scratch("issue_11_replace");
    let out = dir.join("o");
    // An older set: a chart this run does not draw, a nested sweep, the litter of an older
    // hasim, and the staging directory of a killed run beside it.
    std::fs::create_dir_all(out.join("sweep")).unwrap();
    std::fs::write(out.join("summary.json"), "old").unwrap();
    std::fs::write(out.join("blackout_histogram.svg"), "old").unwrap();
    std::fs::write(out.join("sweep/sweep.csv"), "nested").unwrap();
    std::fs::write(out.join(".vms.csv.tmp-1"), "litter").unwrap();
    std::fs::create_dir(dir.join(".o.staging-999999999")).unwrap();
    std::fs::write(dir.join(".o.staging-999999999/vms.csv"), "partial").unwrap();
    let o = quickstart_once(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = names(&out);
    assert!(
        !files.contains(&"blackout_histogram.svg".to_string()),
        "{files:?}"
    );
    assert!(files.iter().all(|f| !f.starts_with('.')), "{files:?}");
    for f in ["summary.json", "vms.csv", "report.html", "sweep"] {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
    assert_ne!(std::fs::read(out.join("summary.json")).unwrap(), b"old");
    assert_eq!(
        std::fs::read(out.join("sweep/sweep.csv")).unwrap(),
        b"nested"
    );
    assert_eq!(names(&dir), ["o"], "staging and old directories are gone");
}

#[test]
fn issue_11_a_directory_with_the_users_files_is_written_in_place_never_swapped() {
    let dir = scratch("issue_11_in_place");
    std::fs::write(dir.join("notes.md"), "mine").unwrap();
    std::fs::write(dir.join("data.csv"), "mine too").unwrap();
    let o = quickstart_once(&dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("which hasim did not write; its result files are replaced one by one"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(dir.join("notes.md")).unwrap(), b"mine");
    assert_eq!(std::fs::read(dir.join("data.csv")).unwrap(), b"mine too");
    let files = names(&dir);
    assert!(files.contains(&"summary.json".to_string()), "{files:?}");
    assert!(files.iter().all(|f| !f.starts_with('.')), "{files:?}");
}

#[test]
#[allow(clippy::disallowed_methods)] // wall time is what is tested
fn issue_11_an_unusable_out_fails_at_once_before_simulating() {
    let dir = scratch("issue_11_unusable_out");
    let file = dir.join("a_file");
    std::fs::write(&file, "keep").unwrap();
    let nested = file.join("below");
    for (out, message) in [
        (&file, "exists and is not a directory"),
        (&nested, "is not a directory"),
    ] {
        let start = std::time::Instant::now();
        // 100,000 replications of the quickstart would take hours.
        let o = hasim(&[
            "run",
            "scenarios/quickstart.toml",
            "-n",
            "100000",
            "--out",
            out.to_str().unwrap(),
        ]);
        let took = start.elapsed();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("error: output directory") && e.contains(message),
            "{e}"
        );
        assert_eq!(
            e.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{e}"
        );
        assert!(took.as_secs_f64() < 5.0, "took {took:?}");
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    assert_eq!(names(&dir), ["a_file"]);
    for cmd in [
        vec!["compare", "--policy", "none", "--policy", "none"],
        vec!["sweep", "--grid", "simulation.seed=1,2"],
    ] {
        let mut args = cmd.clone();
        args.extend([
            "scenarios/quickstart.toml",
            "-n",
            "100000",
            "--out",
            file.to_str().unwrap(),
        ]);
        let o = hasim(&args);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("exists and is not a directory"));
    }
}

#[test]
fn issue_11_a_killed_run_leaves_the_old_set_and_the_next_run_cleans_up() {
    let dir = scratch("issue_11_killed_run");
    let out = dir.join("o");
    let run = |n: &str| {
        Command::new(env!("CARGO_BIN_EXE_hasim"))
            .args(["run", "scenarios/quickstart.toml", "-n", n, "--out"])
            .arg(&out)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Three replications, so the old set has the same files as the new one (a convergence
    // chart needs three).
    assert!(run("3").wait().unwrap().success());
    let old = std::fs::read(out.join("summary.json")).unwrap();
    let old_names = names(&out);
    // Killed while replications run or the set is written: the old set whole, or the new one.
    for delay_ms in [20, 150, 400, 800] {
        let mut child = run("400");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(names(&out), old_names, "a whole set, after {delay_ms} ms");
        let now = std::fs::read(out.join("summary.json")).unwrap();
        if now != old {
            let v: serde_json::Value = serde_json::from_slice(&now).unwrap();
            assert_eq!(v["replications"], 400);
            let rows = std::fs::read_to_string(out.join("vms.csv"))
                .unwrap()
                .lines()
                .count();
            assert_eq!(rows, 1 + 400 * 1200, "the new set's table, whole");
        }
    }
    assert!(run("3").wait().unwrap().success());
    assert_eq!(
        names(&dir),
        ["o"],
        "the killed runs' staging directories are gone"
    );
}

#[test]
fn issue_11_a_closed_pipe_ends_hasim_quietly() {
    use std::os::unix::process::ExitStatusExt;
    for args in [
        vec!["validate", "scenarios/quickstart.toml"],
        vec![
            "run",
            "scenarios/quickstart.toml",
            "-n",
            "1",
            "--json",
            "--set",
            "simulation.horizon=1h",
            "--out",
        ],
    ] {
        let dir = scratch("issue_11_pipe");
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args[0] == "run" {
            args.push(dir.join("o").display().to_string());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_hasim"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before hasim writes a byte.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let e = stderr(&o);
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: {e}");
        assert!(
            o.status.success() || o.status.signal() == Some(13),
            "{args:?}: {:?} {e}",
            o.status
        );
        let _ = stdout(&o);
    }
}

/// Runs hasim with `args` from the package root; kills it and fails the test after 20 s, so a
/// regression that blocks (a FIFO read) fails instead of hanging the suite.
fn hasim_bounded(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("hasim {args:?} still running after 20 s");
}

/// The quickstart scenario with `from` replaced by `to`, written as `<dir>/<name>.toml`.
fn quickstart_with(dir: &Path, name: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string("scenarios/quickstart.toml").unwrap();
    assert!(text.contains(from), "{from}");
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p.display().to_string()
}

#[test]
fn issue_11_fifos_are_refused_not_read() {
    let dir = scratch("issue_11_fifo");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let o = hasim_bounded(&["validate", fifo.to_str().unwrap()]);
    expect_exit(&o, 3, "fifo: not a regular file");
    let f = quickstart_with(
        &dir,
        "trace_fifo",
        "[policy]",
        "[failures.trace]\nfile = \"fifo\"\nformat = \"fta\"\n\n[policy]",
    );
    let o = hasim_bounded(&["validate", &f]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("failures.trace.file: ") && stderr(&o).contains("not a regular file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn issue_11_a_zone_list_cannot_wrap_the_host_count() {
    // 92,234 zones x 10,000 x 100,000 x 100,000 is past i64::MAX: unchecked, it wrapped
    // negative, passed the limit and aborted allocating hosts.
    let dir = scratch("issue_11_zone_wrap");
    let zones: Vec<String> = (0..92_234).map(|i| format!("\"z{i}\"")).collect();
    let to = format!(
        "zones = [{}]\nfault_domains_per_zone = 10000\nracks_per_fault_domain = 100000\nhosts_per_rack = 100000",
        zones.join(",")
    );
    let text = std::fs::read_to_string("scenarios/quickstart.toml").unwrap();
    let start = text.find("zones = ").unwrap();
    let end = text.find("host_type = \"compute\"\n\n[[flavors]]").unwrap();
    let p = dir.join("wrap.toml");
    std::fs::write(&p, format!("{}{to}\n{}", &text[..start], &text[end..])).unwrap();
    let o = hasim_bounded(&["validate", p.to_str().unwrap()]);
    expect_exit(&o, 3, "topology: 92234 zones x 10000 fault domains x 100000 racks x 100000 hosts exceed the limit of 1000000 hosts");
}

#[test]
fn issue_11_non_utf8_files_name_the_line_and_byte_offset() {
    let dir = scratch("issue_11_utf8");
    let p = dir.join("latin1.toml");
    std::fs::write(&p, b"name = \"q\"\ndescription = \"caf\xe9\"\n").unwrap();
    let o = hasim(&["validate", p.to_str().unwrap()]);
    expect_exit(
        &o,
        3,
        "latin1.toml:2: not UTF-8 text: invalid byte 0xe9 at byte offset 29",
    );
}

#[test]
fn issue_11_grid_keys_once_and_points_bounded() {
    let o = hasim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--grid",
        "simulation.seed=1,2",
        "--grid",
        "simulation.seed=3",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("error: --grid \"simulation.seed\": the key is on two axes"));
    let values: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    let axis = |k: &str| format!("{k}={}", values.join(","));
    let (a, b, c) = (
        axis("simulation.seed"),
        axis("simulation.replications"),
        axis("workloads.web.count"),
    );
    let o = hasim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--grid",
        &a,
        "--grid",
        &b,
        "--grid",
        &c,
    ]);
    expect_exit(
        &o,
        3,
        "--grid: 1000 x 1000 x 1000 points exceed the limit of 10000",
    );
}

#[test]
fn issue_11_problems_name_the_option_that_caused_them() {
    let o = hasim(&[
        "compare",
        "scenarios/quickstart.toml",
        "--policy",
        "masakri",
        "--policy",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(--policy masakri): policy.name: \"masakri\" is not one of")
            && stderr(&o).contains("(did you mean \"masakari\"?)"),
        "{}",
        stderr(&o)
    );
    let o = hasim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--grid",
        "simulation.horizon=1h,2parsec",
    ]);
    expect_exit(
        &o,
        3,
        "(--grid simulation.horizon=2parsec): simulation.horizon:",
    );
    // A present but broken table is reported once, not also as missing.
    for (set, problem) in [
        ("topology=5", "topology: expected a table, found an integer"),
        ("workloads=1", "workloads: expected an array of tables"),
        (
            "host_types.0=1",
            "host_types[0]: expected a table, found an integer",
        ),
        (
            "flavors.0=1",
            "flavors[0]: expected a table, found an integer",
        ),
    ] {
        let o = hasim(&["validate", "scenarios/quickstart.toml", "--set", set]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(problem), "{e}");
        assert!(
            e.contains("1 problem(s) found") && !e.contains("missing"),
            "{e}"
        );
    }
}

#[test]
fn issue_11_values_are_quoted_escaped_and_cut() {
    let long = format!("simulation.horizon={}", "x".repeat(100_000));
    for value in ["simulation.horizon=1\nh", long.as_str()] {
        let o = hasim(&["validate", "scenarios/quickstart.toml", "--set", value]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 2, "one problem, one summary line: {e}");
        assert!(
            e.len() < 2000,
            "the value is not echoed whole: {} bytes",
            e.len()
        );
    }
    let o = hasim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--set",
        "name=a\nb",
    ]);
    assert!(
        stderr(&o).contains("name: \"a\\nb\" must not contain control characters"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn issue_11_unknown_names_get_a_suggestion() {
    let o = hasim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--grid",
        "simulation.seed=1,2",
        "--metric",
        "vm_availabilty",
    ]);
    expect_exit(&o, 2, "did you mean \"vm_availability\"?");
    let o = hasim(&["policy", "masakary"]);
    expect_exit(&o, 3, "did you mean \"masakari\"?");
    let o = hasim(&["policy", "masakari", "--config", "/dev/zero"]);
    expect_exit(&o, 3, "/dev/zero: not a regular file");
}

#[test]
fn issue_11_an_interval_check_on_one_replication_says_why_it_fails() {
    let dir = scratch("issue_11_ci95_n1");
    let o = hasim(&[
        "run",
        "scenarios/quickstart.toml",
        "-n",
        "1",
        "--set",
        "simulation.horizon=30d",
        "--set",
        "expect.vm_availability.ci95_low=>= 0.9",
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    expect_exit(&o, 4, "warning: expect vm_availability.ci95_low >= 0.9: a 95 % interval needs at least 2 replications");
    assert!(
        stdout(&o).contains("measured nothing (a 95 % interval needs the metric in at least 2 replications; it is defined in 1): FAILED"),
        "{}",
        stdout(&o)
    );
}

/// Runs `hasim policy masakari` on `input`; returns (exit code, stderr).
fn policy_on(input: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["policy", "masakari"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (o.status.code(), stderr(&o))
}

#[test]
fn issue_11_policy_input_outside_the_inventory_is_refused_not_a_panic() {
    // Found by the fuzz harness: an observation naming a host past the inventory panicked.
    let inventory = r#"{"inventory": {"hosts": [{"disabled": false, "fault_domain": 0, "forced_down": false, "id": 0, "name": "h0", "node_online": true, "reserved": false, "service_up": true}], "vms": [], "any_evacuable_tagged": false}}"#;
    for (obs, message) in [
        (
            r#"{"now_us": 1, "observation": {"type": "node_offline", "host": 4294967295}}"#,
            "input line 2: host 4294967295 is not in the inventory",
        ),
        (
            r#"{"now_us": 1, "observation": {"type": "instance_failed", "vm": 3}}"#,
            "input line 2: server 3 is not in the inventory",
        ),
        (
            r#"{"now_us": 1, "observation": {"type": "timer", "token": 77}}"#,
            "input line 2: timer 77 was not set by the policy",
        ),
    ] {
        let (code, err) = policy_on(&format!("{inventory}\n{obs}\n"));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(message) && !err.contains("panicked"), "{err}");
    }
    // Hosts are looked up by id (issue 8): a host listed with id 5 is host 5, not host 0.
    let by_id = inventory.replace(r#""id": 0"#, r#""id": 5"#);
    let (code, err) = policy_on(&format!(
        "{by_id}\n{}\n",
        r#"{"now_us": 1, "observation": {"type": "node_offline", "host": 5}}"#
    ));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = policy_on(&format!(
        "{by_id}\n{}\n",
        r#"{"now_us": 1, "observation": {"type": "node_offline", "host": 0}}"#
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("host 0 is not in the inventory"), "{err}");
    let twice = inventory.replace(r#""hosts": [{"#, r#""hosts": [{"disabled": false, "fault_domain": 0, "forced_down": false, "id": 0, "name": "h1", "node_online": true, "reserved": false, "service_up": true}, {"#);
    let (code, err) = policy_on(&format!("{twice}\n"));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("input line 1: inventory lists host id 0 twice"),
        "{err}"
    );
}

#[test]
fn issue_11_the_cost_estimate_is_the_right_order_of_magnitude() {
    // Measured events against the estimate, for every bundled scenario (two replications).
    for file in crate::support::toml_files("scenarios")
        .into_iter()
        .filter(|f| !crate::support::runs_upstream_masakari(f))
    {
        let model = hasim::scenario::load(&file, &["simulation.replications=2".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        let estimate = hasim::scenario::cost::estimate(&model).events;
        let measured = hasim::runner::run(&model, Some(2)).unwrap().events_total() as f64;
        let ratio = measured / estimate;
        eprintln!(
            "{}: estimate {estimate:.0}, measured {measured}, ratio {ratio:.2}",
            file.display()
        );
        // Pre-copy that does not converge (hot_database) used to be the blind spot, at
        // thousands of events per migration; its rounds are now computed in closed form.
        assert!(
            (0.1..=10.0).contains(&ratio),
            "{}: ratio {ratio}",
            file.display()
        );
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // wall time is what is tested
fn issue_11_a_run_past_the_event_budget_is_refused_before_it_starts() {
    let dir = scratch("issue_11_budget");
    let out = dir.join("o");
    let start = std::time::Instant::now();
    // A rate in the wrong unit: every host fails every second for 1,000 years.
    let run_with = |sets: &[&str]| {
        let mut args = vec![
            "run",
            "scenarios/quickstart.toml",
            "--out",
            out.to_str().unwrap(),
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        hasim(&args)
    };
    let o = run_with(&[
        "simulation.horizon=1000y",
        "failures.host.time_between.mean=1s",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(start.elapsed().as_secs_f64() < 5.0);
    let e = stderr(&o);
    assert!(
        e.contains("engine events") && e.contains("more than the budget of 1.0e10"),
        "{e}"
    );
    assert!(e.contains("rerun with --max-estimated-events "), "{e}");
    assert!(!out.exists());
    // A distribution without a finite mean has no rate to go by: the worst case is taken.
    let o = run_with(&[
        "failures.host.time_between={ dist = \"weibull\", shape = 1e-300, scale = \"1h\" }",
    ]);
    expect_exit(&o, 3, "more than the budget");
    // The option moves the budget both ways.
    let base = [
        "run",
        "scenarios/quickstart.toml",
        "-n",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--max-estimated-events",
    ];
    let mut tight = base.to_vec();
    tight.push("10");
    assert_eq!(hasim(&tight).status.code(), Some(3));
    let mut loose = base.to_vec();
    loose.push("1000000");
    let o = hasim(&loose);
    assert!(o.status.success(), "{}", stderr(&o));
}
