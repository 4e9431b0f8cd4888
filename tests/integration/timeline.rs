//! Hand-computed timelines with fixed distributions: every number below is worked out on paper
//! from the scenario, not read from the simulator.

use crate::support::run_text_outputs;
use hasim::metrics::ledger::VmState;

fn scenario(failures: &str, horizon: &str) -> String {
    format!(
        r#"name = "timeline"
[simulation]
horizon = "{horizon}"
replications = 2
seed = 1
[[host_types]]
name = "h"
vcpus = 8
ram_gib = 32
nic_gbps = 10
boot_time = "5m"
[topology]
zones = ["z"]
fault_domains_per_zone = 1
racks_per_fault_domain = 1
hosts_per_rack = 2
host_type = "h"
[[flavors]]
name = "f"
vcpus = 1
ram_gib = 1
[[workloads]]
name = "w"
count = 2
flavor = "f"
storage = "shared"
boot_time = "45s"
[nova]
resume_guests_state_on_host_boot = true
{failures}
"#
    )
}

fn secs(us: u64) -> u64 {
    assert_eq!(us % 1_000_000, 0, "{us} µs is not whole seconds");
    us / 1_000_000
}

/// Crash every 100 h of host up-time (measured from the host's return), 2 h repair, 5 min host
/// boot, 45 s VM boot, horizon 250 h:
/// crash 100h → repaired 102h → host up 102h05m → VM running 102h05m45s;
/// crash 202h05m → repaired 204h05m → host up 204h10m → VM running 204h10m45s.
#[test]
fn host_crash_timeline() {
    let text = scenario(
        "[failures.host]\ntime_between = { dist = \"fixed\", value = \"100h\" }\nrepair = { dist = \"fixed\", value = \"2h\" }",
        "250h",
    );
    let (r, outputs) = run_text_outputs("timeline_crash", &text, Some(1));
    for out in &outputs {
        for vm in &out.vm_time_us {
            assert_eq!(
                secs(vm[VmState::HostFailure as usize]),
                2 * (2 * 3600 + 300)
            );
            assert_eq!(secs(vm[VmState::Recovery as usize]), 2 * 45);
            assert_eq!(secs(vm[VmState::Running as usize]), 250 * 3600 - 2 * 7545);
        }
        assert_eq!(out.host_failures, vec![2, 2]);
        assert_eq!(secs(out.host_down_us[0]), 2 * 7500);
    }
    let a = r.metrics["vm_availability"].mean;
    assert!((a - (1.0 - 15090.0 / 900_000.0)).abs() < 1e-12);
}

/// A crash and a rack outage overlap: the host returns only when both are over.
/// Crash at 50 h (3 h repair, until 53 h); rack outage 51 h → 52 h. Host boots 53h → 53h05m,
/// VM running at 53h05m45s. The next crash is 50 h after the host's return (103h05m) and the
/// next rack outage 51 h after the rack's return (103 h): both beyond the 100 h horizon.
#[test]
fn overlapping_crash_and_rack_outage() {
    let text = scenario(
        r#"[failures.host]
time_between = { dist = "fixed", value = "50h" }
repair = { dist = "fixed", value = "3h" }
[[failures.domain]]
level = "rack"
time_between = { dist = "fixed", value = "51h" }
repair = { dist = "fixed", value = "1h" }"#,
        "100h",
    );
    let (_, outputs) = run_text_outputs("timeline_overlap", &text, Some(1));
    let out = &outputs[0];
    for vm in &out.vm_time_us {
        assert_eq!(secs(vm[VmState::HostFailure as usize]), 3 * 3600 + 300);
        assert_eq!(secs(vm[VmState::Recovery as usize]), 45);
    }
    assert_eq!(
        out.host_failures,
        vec![1, 1],
        "domain outages are not host failures"
    );
    assert_eq!(out.domain_outages, 1);
}

/// A rack outage alone: every 50 h after the rack's return, for 1 h; horizon 120 h.
/// Outages at 50 h and 101 h; each costs the VM 1 h + 5 min host boot + 45 s VM boot.
#[test]
fn rack_outage_takes_all_hosts_down_together() {
    let text = scenario(
        "[[failures.domain]]\nlevel = \"rack\"\ntime_between = { dist = \"fixed\", value = \"50h\" }\nrepair = { dist = \"fixed\", value = \"1h\" }",
        "120h",
    );
    let (_, outputs) = run_text_outputs("timeline_rack", &text, Some(1));
    let out = &outputs[0];
    assert_eq!(out.domain_outages, 2);
    // Both hosts down together for 2 × (1 h + 5 min), never exactly one.
    assert_eq!(secs(out.hosts_down_concurrency_us[2]), 2 * 3900);
    assert_eq!(out.hosts_down_concurrency_us[1], 0);
    for vm in &out.vm_time_us {
        assert_eq!(
            secs(vm[VmState::HostFailure as usize] + vm[VmState::Recovery as usize]),
            2 * 3945
        );
    }
}

/// Replication 0 records when hosts and VMs went down and came back: the same hand-computed
/// instants as `host_crash_timeline` (both hosts have identical fixed clocks).
#[test]
fn replication_zero_records_the_down_timeline() {
    let text = scenario(
        "[failures.host]\ntime_between = { dist = \"fixed\", value = \"100h\" }\nrepair = { dist = \"fixed\", value = \"2h\" }",
        "250h",
    );
    let (_, outputs) = run_text_outputs("timeline_points", &text, Some(2));
    let h = |hours: u64, mins: u64, s: u64| {
        hasim::core::time::SimTime((hours * 3600 + mins * 60 + s) * 1_000_000)
    };
    let tl = outputs[0]
        .timeline
        .as_ref()
        .expect("replication 0 records a timeline");
    assert_eq!(
        tl.points,
        vec![
            (h(0, 0, 0), 0, 0),
            (h(100, 0, 0), 2, 2),
            (h(102, 5, 0), 0, 2),
            (h(102, 5, 45), 0, 0),
            (h(202, 5, 0), 2, 2),
            (h(204, 10, 0), 0, 2),
            (h(204, 10, 45), 0, 0),
        ]
    );
    assert!(outputs[1].timeline.is_none());
    // Each VM had two outages of 2 h + 5 min + 45 s.
    assert_eq!(
        outputs[0].vm_outage_us.iter().collect::<Vec<_>>(),
        vec![7_545_000_000; 4]
    );
}
