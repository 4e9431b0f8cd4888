//! The operator's runbook (`[operator]`) on hand-computed timelines: the one-crash trace of
//! `ha.rs` (host 0 down at T = 1 h for 2 h, back without a boot), four VMs on host 0 that
//! boot in 45 s, Nova's default of leaving guests SHUTOFF after a reboot, no HA policy unless
//! said. The operator numbers are what-if inputs chosen for the arithmetic:
//! - waits for the repair (detection 10 min, 2 min per action): the k-th VM starts at
//!   T+2 h + k·2 min and runs 45 s later;
//! - noticed only after the host is back (detection 3 h): the k-th VM runs at
//!   T+3 h + k·2 min + 45 s;
//! - relaunch once the host "won't be fixed within" 30 min of noticing: at T+40 min the k-th
//!   VM is evacuated at T+40 min + k·2 min and rebuilt in 45 s (k·7 min with 5 min to
//!   re-attach each boot volume);
//! - under Masakari, the host's `on_maintenance` is cleared 5 min after it is back (T+2 h 5 min)
//!   and Masakari re-enables its nova-compute at once.

use crate::ha::{host0_run, scenario, TRACE};
use hasim::metrics::ledger::VmState;
use hasim::policy::api::{Command, Observation};

fn with_operator(policy: &str, operator: &str) -> String {
    scenario(policy, &format!("[operator]\n{operator}"))
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort();
    v
}

#[test]
fn operator_starts_each_server_after_the_repair() {
    let text = with_operator(
        "none",
        "detection_delay = \"10m\"\ninstance_action_time = \"2m\"",
    );
    let (times, out) = host0_run("op_wait", &text);
    for t in &times {
        assert_eq!(t[VmState::HostFailure as usize], 7200);
    }
    let shutoff = sorted(times.iter().map(|t| t[VmState::ShutOff as usize]).collect());
    assert_eq!(shutoff, vec![165, 285, 405, 525]);
    assert_eq!(out.ha.evacuations, 0);
}

#[test]
fn a_failure_noticed_after_the_return_waits_for_the_notice() {
    let text = with_operator(
        "none",
        "detection_delay = \"3h\"\ninstance_action_time = \"2m\"",
    );
    let (times, _) = host0_run("op_late", &text);
    let shutoff = sorted(times.iter().map(|t| t[VmState::ShutOff as usize]).collect());
    assert_eq!(shutoff, vec![3765, 3885, 4005, 4125]);
}

#[test]
fn operator_relaunches_servers_of_a_host_that_stays_down() {
    let text = with_operator(
        "none",
        "detection_delay = \"10m\"\ninstance_action_time = \"2m\"\nrelaunch_after = \"30m\"",
    );
    let (times, out) = host0_run("op_relaunch", &text);
    let waits = sorted(
        times
            .iter()
            .map(|t| t[VmState::HostFailure as usize])
            .collect(),
    );
    assert_eq!(waits, vec![2520, 2640, 2760, 2880]);
    for t in &times {
        assert_eq!(t[VmState::Recovery as usize], 45);
        assert_eq!(t[VmState::ShutOff as usize], 0);
    }
    assert_eq!(out.ha.evacuations, 4);
}

#[test]
fn boot_volumes_cost_their_reattach_time() {
    let text = with_operator(
        "none",
        "detection_delay = \"10m\"\ninstance_action_time = \"2m\"\nrelaunch_after = \"30m\"\n\
         volume_reattach_time = \"5m\"",
    )
    .replace("storage = \"shared\"", "storage = \"volume\"");
    let (times, _) = host0_run("op_volume", &text);
    let waits = sorted(
        times
            .iter()
            .map(|t| t[VmState::HostFailure as usize])
            .collect(),
    );
    assert_eq!(waits, vec![2820, 3240, 3660, 4080]);
}

