//! The `gce` policy on the one-crash trace of `ha.rs` (host 0 down at T = 1 h for 2 h, back
//! without a boot), with a what-if `[gce] host_error_detection = "2m"` and half the VMs Spot
//! (`automatic_restart = false`). Hand-computed:
//! - at T+2 min GCE declares the host error: every VM on host 0 that should run logs a
//!   hostError (4); those with automatic restart are restarted elsewhere: 45 s boot, back at
//!   T+2 min 45 s (detection 120 s, recovery 45 s);
//! - the Spot VMs stay TERMINATED: down with their host to T+2 h, then off to the horizon
//!   (17 h `shutoff`), whatever `resume_guests_state_on_host_boot` says.

use crate::ha::{host0_run, scenario, RESUME};
use hasim::metrics::ledger::VmState;

fn gce_text() -> String {
    scenario("gce", "[gce]\nhost_error_detection = \"2m\"").replace(
        "[[workloads]]\nname = \"w\"\ncount = 16\n",
        "[[workloads]]\nname = \"spot\"\ncount = 8\nflavor = \"f\"\nstorage = \"shared\"\n\
         boot_time = \"45s\"\nautomatic_restart = false\n[[workloads]]\nname = \"w\"\ncount = 8\n",
    )
}

#[test]
fn gce_restarts_automatic_restart_vms_elsewhere_and_spot_vms_stay_terminated() {
    for text in [
        gce_text(),
        gce_text().replace("[nova]\n", &format!("[nova]\n{RESUME}\n")),
    ] {
        let (times, out) = host0_run("gce", &text);
        let mut restarted = 0;
        let mut terminated = 0;
        for t in &times {
            assert_eq!(t[VmState::Detection as usize], 120);
            if t[VmState::ShutOff as usize] > 0 {
                terminated += 1;
                assert_eq!(t[VmState::ShutOff as usize], 17 * 3600);
                assert_eq!(t[VmState::Recovery as usize], 2 * 3600 - 120);
            } else {
                restarted += 1;
                assert_eq!(t[VmState::Recovery as usize], 45);
            }
        }
        assert_eq!((restarted, terminated), (2, 2));
        assert_eq!(out.ha.host_errors, 4);
        assert_eq!(out.ha.evacuations, 2);
    }
}
