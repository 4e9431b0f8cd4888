//! HA policies on hand-computed timelines. One host (host 0) crashes at T = 1 h for 2 h (a
//! one-node FTA trace); heartbeats every 1 µs make every phase 0, so each instant below follows
//! from the production defaults alone:
//! - Pacemaker notices at the next 20 s remote monitor: T+20 s; IPMI fencing (power_wait 2 s +
//!   one 1 s status poll) ends at T+23 s.
//! - masakari: the host monitor's next 60 s poll is T+60 s; the IPMI check answers "off" at
//!   T+61 s; disable + 180 s sleep → evacuations at T+241 s, 3 at a time, each rebuilt in the
//!   workload's 45 s boot: three VMs back at T+286 s (4 min 46 s), the fourth at T+331 s.
//! - instance-ha: fence_compute at T+23 s, NovaEvacuate's next 10 s monitor at T+30 s evacuates
//!   all four at once: back at T+75 s.
//! - pca: the 5-minute failure threshold at T+300 s, restart elsewhere: back at T+345 s.
//! - none: the host returns at T+2 h (the trace's end is the return to service); with
//!   `resume_guests_state_on_host_boot = true` VMs boot 45 s, with Nova's default they stay
//!   SHUTOFF to the horizon (tests/integration/power_state.rs).

use crate::support::scratch;
use hasim::metrics::ledger::{VmState, VM_STATES};
use hasim::runner::run_replication;
use hasim::scenario::load;
use hasim::world::ids::HostId;

pub(crate) const TRACE: &str = "event_id component_id node_id platform_id node_name event_type event_start_time event_stop_time event_end_reason
0 0 0 1 n0 1 1000000000 1000003600 NULL
1 0 0 1 n0 0 1000003600 1000010800 NULL
2 0 0 1 n0 1 1000010800 1000100000 NULL
";

pub(crate) fn scenario(policy: &str, extra: &str) -> String {
    format!(
        r#"name = "ha_timeline"
[simulation]
horizon = "20h"
replications = 1
seed = 1
[[host_types]]
name = "h"
vcpus = 32
ram_gib = 128
nic_gbps = 25
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
[failures.trace]
file = "one_crash.tab"
format = "fta"
[nova]
report_interval = "1us"
[pacemaker]
stonith_action = "off"
[policy]
name = "{policy}"
{extra}
"#
    )
}

/// Seconds in each state for the VMs of host 0, in VM order.
pub(crate) fn host0_times(
    policy: &str,
    extra: &str,
) -> (Vec<[u64; VM_STATES]>, hasim::engine::ReplicationOutput) {
    host0_run(policy, &scenario(policy, extra))
}

/// Nova's option that makes guests start with their host (default False).
pub(crate) const RESUME: &str = "resume_guests_state_on_host_boot = true";

/// Runs a scenario text with the one-crash trace; the times of host 0's VMs, in seconds.
pub(crate) fn host0_run(
    tag: &str,
    text: &str,
) -> (Vec<[u64; VM_STATES]>, hasim::engine::ReplicationOutput) {
    let dir = scratch(&format!("ha_{tag}"));
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = run_replication(&model, 0).unwrap();
    let on_host0: Vec<usize> = (0..model.vms.len())
        .filter(|v| model.placement[*v] == HostId(0))
        .collect();
    assert_eq!(on_host0.len(), 4, "the scenario puts four VMs on host 0");
    let times = on_host0
        .iter()
        .map(|&v| out.vm_time_us[v].map(|us| us / 1_000_000))
        .collect();
    (times, out)
}

pub(crate) fn down(t: &[u64; VM_STATES]) -> u64 {
    t.iter().sum::<u64>() - t[VmState::Running as usize]
}

