//! Planned maintenance and live migration in the engine: drain arithmetic, NIC sharing, Nova's
//! abort and auto-converge, GCE terminate semantics, the capacity floor, failures mid-drain.

use crate::support::scratch;
use hasim::engine::ReplicationOutput;
use hasim::metrics::ledger::VmState;
use hasim::runner::run_replication;
use hasim::scenario::load;

/// Four 4 GiB VMs per host on 4 hosts with 10 Gbit/s NICs (1.25e9 B/s: 3.436 s per VM when
/// nothing is dirtied). `campaign` and `extra` are appended.
fn fleet(name: &str, workload: &str, campaign: &str, extra: &str) -> ReplicationOutput {
    let text = format!(
        r#"name = "{name}"
[simulation]
horizon = "30d"
replications = 1
seed = 3
[[host_types]]
name = "h"
vcpus = 32
ram_gib = 128
nic_gbps = 10
boot_time = "5m"
[topology]
zones = ["z"]
fault_domains_per_zone = 2
racks_per_fault_domain = 1
hosts_per_rack = 2
host_type = "h"
[[flavors]]
name = "f"
vcpus = 2
ram_gib = 4
[[workloads]]
name = "w"
count = 16
flavor = "f"
storage = "shared"
boot_time = "45s"
{workload}
[[maintenance]]
host_duration = "30m"
{campaign}
{extra}
"#
    );
    let dir = scratch(&format!("maint_{name}"));
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&model, 0).unwrap_or_else(|v| panic!("{}", v.message))
}

