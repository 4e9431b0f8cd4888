//! Guest power state on hand-computed timelines (the one-crash trace of `ha.rs`: host 0 down
//! at T = 1 h for 2 h, a 20 h horizon, the host back without a boot at T+2 h).
//! - Nova's default `resume_guests_state_on_host_boot = False` (nova/conf/compute.py:639): under
//!   `none` host 0's VMs run 1 h, are down with their host 2 h, then stay SHUTOFF for the
//!   remaining 17 h (cause `shutoff`); nobody starts them.
//! - A workload with `initial_state = "stopped"`: its VMs count neither up nor down (20 h
//!   `stopped`), PCA does not move them ("stopped instances are not migrated", which needs the
//!   inventory to report them `stopped`), and availability averages only VMs that should run.
//! - Stopped VMs keep their allocation (Nova frees it only on delete or shelve-offload): in a
//!   full fleet the crashed host's running VM finds no room although half the fleet is stopped.

use crate::ha::{host0_run, scenario};
use hasim::metrics::ledger::VmState;
use hasim::metrics::summary::replication_metrics;
use hasim::runner::run_replication;
use hasim::scenario::load;
use hasim::world::ids::HostId;

const H: u64 = 3600;

#[test]
fn without_resume_guests_stay_shut_off_after_their_host_returns() {
    let (times, out) = host0_run("none_default", &scenario("none", ""));
    for t in &times {
        let mut want = [0u64; hasim::metrics::ledger::VM_STATES];
        want[VmState::Running as usize] = H;
        want[VmState::HostFailure as usize] = 2 * H;
        want[VmState::ShutOff as usize] = 17 * H;
        assert_eq!(*t, want);
    }
    assert_eq!(out.ha.evacuations, 0);
}

/// The `ha.rs` fleet with half its VMs in a workload that starts stopped.
fn half_stopped(policy: &str) -> String {
    scenario(policy, "").replace(
        "[[workloads]]\nname = \"w\"\ncount = 16\n",
        "[[workloads]]\nname = \"off\"\ncount = 8\nflavor = \"f\"\nstorage = \"shared\"\n\
         boot_time = \"45s\"\ninitial_state = \"stopped\"\n[[workloads]]\nname = \"w\"\ncount = 8\n",
    )
}

#[test]
fn stopped_vms_are_neither_up_nor_down_and_pca_leaves_them() {
    let text = half_stopped("pca");
    assert!(text.contains("initial_state"));
    let dir = crate::support::scratch("power_half_stopped");
    let path = dir.join("s.toml");
    std::fs::write(dir.join("one_crash.tab"), crate::ha::TRACE).unwrap();
    std::fs::write(&path, &text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut out = run_replication(&model, 0).unwrap();
    let off = model
        .workloads
        .iter()
        .position(|w| w.name == "off")
        .unwrap() as u32;
    let mut running_on_host0 = 0;
    for v in 0..model.vms.len() {
        let t = out.vm_time_us[v].map(|us| us / 1_000_000);
        let on0 = model.placement[v] == HostId(0);
        if model.vms[v].workload.0 == off {
            assert_eq!(t[VmState::Stopped as usize], 20 * H, "VM {v}");
            assert_eq!(t.iter().sum::<u64>(), 20 * H);
        } else if on0 {
            running_on_host0 += 1;
            // PCA's 5-minute threshold, then a 45 s boot elsewhere.
            assert_eq!(
                (
                    t[VmState::Detection as usize],
                    t[VmState::Recovery as usize]
                ),
                (300, 45)
            );
        } else {
            assert_eq!(t[VmState::Running as usize], 20 * H);
        }
    }
    assert_eq!(running_on_host0, 2, "two VMs that should run sit on host 0");
    // Only the VMs that should run are evacuated: the stopped ones read `stopped`.
    assert_eq!(out.ha.evacuations, running_on_host0);
    // Availability averages the 8 VMs that should run; the stopped ones are left out.
    let lifetime = (20 * H) as f64;
    let expected = (6.0 + 2.0 * (1.0 - 345.0 / lifetime)) / 8.0;
    out.sort_samples();
    let got = replication_metrics(&out)["vm_availability"];
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
}

#[test]
fn stopped_vms_keep_their_allocation() {
    // Four hosts of 128 GiB (127.5 schedulable), eight 60 GiB VMs: two per host, one of them
    // stopped. Host 0's running VM has nowhere to go: no_capacity from PCA's restart at
    // T+300 s until its host is back at T+2 h, then PCA starts it there (45 s boot).
    let text = half_stopped("pca")
        .replace("count = 8\n", "count = 4\n")
        .replace("ram_gib = 4\n", "ram_gib = 60\n");
    let (times, out) = {
        let dir = crate::support::scratch("power_full_fleet");
        let path = dir.join("s.toml");
        std::fs::write(dir.join("one_crash.tab"), crate::ha::TRACE).unwrap();
        std::fs::write(&path, &text).unwrap();
        let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let out = run_replication(&model, 0).unwrap();
        let off = model
            .workloads
            .iter()
            .position(|w| w.name == "off")
            .unwrap() as u32;
        let times: Vec<_> = (0..model.vms.len())
            .filter(|v| model.placement[*v] == HostId(0) && model.vms[*v].workload.0 != off)
            .map(|v| out.vm_time_us[v].map(|us| us / 1_000_000))
            .collect();
        (times, out)
    };
    assert_eq!(times.len(), 1);
    let t = times[0];
    assert_eq!(
        (
            t[VmState::Detection as usize],
            t[VmState::NoCapacity as usize],
            t[VmState::Recovery as usize]
        ),
        (300, 2 * H - 300, 45)
    );
    assert_eq!(out.ha.evacuations, 0);
}

/// A policy's `stop_server` powers a running guest off until its `start_server`: the
/// controller in `tests/controllers/stop_start.py` stops the first VM of host 1 at its first
/// observation (Pacemaker loses host 0 at T+20 s) and starts it one hour later; the VM then
/// boots in 45 s. Its user still wants it: 3,645 s of `shutoff`, the rest running.
#[test]
fn a_policy_stop_powers_a_guest_off_until_its_start() {
    let script = std::fs::canonicalize("tests/controllers/stop_start.py").unwrap();
    let text = scenario("external", "").replace(
        "name = \"external\"\n",
        &format!(
            "name = \"external\"\ncommand = [\"python3\", \"{}\"]\n",
            script.display()
        ),
    );
    let dir = crate::support::scratch("power_policy_stop");
    std::fs::write(dir.join("one_crash.tab"), crate::ha::TRACE).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let (_, outs) = crate::support::run_outputs(&model, Some(1));
    let out = &outs[0];
    let first_on_host1 = (0..model.vms.len())
        .find(|v| model.placement[*v] == HostId(1))
        .unwrap();
    let t = out.vm_time_us[first_on_host1].map(|us| us / 1_000_000);
    assert_eq!(t[VmState::ShutOff as usize], 3645);
    assert_eq!(t[VmState::Running as usize], 20 * H - 3645);
}