#[test]
fn masakari_recovers_three_at_a_time_after_the_180_s_wait() {
    let (times, out) = host0_times("masakari", "");
    let mut downs: Vec<u64> = times.iter().map(down).collect();
    downs.sort();
    assert_eq!(downs, vec![286, 286, 286, 331]);
    for t in &times {
        assert_eq!(t[VmState::Detection as usize], 20);
        assert_eq!(t[VmState::Fencing as usize], 3);
    }
    assert_eq!(out.ha.evacuations, 4);
    assert_eq!(
        (
            out.ha.split_brain_events,
            out.ha.false_failovers,
            out.ha.fencing_failures
        ),
        (0, 0, 0)
    );
}

#[test]
fn instance_ha_evacuates_everything_at_the_next_monitor() {
    let (times, out) = host0_times("instance-ha", "");
    for t in &times {
        assert_eq!(down(t), 75);
        assert_eq!(
            (
                t[VmState::Detection as usize],
                t[VmState::Fencing as usize],
                t[VmState::Recovery as usize]
            ),
            (20, 3, 52)
        );
    }
    assert_eq!(out.ha.evacuations, 4);
}

#[test]
fn pca_restarts_after_its_five_minute_threshold() {
    let (times, out) = host0_times("pca", "");
    for t in &times {
        assert_eq!(
            (
                t[VmState::Detection as usize],
                t[VmState::Recovery as usize]
            ),
            (300, 45)
        );
    }
    assert_eq!(out.ha.evacuations, 4);
}

#[test]
fn without_ha_vms_wait_for_the_host() {
    let text = scenario("none", "").replace("[nova]\n", &format!("[nova]\n{RESUME}\n"));
    let (times, out) = host0_run("none_resume", &text);
    for t in &times {
        assert_eq!(
            (
                t[VmState::HostFailure as usize],
                t[VmState::Recovery as usize]
            ),
            (7200, 45)
        );
    }
    assert_eq!(out.ha.evacuations, 0);
}

#[test]
fn masakari_ignores_a_host_whose_power_reads_on() {
    // With Pacemaker's default stonith-action (reboot) the fenced host is powered on again, the
    // IPMI check reads "on" (UNKNOWN) and Masakari ignores the failure: VMs wait for the host.
    let dir = scratch("ha_masakari_reboot");
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        scenario("masakari", "").replace("stonith_action = \"off\"", "stonith_action = \"reboot\""),
    )
    .unwrap();
    let model = load(&path, &[]).unwrap();
    let out = run_replication(&model, 0).unwrap();
    assert_eq!(out.ha.evacuations, 0);
}

#[test]
fn masakari_monitors_restricted_to_remotes_never_notify_with_the_ipmi_check() {
    // masakari-monitors 22.0.0 with restrict_to_remotes fails every poll in its IPMI check
    // (found by running the real hostmonitor): even with stonith "off", nothing recovers, and
    // VMs wait for the host exactly as without HA; without the IPMI check it notifies again.
    let (times, out) = host0_times(
        "masakari",
        "[masakari_monitors]\nrestrict_to_remotes = true",
    );
    assert_eq!(out.ha.evacuations, 0);
    let (none, _) = host0_times("none", "");
    let total = |t: &Vec<[u64; VM_STATES]>| t.iter().map(down).sum::<u64>();
    assert_eq!(total(&times), total(&none));
    let (_, out) = host0_times(
        "masakari",
        "[masakari_monitors]\nrestrict_to_remotes = true\ndisable_ipmi_check = true",
    );
    assert!(out.ha.evacuations > 0);
}

/// Host 0 drops off the network at T = 1 h for 2 h while it and its VMs keep running.
/// `stonith = false` disables Pacemaker fencing.
fn partition_run(policy: &str, extra: &str, stonith: bool) -> hasim::engine::ReplicationOutput {
    let dir = scratch(&format!("ha_partition_{policy}_{stonith}_{}", extra.len()));
    let stonith_line = if stonith {
        ""
    } else {
        "stonith_enabled = false\n"
    };
    let text = scenario(policy, extra)
        .replace("[pacemaker]\n", &format!("[pacemaker]\n{stonith_line}"))
        .replace(
            "[failures.trace]\nfile = \"one_crash.tab\"\nformat = \"fta\"",
            "[failures.partition]\ntime_between = { dist = \"fixed\", value = \"1h\" }\n\
             duration = { dist = \"fixed\", value = \"2h\" }\nhosts = [\"z-fd1-r1-h01\"]",
        )
        .replace("horizon = \"20h\"", "horizon = \"2h30m\"");
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&model, 0).unwrap()
}

