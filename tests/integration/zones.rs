//! Zone-aware moves on the one-crash trace of `ha.rs` (host 0 down at T = 1 h for 2 h), in a
//! fleet of two zones with two 128 GiB hosts each (127.5 GiB schedulable) and eight 40 GiB VMs:
//! two per host, so each host has room for one more. Under Instance HA (evacuations at T+30 s,
//! 45 s rebuild, guests resumed at host boot), hand-computed:
//! - pinned (the default): host 0's zone has room for one of its two VMs. That one is back at
//!   T+75 s (detection 20 s, fencing 3 s, recovery 52 s); the other finds no valid host in its
//!   zone: `no_capacity` from T+30 s until its host is back at T+2 h (7,170 s), then boots there
//!   (recovery 7 s + 45 s). No move crosses a zone.
//! - `pin_zone = false`: the second VM goes to the other zone, back at T+75 s too; one
//!   cross-zone move.

use crate::ha::{scenario, RESUME};
use hasim::metrics::ledger::VmState;

fn two_zones(pin: bool) -> String {
    let mut text = scenario("instance-ha", "")
        .replace(
            "zones = [\"z\"]\nfault_domains_per_zone = 2\n",
            "zones = [\"a\", \"b\"]\nfault_domains_per_zone = 1\n",
        )
        .replace("ram_gib = 4\n", "ram_gib = 40\n")
        .replace("count = 16\n", "count = 8\n")
        .replace("[nova]\n", &format!("[nova]\n{RESUME}\n"));
    if !pin {
        text = text.replace(
            "boot_time = \"45s\"\n",
            "boot_time = \"45s\"\npin_zone = false\n",
        );
    }
    assert!(text.contains("\"a\", \"b\""));
    text
}

fn times(pin: bool) -> (Vec<[u64; 3]>, hasim::engine::ReplicationOutput) {
    // `ha::host0_run` expects four VMs on host 0; this fleet has two.
    {
        let dir = crate::support::scratch(&format!("zones_{pin}"));
        std::fs::write(dir.join("one_crash.tab"), crate::ha::TRACE).unwrap();
        let path = dir.join("s.toml");
        std::fs::write(&path, two_zones(pin)).unwrap();
        let model = hasim::scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let out = hasim::runner::run_replication(&model, 0).unwrap();
        let t: Vec<[u64; 3]> = (0..model.vms.len())
            .filter(|v| model.placement[*v] == hasim::world::ids::HostId(0))
            .map(|v| {
                let s = out.vm_time_us[v].map(|us| us / 1_000_000);
                [
                    s[VmState::Detection as usize] + s[VmState::Fencing as usize],
                    s[VmState::Recovery as usize],
                    s[VmState::NoCapacity as usize],
                ]
            })
            .collect();
        (t, out)
    }
}

#[test]
fn moves_stay_in_their_zone_and_wait_when_it_is_full() {
    let (mut t, out) = times(true);
    t.sort();
    assert_eq!(t, vec![[23, 52, 0], [23, 52, 7170]]);
    assert_eq!(out.ha.cross_zone_moves, 0);
    assert_eq!(out.ha.evacuations, 1);
}

#[test]
fn opting_out_lets_a_move_cross_zones() {
    let (t, out) = times(false);
    assert_eq!(t, vec![[23, 52, 0], [23, 52, 0]]);
    assert_eq!(out.ha.cross_zone_moves, 1);
    assert_eq!(out.ha.evacuations, 2);
}
