//! The less common scenario forms: an uneven `[[racks]]` fleet, every distribution kind, and
//! per-domain outages, loaded and run end to end.

use crate::support::{run_text, scratch, write_scenario};

const UNEVEN: &str = r#"name = "uneven"
[simulation]
horizon = "2000h"
replications = 3
seed = 3
[[host_types]]
name = "big"
vcpus = 64
ram_gib = 512
disk_gib = 2000
nic_gbps = 25
boot_time = "5m"
[[host_types]]
name = "small"
vcpus = 16
ram_gib = 128
nic_gbps = 10
boot_time = "3m"
[[racks]]
name = "r1"
zone = "az1"
fault_domain = "fd1"
hosts = 3
host_type = "big"
[[racks]]
name = "r2"
zone = "az1"
fault_domain = "fd2"
hosts = 5
host_type = "small"
[[racks]]
name = "r3"
zone = "az2"
fault_domain = "fd1"
hosts = 2
host_type = "big"
[[flavors]]
name = "f"
vcpus = 2
ram_gib = 8
disk_gib = 20
[[workloads]]
name = "db"
count = 6
flavor = "f"
storage = "volume"
boot_time = "1m"
server_group = { policy = "soft-anti-affinity" }
[[workloads]]
name = "cache"
count = 4
flavor = "f"
storage = "shared"
boot_time = "30s"
ha = false
tags = ["evacuable"]
[failures.host]
time_between = { dist = "gamma", shape = 2.0, scale = "300h" }
repair = { dist = "empirical", file = "repairs.txt" }
[[failures.domain]]
level = "zone"
time_between = { dist = "uniform", min = "400h", max = "800h" }
repair = { dist = "lognormal", mean = "2h", sigma = 0.5 }
[nova]
resume_guests_state_on_host_boot = true
cpu_allocation_ratio = 2.0
reserved_host_memory_mb = 4096
"#;

#[test]
fn uneven_fleet_with_every_distribution_kind_runs() {
    let dir = scratch("forms_uneven");
    std::fs::write(
        dir.join("repairs.txt"),
        "# minutes-scale repairs\n30m\n1h\n5400\n2h30m\n",
    )
    .unwrap();
    let path = write_scenario(&dir, "uneven", UNEVEN);
    let model = hasim::scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let t = &model.topology;
    assert_eq!(t.hosts.len(), 10);
    assert_eq!(t.zones.len(), 2);
    // fd1 in az1 and fd1 in az2 are different fault domains.
    assert_eq!(t.fault_domains.len(), 3);
    assert_eq!(t.hosts[9].name, "r3-h02");
    assert_eq!(t.host_types[t.hosts[4].host_type.index()].name, "small");
    assert_eq!(model.vms.len(), 10);
    assert_eq!(
        model.failures.domains[0].domains.len(),
        2,
        "one outage clock per zone"
    );
    let r = hasim::runner::run(&model, Some(2)).unwrap();
    assert!(r.metrics["host_failures"].mean > 0.0);
    assert!(r.metrics["domain_outages"].mean > 0.0);
    let a = r.metrics["vm_availability"].mean;
    assert!(a > 0.9 && a < 1.0, "{a}");
}

#[test]
fn topology_and_racks_together_is_an_error() {
    let text = UNEVEN.replace(
        "[nova]",
        "[topology]\nzones = [\"z\"]\nfault_domains_per_zone = 1\nracks_per_fault_domain = 1\nhosts_per_rack = 1\nhost_type = \"big\"\n[nova]",
    );
    let dir = scratch("forms_both");
    std::fs::write(dir.join("repairs.txt"), "1h\n").unwrap();
    let err = hasim::scenario::load(&write_scenario(&dir, "both", &text), &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("give either [topology] or [[racks]], not both"),
        "{err}"
    );
}

#[test]
fn zone_outage_runs_through_run_text() {
    // A single zone that fails every 100 h for exactly 10 h, no other failures: the host
    // availability over 1000 h is (1000 − 9·(10 h + 5 min boot)) / 1000 — outages start at
    // 100, 210, … 980 h (9 of them, each 110 h apart; each restore re-arms the clock).
    let text = r#"name = "zone"
[simulation]
horizon = "1000h"
replications = 2
seed = 1
[[host_types]]
name = "h"
vcpus = 4
ram_gib = 8
nic_gbps = 1
boot_time = "5m"
[topology]
zones = ["z"]
fault_domains_per_zone = 2
racks_per_fault_domain = 1
hosts_per_rack = 2
host_type = "h"
[[flavors]]
name = "f"
vcpus = 1
ram_gib = 1
[[workloads]]
name = "w"
count = 4
flavor = "f"
storage = "shared"
boot_time = "0s"
[nova]
resume_guests_state_on_host_boot = true
[[failures.domain]]
level = "zone"
time_between = { dist = "fixed", value = "100h" }
repair = { dist = "fixed", value = "10h" }
"#;
    let r = run_text("forms_zone", text, Some(1));
    assert_eq!(r.metrics["domain_outages"].mean, 9.0);
    let expected = 1.0 - 9.0 * (10.0 + 5.0 / 60.0) / 1000.0;
    assert!((r.metrics["host_availability"].mean - expected).abs() < 1e-12);
    assert!((r.metrics["vm_availability"].mean - expected).abs() < 1e-12);
}