#[test]
fn drain_time_is_the_sum_of_sequential_migrations() {
    let out = fleet(
        "drain_sum",
        "dirty_rate_mib_s = 0",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    let m = &out.maintenance;
    assert_eq!(m.live_migrations, 4);
    let makespan = m.makespans_us[0];
    let drain = makespan - 30 * 60_000_000 - 5 * 60_000_000;
    assert_eq!(
        drain,
        m.duration_us.iter().sum::<u64>(),
        "one at a time: drain = Σ migrations"
    );
    // 4 GiB over 1.25e9 B/s is 3.436 s; nothing dirtied and no switchover constant: the
    // blackout is 0.
    for d in m.duration_us.iter() {
        assert_eq!(
            d,
            hasim::infra::migration::send_time_us(4 << 30, 1_250_000_000)
        );
    }
    // Maintenance cost the migrated VMs nothing but microseconds of blackout.
    let worst = out
        .vm_time_us
        .iter()
        .map(|t| t[VmState::Blackout as usize])
        .max()
        .unwrap();
    assert_eq!(
        worst, 0,
        "nothing dirtied, no switchover constant: no blackout"
    );
}

#[test]
fn two_migrations_on_one_nic_take_longer_than_one() {
    let one = fleet(
        "nic_one",
        "dirty_rate_mib_s = 0",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    let two = fleet(
        "nic_two",
        "dirty_rate_mib_s = 0",
        "hosts = [\"z-fd1-r1-h01\"]",
        "[nova]\nmax_concurrent_live_migrations = 2",
    );
    let (d1, d2) = (
        one.maintenance
            .duration_us
            .iter()
            .next()
            .expect("a migration"),
        two.maintenance
            .duration_us
            .iter()
            .next()
            .expect("a migration"),
    );
    assert_eq!(
        d2,
        2 * d1,
        "two migrations share the NIC: each takes twice as long"
    );
    // The drain as a whole is no faster: the NIC is the bottleneck either way.
    assert_eq!(one.maintenance.makespans_us, two.maintenance.makespans_us);
}

#[test]
fn a_hot_database_aborts_under_nova_defaults_and_converges_with_auto_converge() {
    // Dirtying at 1,500 MiB/s against a 1,192 MiB/s link: pre-copy never converges, Nova
    // aborts after 800 s × 4 GiB = 3,200 s; after one retry the campaign cold-migrates.
    let hot = fleet(
        "hot",
        "dirty_rate_mib_s = 1500",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    let m = &hot.maintenance;
    assert_eq!(
        (
            m.live_migrations,
            m.live_migration_aborts,
            m.cold_migrations
        ),
        (0, 8, 4)
    );
    let tamed = fleet(
        "hot_ac",
        "dirty_rate_mib_s = 1500",
        "hosts = [\"z-fd1-r1-h01\"]",
        "[libvirt]\nlive_migration_permit_auto_converge = true",
    );
    let m = &tamed.maintenance;
    assert_eq!((m.live_migrations, m.live_migration_aborts), (4, 0));
    assert!(m.duration_us.iter().all(|d| d < 3_200_000_000));
}

#[test]
fn terminating_vms_get_their_notice_then_restart_elsewhere() {
    // GCE GPU semantics: 60-minute notice, then stopped; automatic_restart starts them on
    // another host at once, so each is down exactly its 45 s boot.
    let out = fleet(
        "terminate",
        "on_host_maintenance = \"terminate\"\nmaintenance_notice = \"60m\"",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    let down: Vec<u64> = out
        .vm_time_us
        .iter()
        .map(|t| t[VmState::Maintenance as usize] / 1_000_000)
        .filter(|s| *s > 0)
        .collect();
    assert_eq!(down, vec![45; 4]);
    assert_eq!(out.maintenance.cold_migrations, 4);
    assert!(
        out.maintenance.makespans_us[0] >= 60 * 60_000_000,
        "the drain waits for the notice"
    );
    // Without automatic_restart they wait for their host: notice end → work → boot → VM boot.
    let out = fleet(
        "terminate_norestart",
        "on_host_maintenance = \"terminate\"\nmaintenance_notice = \"60m\"\nautomatic_restart = false",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    let down: Vec<u64> = out
        .vm_time_us
        .iter()
        .map(|t| (t[VmState::Maintenance as usize] + t[VmState::Recovery as usize]) / 1_000_000)
        .filter(|s| *s > 0)
        .collect();
    assert_eq!(down, vec![30 * 60 + 5 * 60 + 45; 4]);
}

#[test]
fn the_capacity_floor_serialises_a_campaign() {
    let free = fleet(
        "floor_free",
        "dirty_rate_mib_s = 0",
        "max_concurrent_hosts = 2",
        "",
    );
    let floored = fleet(
        "floor_on",
        "dirty_rate_mib_s = 0",
        "max_concurrent_hosts = 2\nmin_available_hosts = 3",
        "",
    );
    let (f, s) = (
        free.maintenance.makespans_us[0],
        floored.maintenance.makespans_us[0],
    );
    // Two at a time: 2 rounds; with 3 of 4 hosts kept available: 4 rounds.
    assert!(s > f * 19 / 10, "floor {s} vs free {f}");
}

#[test]
fn a_host_failing_mid_drain_is_requeued_and_the_cycle_completes() {
    let dir = scratch("maint_fail_trace");
    // Host 0 crashes 2 s into its drain (the trace's t0 is the campaign start) for 1 h.
    std::fs::write(
        dir.join("t.tab"),
        "event_id component_id node_id platform_id node_name event_type event_start_time event_stop_time event_end_reason\n\
         0 0 0 1 n0 1 1000000000 1000000002 NULL\n1 0 0 1 n0 0 1000000002 1000003602 NULL\n2 0 0 1 n0 1 1000003602 1000900000 NULL\n",
    )
    .unwrap();
    let trace = format!(
        "[failures.trace]\nfile = \"{}\"\nformat = \"fta\"",
        dir.join("t.tab").display()
    );
    let out = fleet("fail_mid_drain", "dirty_rate_mib_s = 0", "", &trace);
    let m = &out.maintenance;
    assert_eq!(m.makespans_us.len(), 1, "the cycle finished");
    assert!(
        m.makespans_us[0] > 3_600_000_000,
        "host 0 was done after its repair"
    );
    assert_eq!(out.host_failures[0], 1);
}

#[test]
fn migrate_back_returns_the_vms_home_after_the_work() {
    let out = fleet(
        "back",
        "dirty_rate_mib_s = 0",
        "hosts = [\"z-fd1-r1-h01\"]\nmigrate_back = true",
        "",
    );
    assert_eq!(out.maintenance.live_migrations, 8, "four out, four home");
    assert_eq!(out.maintenance.live_migration_aborts, 0);
    let stay = fleet(
        "stay",
        "dirty_rate_mib_s = 0",
        "hosts = [\"z-fd1-r1-h01\"]",
        "",
    );
    assert_eq!(stay.maintenance.live_migrations, 4);
}