#[test]
fn fencing_prevents_split_brain_in_a_partition() {
    for policy in ["masakari", "instance-ha"] {
        let out = partition_run(policy, "", true);
        assert_eq!(out.ha.evacuations, 4, "{policy}");
        assert_eq!(
            out.ha.split_brain_events, 0,
            "{policy}: the fence killed the old copies first"
        );
        assert_eq!(
            out.ha.false_failovers, 1,
            "{policy}: the host had not failed"
        );
    }
}

#[test]
fn evacuating_without_fencing_makes_split_brain() {
    // A misconfigured Masakari: stonith disabled and the IPMI check turned off. The partitioned
    // host keeps its guests running while they are rebuilt elsewhere: four servers run twice.
    let out = partition_run(
        "masakari",
        "[masakari_monitors]\ndisable_ipmi_check = true",
        false,
    );
    assert_eq!(
        (
            out.ha.evacuations,
            out.ha.split_brain_events,
            out.ha.false_failovers
        ),
        (4, 4, 1)
    );
    // With the IPMI check on, the same Masakari reads "power on" and stays away.
    let out = partition_run("masakari", "", false);
    assert_eq!((out.ha.evacuations, out.ha.split_brain_events), (0, 0));
    // PCA restarts after its threshold with no fencing step: the same split brain.
    let out = partition_run("pca", "", true);
    assert_eq!(out.ha.split_brain_events, 4);
    // Instance HA never evacuates without successful fencing.
    let out = partition_run("instance-ha", "", false);
    assert_eq!((out.ha.evacuations, out.ha.split_brain_events), (0, 0));
}

#[test]
fn an_unreachable_bmc_blocks_evacuation() {
    for policy in ["instance-ha", "masakari"] {
        let text = scenario(
            policy,
            "[failures.bmc]\nprobability = 1.0\nduration = { dist = \"fixed\", value = \"10h\" }",
        )
        .replace("[nova]\n", &format!("[nova]\n{RESUME}\n"));
        let (times, out) = host0_run(&format!("bmc_{policy}"), &text);
        assert_eq!(out.ha.evacuations, 0, "{policy}");
        // Pacemaker tries stonith-max-attempts (10) times, 60 s each.
        assert_eq!(out.ha.fencing_failures, 10, "{policy}");
        for t in &times {
            // Down until the host itself is back (T+2 h) and the VMs boot (45 s, with Nova's
            // resume_guests_state_on_host_boot; without it they stay off).
            assert_eq!(down(t), 7245, "{policy}");
        }
    }
}

/// The production adapter runs the same policy code: the observations the simulator delivered
/// (with the inventory the policy read) fed to `hasim policy masakari` give the very commands
/// the policy issued inside the simulator. The command file is a reviewed snapshot.
#[test]
fn the_policy_adapter_answers_recorded_observations_like_the_simulator() {
    let dir = scratch("ha_adapter");
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(&path, scenario("masakari", "")).unwrap();
    let model = load(&path, &[]).unwrap();
    let (_, steps) = hasim::runner::run_recorded(&model, 0).unwrap();
    assert!(
        steps.len() >= 10,
        "the crash drives a whole recovery: {} steps",
        steps.len()
    );
    let input = hasim::adapters::policy_stdio::input_lines(&steps);
    let observations = dir.join("observations.jsonl");
    std::fs::write(&observations, &input).unwrap();

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["policy", "masakari"])
        .stdin(std::fs::File::open(&observations).unwrap())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        out,
        hasim::adapters::policy_stdio::output_lines(&steps),
        "adapter and simulator disagree"
    );
    insta::assert_snapshot!("masakari_commands", out);
}