#[test]
fn local_disks_are_not_relaunched() {
    // The guide's relaunch needs the instance directory on shared storage: with local disks
    // the operator waits for the host, then starts the servers (as in the first test).
    let text = with_operator(
        "none",
        "detection_delay = \"10m\"\ninstance_action_time = \"2m\"\nrelaunch_after = \"30m\"",
    )
    .replace("storage = \"shared\"", "storage = \"local\"")
    .replace("boot_time = \"5m\"", "boot_time = \"5m\"\ndisk_gib = 1000")
    .replace("ram_gib = 4\n", "ram_gib = 4\ndisk_gib = 10\n");
    let (times, out) = host0_run("op_local", &text);
    assert_eq!(out.ha.evacuations, 0);
    let shutoff = sorted(times.iter().map(|t| t[VmState::ShutOff as usize]).collect());
    assert_eq!(shutoff, vec![165, 285, 405, 525]);
}

#[test]
fn operator_clears_masakari_maintenance_after_the_return() {
    let text = with_operator(
        "masakari",
        "detection_delay = \"10m\"\ninstance_action_time = \"2m\"\n\
         clear_maintenance_after = \"5m\"",
    );
    let dir = crate::support::scratch("op_masakari");
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let model = hasim::scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let (out, steps) = hasim::runner::run_recorded(&model, 0).unwrap();
    // Masakari evacuated all four as before (the operator found nothing left to start).
    assert_eq!(out.ha.evacuations, 4);
    let cleared: Vec<_> = steps
        .iter()
        .filter(|s| s.observation == Observation::MaintenanceCleared { host: 0 })
        .map(|s| (s.now_us, s.commands.clone()))
        .collect();
    let at = (3 * 3600 + 300) * 1_000_000;
    assert_eq!(
        cleared,
        vec![(at, vec![Command::EnableService { host: 0 }])]
    );
    // Without the clean-up nobody re-enables the host.
    let plain = scenario("masakari", "");
    let (_, steps) = {
        std::fs::write(&path, &plain).unwrap();
        let model = hasim::scenario::load(&path, &[]).unwrap();
        hasim::runner::run_recorded(&model, 0).unwrap()
    };
    assert!(!steps
        .iter()
        .any(|s| s.commands.contains(&Command::EnableService { host: 0 })));
}

/// `scenarios/operator_runbook.toml` against the same fleet with guests resumed at host boot:
/// on the same seed the crashes are the same, and each crash of host h costs its k-th VM
/// k x 5 min more (the operator starts them one by one), so the downtime difference is
/// sum_h crashes_h x 5 min x n_h (n_h + 1) / 2 over all VM-years, up to the rare overlap of
/// two hosts' work in the operator's queue.
#[test]
fn operator_runbook_matches_its_closed_form_against_resumed_guests() {
    use hasim::runner::run_replication;
    let path = std::path::Path::new("scenarios/operator_runbook.toml");
    let reps = ["simulation.replications=3".to_string()];
    let op = hasim::scenario::load(path, &reps).unwrap();
    let resume = hasim::scenario::load(
        path,
        &[
            reps[0].clone(),
            "nova.resume_guests_state_on_host_boot=true".into(),
        ],
    )
    .unwrap();
    let mut per_host = vec![0u64; op.topology.hosts.len()];
    for h in &op.placement {
        per_host[h.index()] += 1;
    }
    let n_vms = op.vms.len() as f64;
    for r in 0..3 {
        let a = run_replication(&op, r).unwrap();
        let b = run_replication(&resume, r).unwrap();
        assert_eq!(a.host_failures, b.host_failures, "the same crashes");
        let down = |o: &hasim::engine::ReplicationOutput| -> f64 {
            o.vm_time_us
                .iter()
                .map(|t| (t.iter().sum::<u64>() - t[VmState::Running as usize]) as f64)
                .sum::<f64>()
                / 60e6
                / n_vms
        };
        let measured = down(&a) - down(&b);
        let expected: f64 = a
            .host_failures
            .iter()
            .zip(&per_host)
            .map(|(f, n)| *f as f64 * 5.0 * (n * (n + 1) / 2) as f64)
            .sum::<f64>()
            / n_vms;
        eprintln!("replication {r}: operator - resumed = {measured:.3} min per VM, closed form {expected:.3}");
        assert!(
            (measured - expected).abs() <= 0.02 * expected,
            "{measured} vs {expected}"
        );
    }
}
