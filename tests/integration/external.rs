//! External controllers (issue 8): a controller process driven over the protocol must make
//! exactly the decisions a built-in policy makes when it runs the same logic
//! (`tests/controllers/instance_ha.py` ports `src/policy/instance_ha.rs`), whatever the thread
//! count; a controller that crashes is a modelled outage (or a restart) and the run finishes;
//! one that breaks the protocol or hangs under `on_crash = "fail"` stops the run with exit 1
//! and a message, never a panic or a hang.

use crate::support::{hasim, repo, stderr};
use std::collections::BTreeMap;

const PORT: &str = r#"policy.command=["python3", "../tests/controllers/instance_ha.py"]"#;

fn per_replication(overrides: &[&str], threads: usize) -> Vec<BTreeMap<String, f64>> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let model = hasim::scenario::load(&repo("scenarios/instance_ha.toml"), &overrides).unwrap();
    hasim::runner::run(&model, Some(threads))
        .unwrap_or_else(|v| panic!("{}", v.message))
        .per_replication
}

fn external(extra: &[&'static str]) -> Vec<&'static str> {
    let mut o = vec!["simulation.replications=3", "policy.name=external", PORT];
    o.extend_from_slice(extra);
    o
}

#[test]
fn a_ported_controller_decides_exactly_as_the_built_in_policy() {
    let builtin = per_replication(&["simulation.replications=3"], 2);
    let ext = per_replication(&external(&[]), 2);
    assert_eq!(builtin, ext, "the protocol changed a decision");
    // Threads change nothing: one process per replication, lock-step.
    assert_eq!(per_replication(&external(&[]), 1), ext);
    assert!(
        builtin[0]["evacuations"] > 0.0,
        "the scenario must exercise recovery"
    );
}

#[test]
fn a_crashing_controller_is_an_outage_or_a_restart_and_the_run_finishes() {
    let builtin = per_replication(&["simulation.replications=3"], 2);
    let crash = [
        "policy.config.fail_at_step=3",
        r#"policy.config.fail_mode="exit""#,
    ];
    let mut o = crash.to_vec();
    o.push(r#"policy.on_crash="outage""#);
    let outage = per_replication(&external(&o), 2);
    let mut o = crash.to_vec();
    o.extend([
        r#"policy.on_crash="restart""#,
        r#"policy.restart_delay="10m""#,
    ]);
    let restart = per_replication(&external(&o), 2);
    for r in 0..3 {
        assert_eq!(outage[r]["controller_crashes"], 1.0);
        assert_eq!(outage[r]["controller_restarts"], 0.0);
        assert!(outage[r]["controller_observations_lost"] > 0.0);
        assert_eq!(restart[r]["controller_crashes"], 1.0);
        assert_eq!(restart[r]["controller_restarts"], 1.0);
        // A controller that is gone recovers nothing; one back after 10 min recovers later
        // failures again.
        let down = |m: &BTreeMap<String, f64>| m["downtime_min_per_vm_year_mean"];
        assert!(down(&outage[r]) >= down(&restart[r]), "replication {r}");
        assert!(down(&restart[r]) >= down(&builtin[r]), "replication {r}");
        assert!(restart[r]["evacuations"] > outage[r]["evacuations"]);
    }
}

// The wall clock is what this measures: that the step_timeout guard ends a hang.
#[allow(clippy::disallowed_methods)]
fn run_failing(mode: &str) -> (Option<i32>, String, std::time::Duration) {
    let dir = crate::support::scratch(&format!("external-fail-{mode}"));
    let out = dir.join("out");
    let fail_mode = format!(r#"policy.config.fail_mode="{mode}""#);
    let mut args = vec![
        "run",
        "scenarios/instance_ha.toml",
        "-n",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    // A short wall-clock guard only where it must fire: elsewhere a loaded machine could
    // make an honest answer late.
    let timeout = if mode == "hang" { "3s" } else { "60s" };
    let timeout = format!(r#"policy.step_timeout="{timeout}""#);
    for s in external(&["policy.config.fail_at_step=3"]) {
        args.extend(["--set", s]);
    }
    args.extend(["--set", &timeout]);
    args.extend(["--set", &fail_mode]);
    let t0 = std::time::Instant::now();
    let o = hasim(&args);
    let took = t0.elapsed();
    assert!(!out.exists(), "a failed run leaves no result set");
    (o.status.code(), stderr(&o), took)
}

#[test]
fn a_controller_that_breaks_the_protocol_or_hangs_stops_the_run_with_a_message() {
    for (mode, says) in [
        ("exit", "it exited during `step` (exit status: 3)"),
        (
            "garbage",
            r#"not JSON: expected value at line 1 column 1: "Traceback (most recent call last): oops""#,
        ),
        ("bad_field", "unknown field `comands`, expected `commands`"),
        ("hang", "gave no answer to `step`"),
    ] {
        let (code, err, took) = run_failing(mode);
        assert_eq!(code, Some(1), "{mode}: {err}");
        assert!(err.contains(says), "{mode}: {err}");
        assert!(!err.contains("panicked"), "{mode}: {err}");
        // The hang is cut by the 3 s step_timeout, not by the test.
        assert!(took.as_secs() < 60, "{mode} took {took:?}");
    }
}

#[test]
fn an_external_policy_needs_a_command_that_runs() {
    let o = hasim(&[
        "validate",
        "scenarios/instance_ha.toml",
        "--set",
        "policy.name=external",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("policy.command: missing required key"));
    let o = hasim(&[
        "validate",
        "scenarios/instance_ha.toml",
        "--set",
        "policy.name=external",
        "--set",
        PORT,
        "--set",
        r#"policy.on_crash="restart""#,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("policy.restart_delay: missing required key"));
    let dir = crate::support::scratch("external-missing-program");
    let o = hasim(&[
        "run",
        "scenarios/instance_ha.toml",
        "-n",
        "1",
        "--out",
        dir.join("out").to_str().unwrap(),
        "--set",
        "policy.name=external",
        "--set",
        r#"policy.command=["./no-such-controller"]"#,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot start ./no-such-controller"),
        "{}",
        stderr(&o)
    );
}

/// `run --record-policy FILE` writes one replication's exchanges so that `hasim policy NAME
/// --config FILE.config.json < FILE` answers exactly FILE.out, for every built-in policy.
#[test]
fn a_recorded_replication_replays_through_the_adapter_byte_for_byte() {
    let dir = crate::support::scratch("external-record-policy");
    for (scenario, policy) in [
        ("masakari", "masakari"),
        ("instance_ha", "instance-ha"),
        ("pca", "pca"),
    ] {
        let rec = dir.join(format!("{scenario}.jsonl"));
        let o = hasim(&[
            "run",
            &format!("scenarios/{scenario}.toml"),
            "-n",
            "2",
            "--out",
            dir.join(scenario).to_str().unwrap(),
            "--record-policy",
            rec.to_str().unwrap(),
            "--record-replication",
            "1",
        ]);
        assert!(
            o.status.code().is_some_and(|c| c == 0 || c == 4),
            "{}",
            stderr(&o)
        );
        let config = dir.join(format!("{scenario}.jsonl.config.json"));
        let replay = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
            .args(["policy", policy, "--config", config.to_str().unwrap()])
            .stdin(std::fs::File::open(&rec).unwrap())
            .output()
            .unwrap();
        assert!(replay.status.success(), "{}", stderr(&replay));
        let want = std::fs::read(dir.join(format!("{scenario}.jsonl.out"))).unwrap();
        assert!(
            !want.is_empty(),
            "{scenario}: the replication gave commands"
        );
        assert!(
            replay.stdout == want,
            "{scenario}: the adapter answered differently"
        );
    }
}

/// Shape errors in `hasim policy` input name the line and the field, never "did not match
/// any variant", and never panic.
#[test]
fn adapter_shape_errors_name_the_line_and_the_field() {
    use std::io::Write;
    let host = r#"{"disabled": false, "fault_domain": 0, "forced_down": false, "id": 0, "name": "h0", "node_online": true, "reserved": false, "service_up": true}"#;
    let inventory = format!(
        r#"{{"inventory": {{"hosts": [{host}], "vms": [], "any_evacuable_tagged": false}}}}"#
    );
    for (line, says) in [
        (
            r#"{"now_us": 1, "observation": {"type": "node_offline", "hots": 0}}"#.to_string(),
            "input line 2: observation: unknown field `hots`",
        ),
        (
            r#"{"now_us": 1, "observation": {"type": "node_gone", "host": 0}}"#.to_string(),
            "input line 2: observation: unknown variant `node_gone`",
        ),
        (
            inventory.replace(r#""id": 0"#, r#""id": "zero""#),
            "input line 2: inventory.hosts[0].id: invalid type: string \"zero\"",
        ),
        (
            inventory.replace(r#""reserved": false"#, r#""reserved": false, "rack": 3"#),
            "input line 2: inventory.hosts[0].rack: unknown field `rack`",
        ),
        (
            r#"{"now_us": 1}"#.to_string(),
            "input line 2: missing field `observation`",
        ),
        (
            r#"{"when": 1}"#.to_string(),
            r#"input line 2: expected {"inventory": ...} or {"now_us": ..., "observation": ...}, found keys [when]"#,
        ),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
            .args(["policy", "masakari"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{inventory}\n{line}").unwrap();
        drop(stdin);
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(says), "want {says:?} in {err}");
        assert!(!err.contains("did not match any variant") && !err.contains("panicked"));
    }
}

fn probe_answers(admin: bool) -> serde_json::Value {
    let dir = crate::support::scratch(&format!("external-nova-api-{admin}"));
    let out = dir.join("out");
    let admin = format!("policy.admin={admin}");
    let o = hasim(&[
        "run",
        "scenarios/instance_ha.toml",
        "-n",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "policy.name=external",
        "--set",
        r#"policy.command=["python3", "../tests/controllers/nova_api.py"]"#,
        "--set",
        &admin,
    ]);
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 4),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(out.join("controllers/rep-0000/answers.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Nova's synchronous answers, as nova/compute/api.py gives them: the lock refuses only
/// non-admin callers and never guards an evacuation; start needs a stopped server, stop an
/// active one; an evacuation from a host whose nova-compute is up is a 400; reset_state
/// writes vm_state; unknown ids are 404s.
#[test]
fn the_cloud_answers_as_novas_api_does() {
    let ok = serde_json::json!({"type": "result", "ok": true});
    let code = |v: &serde_json::Value| v["code"].as_u64();
    let admin = probe_answers(true);
    assert_eq!(code(&admin["start_running"]), Some(409), "{admin}");
    assert_eq!(admin["lock"], ok);
    assert_eq!(admin["locked_view"], true);
    assert_eq!(
        admin["stop_locked"], ok,
        "an admin is not refused by the lock"
    );
    assert_eq!(admin["stopped_view"], "stopped");
    assert_eq!(code(&admin["stop_stopped"]), Some(409));
    assert_eq!(admin["start_stopped"], ok);
    assert_eq!(code(&admin["evacuate_service_up"]), Some(400));
    assert!(admin["evacuate_service_up"]["reason"]
        .as_str()
        .unwrap()
        .contains("ComputeServiceInUse"));
    assert_eq!(admin["reset_error"], ok);
    assert_eq!(admin["error_view"], "error");
    assert_eq!(admin["active_view"], "active");
    assert_eq!(admin["query_missing"]["code"], 404);
    assert_eq!(admin["host_missing"]["code"], 404);
    assert_eq!(code(&admin["evacuate_missing"]), Some(404));
    let user = probe_answers(false);
    assert_eq!(code(&user["stop_locked"]), Some(409), "{user}");
    assert!(user["stop_locked"]["reason"]
        .as_str()
        .unwrap()
        .contains("locked"));
    // Evacuate is not lock-checked: the lock does not hide the service check behind it.
    assert_eq!(code(&user["evacuate_locked_service_up"]), Some(400));
}