/// nova-compute on host 1 dies for an hour from T − 10 min while host 0 crashes at T: host 1's
/// VMs keep running and nobody fails it over, but the service group shows it down, so none of
/// host 0's evacuated VMs may land there.
#[test]
fn a_dead_nova_compute_keeps_its_vms_but_takes_no_evacuations() {
    let dir = scratch("ha_control_plane");
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    let text = scenario("instance-ha", "").replace(
        "[nova]\n",
        "[failures.control_plane]\ntime_between = { dist = \"fixed\", value = \"50m\" }\n\
         duration = { dist = \"fixed\", value = \"1h\" }\nhosts = [\"z-fd1-r1-h02\"]\n[nova]\n",
    );
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let (out, steps) = hasim::runner::run_recorded(&model, 0).unwrap();
    let targets: Vec<u32> = steps
        .iter()
        .filter_map(|s| match &s.observation {
            hasim::policy::api::Observation::EvacuateResult {
                ok: true,
                host: Some(h),
                ..
            } => Some(*h),
            _ => None,
        })
        .collect();
    assert_eq!(targets.len(), 4);
    assert!(
        !targets.contains(&1),
        "evacuated onto a host whose nova-compute is down: {targets:?}"
    );
    assert_eq!(out.ha.false_failovers, 0);
    // Control: with nova-compute healthy, host 1 (lowest id among the emptiest) takes some.
    std::fs::write(&path, scenario("instance-ha", "")).unwrap();
    let healthy = load(&path, &[]).unwrap();
    let (_, steps) = hasim::runner::run_recorded(&healthy, 0).unwrap();
    assert!(steps.iter().any(|s| matches!(
        s.observation,
        hasim::policy::api::Observation::EvacuateResult {
            ok: true,
            host: Some(1),
            ..
        }
    )));
    // Host 1's own VMs never stopped.
    for v in (0..model.vms.len()).filter(|v| model.placement[*v] == HostId(1)) {
        assert_eq!(
            out.vm_time_us[v][VmState::Running as usize],
            20 * 3_600_000_000
        );
    }
}

/// A fleet whose guests crash every 100 h of running (fixed), horizon 250 h, no host failures.
fn guest_run(policy: &str, workload_extra: &str) -> hasim::engine::ReplicationOutput {
    let dir = scratch(&format!("ha_guest_{policy}_{}", workload_extra.len()));
    let text = scenario(policy, "")
        .replace(
            "[failures.trace]\nfile = \"one_crash.tab\"\nformat = \"fta\"",
            "[failures.guest]\ntime_between = { dist = \"fixed\", value = \"100h\" }",
        )
        .replace("horizon = \"20h\"", "horizon = \"250h\"")
        .replace(
            "boot_time = \"45s\"",
            &format!("boot_time = \"45s\"\n{workload_extra}"),
        );
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&model, 0).unwrap()
}

/// Guest crashes and who restarts them. Each guest crashes 100 h after it starts running:
/// - pca: the hypervisor restarts it (45 s boot): crashes at 100 h and 200 h 0 m 45 s, so
///   2 × 45 s of guest_crash downtime per VM;
/// - masakari: the instance-failure flow starts HA_Enabled servers (a crashed one reads
///   `stopped`, so no stop) and polls every second until it reads `active`, one notification
///   per host at a time (`@utils.synchronized(source_host_uuid)`). Nova's record reads ACTIVE
///   as soon as the start has powered the domain on, so each flow's first poll (at once)
///   ends it and the host's next notification starts at the same instant: every guest boots
///   from 100 h, 45 s, and again from its second crash: 90 s per VM, as upstream Masakari
///   22.0.0 gives (tests/integration/controllers.rs);
/// - masakari with `ha = false`: not HA_Enabled, so it stays SHUTOFF from 100 h to the end;
/// - none: nobody restarts it; SHUTOFF from 100 h on.
#[test]
fn guest_crashes_are_restarted_only_by_whoever_owns_them() {
    let per_vm = |out: &hasim::engine::ReplicationOutput| {
        out.vm_time_us
            .iter()
            .map(|t| t[VmState::GuestCrash as usize] / 1_000_000)
            .collect::<Vec<u64>>()
    };
    let out = guest_run("pca", "");
    assert!(per_vm(&out).iter().all(|s| *s == 90), "{:?}", per_vm(&out));
    let out = guest_run("masakari", "");
    assert!(per_vm(&out).iter().all(|s| *s == 90), "{:?}", per_vm(&out));
    let out = guest_run("masakari", "ha = false");
    assert!(
        per_vm(&out).iter().all(|s| *s == 150 * 3600),
        "{:?}",
        per_vm(&out)
    );
    let out = guest_run("none", "");
    assert!(per_vm(&out).iter().all(|s| *s == 150 * 3600));
}

/// A guest that boots longer than Masakari's `wait_period_after_power_on` (60 s): Nova's record
/// reads ACTIVE once the start has powered the domain on, so the flow's first poll confirms it
/// and nothing times out: each of the two crashes costs the 150 s boot, no VM is ever stopped.
/// (Had the record read `stopped` until the boot ended, every flow would time out at 61 s into
/// ERROR, and the re-run 120 s later would find the server ACTIVE and stop it: SHUTOFF time.)
#[test]
fn masakari_confirms_a_started_guest_before_its_slow_boot_ends() {
    let dir = scratch("ha_guest_slow_boot");
    let text = scenario("masakari", "")
        .replace(
            "[failures.trace]\nfile = \"one_crash.tab\"\nformat = \"fta\"",
            "[failures.guest]\ntime_between = { dist = \"fixed\", value = \"100h\" }",
        )
        .replace("horizon = \"20h\"", "horizon = \"250h\"")
        .replace("boot_time = \"45s\"", "boot_time = \"150s\"");
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = run_replication(&model, 0).unwrap();
    let secs = |s: VmState| -> Vec<u64> {
        out.vm_time_us
            .iter()
            .map(|t| t[s as usize] / 1_000_000)
            .collect()
    };
    assert!(
        secs(VmState::GuestCrash).iter().all(|s| *s == 300),
        "{:?}",
        secs(VmState::GuestCrash)
    );
    assert!(
        secs(VmState::ShutOff).iter().all(|s| *s == 0),
        "{:?}",
        secs(VmState::ShutOff)
    );
}

/// The PCA hypervisor gives up after 5 restarts. Crashing every hour of running over 10 h:
/// crash k at k h + (k − 1)·45 s; the sixth (6 h 3 m 45 s) stays down to the end:
/// 5 × 45 s + (36 000 − 21 825) s = 14 400 s of guest_crash per VM.
#[test]
fn the_pca_hypervisor_restarts_a_guest_five_times() {
    let dir = scratch("ha_guest_pca_limit");
    let text = scenario("pca", "")
        .replace(
            "[failures.trace]\nfile = \"one_crash.tab\"\nformat = \"fta\"",
            "[failures.guest]\ntime_between = { dist = \"fixed\", value = \"1h\" }",
        )
        .replace("horizon = \"20h\"", "horizon = \"10h\"");
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let out = run_replication(&load(&path, &[]).unwrap(), 0).unwrap();
    for t in &out.vm_time_us {
        assert_eq!(t[VmState::GuestCrash as usize] / 1_000_000, 14_400);
    }
}

/// PCA's preferred fault domain and auto-resolve. Hosts hold 4 VMs each (20 GiB, 4 GiB
/// flavor, 512 MiB reserved); 12 VMs fill 3 per host. Host 0 (fault domain 0) crashes: one of
/// its VMs fits on host 1 in the same fault domain, two are displaced to fault domain 1. When
/// host 0 returns, auto-resolve reboot-migrates exactly those two home.
#[test]
fn pca_restarts_in_the_preferred_fault_domain_and_resolves_displaced_instances() {
    let run = |auto: bool| {
        let dir = scratch(&format!("ha_pca_resolve_{auto}"));
        std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
        let text = scenario("pca", &format!("[pca]\nauto_resolve_displaced = {auto}"))
            .replace("ram_gib = 128", "ram_gib = 20")
            .replace("count = 16", "count = 12");
        let path = dir.join("s.toml");
        std::fs::write(&path, text).unwrap();
        let model = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        hasim::runner::run_recorded(&model, 0).unwrap().1
    };
    use hasim::policy::api::Observation as O;
    let evacuated_to = |steps: &[hasim::engine::RecordedStep]| {
        let mut hosts: Vec<u32> = steps
            .iter()
            .filter_map(|s| match s.observation {
                O::EvacuateResult {
                    ok: true,
                    host: Some(h),
                    ..
                } => Some(h),
                _ => None,
            })
            .collect();
        hosts.sort();
        hosts
    };
    let migrated_to = |steps: &[hasim::engine::RecordedStep]| {
        steps
            .iter()
            .filter_map(|s| match s.observation {
                O::MigrateResult {
                    ok: true,
                    host: Some(h),
                    ..
                } => Some(h),
                _ => None,
            })
            .collect::<Vec<u32>>()
    };
    let steps = run(true);
    assert_eq!(
        evacuated_to(&steps),
        vec![1, 2, 3],
        "one stays in fault domain 0, two are displaced"
    );
    assert_eq!(
        migrated_to(&steps),
        vec![0, 0],
        "both displaced instances return home"
    );
    let steps = run(false);
    assert_eq!(evacuated_to(&steps), vec![1, 2, 3]);
    assert!(migrated_to(&steps).is_empty());
}

/// A small DSL for the one-crash timelines: `Crash::under("masakari").run()` crashes host 0 at
/// T = 3600 s for 2 h and records what the policy saw and did.
struct Crash {
    policy: &'static str,
}

struct CrashRun {
    steps: Vec<hasim::engine::RecordedStep>,
}

impl Crash {
    fn under(policy: &'static str) -> Self {
        Crash { policy }
    }

    fn run(self) -> CrashRun {
        let dir = scratch(&format!("ha_dsl_{}", self.policy));
        std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
        let path = dir.join("s.toml");
        std::fs::write(&path, scenario(self.policy, "")).unwrap();
        let model = load(&path, &[]).unwrap();
        CrashRun {
            steps: hasim::runner::run_recorded(&model, 0).unwrap().1,
        }
    }
}

impl CrashRun {
    const T_US: u64 = 3_600_000_000;

    /// Seconds after the crash at which each evacuation was issued, in order.
    fn evacuations_issued_at_s(&self) -> Vec<u64> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.commands
                    .iter()
                    .filter(|c| matches!(c, hasim::policy::api::Command::Evacuate { .. }))
                    .map(move |_| (s.now_us - Self::T_US) / 1_000_000)
            })
            .collect()
    }

    /// Seconds after the crash at which the first observation of `kind` arrived.
    fn first_s(&self, kind: fn(&hasim::policy::api::Observation) -> bool) -> Option<u64> {
        self.steps
            .iter()
            .find(|s| kind(&s.observation))
            .map(|s| (s.now_us - Self::T_US) / 1_000_000)
    }
}

#[test]
fn evacuations_start_when_the_production_defaults_say() {
    use hasim::policy::api::Observation as O;
    let m = Crash::under("masakari").run();
    assert_eq!(
        m.first_s(|o| matches!(o, O::NodeOffline { .. })),
        Some(20),
        "Pacemaker monitor"
    );
    assert_eq!(
        m.first_s(|o| matches!(o, O::Fenced { ok: true, .. })),
        Some(23),
        "IPMI fence"
    );
    assert_eq!(
        m.first_s(|o| matches!(o, O::PowerStatus { .. })),
        Some(61),
        "60 s poll + 1 s IPMI"
    );
    assert_eq!(
        m.evacuations_issued_at_s(),
        vec![241, 241, 241, 286],
        "disable + 180 s, 3 threads"
    );
    assert_eq!(
        m.first_s(|o| matches!(o, O::EvacuateResult { ok: true, .. })),
        Some(286),
        "first VM running"
    );

    let i = Crash::under("instance-ha").run();
    assert_eq!(
        i.first_s(|o| matches!(o, O::Fenced { ok: true, .. })),
        Some(23)
    );
    assert_eq!(
        i.evacuations_issued_at_s(),
        vec![30, 30, 30, 30],
        "next 10 s NovaEvacuate monitor"
    );
    assert_eq!(
        i.first_s(|o| matches!(o, O::EvacuateResult { ok: true, .. })),
        Some(75)
    );

    let p = Crash::under("pca").run();
    assert_eq!(
        p.first_s(|o| matches!(o, O::NodeFailed { .. })),
        Some(300),
        "5-minute FAIL threshold"
    );
    assert_eq!(p.evacuations_issued_at_s(), vec![300, 300, 300, 300]);
    assert_eq!(
        p.first_s(|o| matches!(o, O::EvacuateResult { ok: true, .. })),
        Some(345)
    );

    assert!(Crash::under("none")
        .run()
        .evacuations_issued_at_s()
        .is_empty());
}

/// Upstream Masakari 22.0.0 evacuates the servers without HA_Enabled first (its VMoves are read
/// back newest first; see `Masakari::instances`): with servers 0 and 1 HA_Enabled and 2 and 3
/// not, the first round of three is 2, 3, 0 and server 1 waits — the order
/// tests/python/test_masakari_upstream.py sees upstream take.
#[test]
fn masakari_evacuates_in_upstreams_order() {
    use hasim::policy::api::{
        Command, HostView, InventorySnapshot, Observation, Policy, PowerState, VmStatus, VmView,
    };
    let host = |id: u32, up: bool| HostView {
        id,
        name: format!("h{id}"),
        fault_domain: 0,
        service_up: up,
        disabled: false,
        forced_down: false,
        node_online: up,
        reserved: false,
    };
    let vm = |id: u32, ha: bool| VmView {
        id,
        host: 0,
        status: VmStatus::Active,
        ha_enabled: ha,
        evacuable: false,
        fault_domain: 0,
        locked: false,
        task_state: None,
        automatic_restart: true,
    };
    let inv = InventorySnapshot {
        hosts: vec![host(0, false), host(1, true)],
        vms: vec![vm(0, true), vm(1, true), vm(2, false), vm(3, false)],
        any_evacuable_tagged: false,
    };
    let mut p = hasim::policy::masakari::Masakari::new(Default::default());
    // Timers fire in time order; a power check answers "off" at once.
    let mut pending: Vec<(u64, Observation)> = vec![(0, Observation::NodeOffline { host: 0 })];
    let mut evacuated = Vec::new();
    while let Some(i) = (0..pending.len()).min_by_key(|&i| pending[i].0) {
        let (now, obs) = pending.remove(i);
        for c in p.on_observation(now, &inv, &obs) {
            match c {
                Command::SetTimer { token, after_us } => {
                    pending.push((now + after_us, Observation::Timer { token }))
                }
                Command::CheckPower { host } => pending.push((
                    now,
                    Observation::PowerStatus {
                        host,
                        state: PowerState::Off,
                    },
                )),
                Command::Evacuate { vm, .. } => evacuated.push(vm),
                _ => {}
            }
        }
        if evacuated.len() >= 3 {
            break;
        }
    }
    assert_eq!(evacuated, [2, 3, 0]);
}
