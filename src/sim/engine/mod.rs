//! The event loop of one replication.
//!
//! Failure processes (crashes, domain outages, trace replay, partitions, BMC faults) change the
//! ground truth of hosts; VMs follow their hosts. The mechanisms of `infra` turn truth into what a
//! controller sees — Pacemaker losing and fencing nodes, the PCA failure threshold, IPMI power
//! checks, the Nova service group — and deliver it to the policy as observations; the policy's
//! commands are executed with their real effects (evacuations that rebuild elsewhere, leave stale
//! copies on hosts that were still running, lose local disks). Ledgers record the time.
//!
//! The pending-event set stays O(hosts + domains + evacuations in flight): a running VM has no
//! event of its own, heartbeats are computed on demand, and monitors schedule only the next tick
//! that matters. Stale events are dropped on pop by comparing generation counters.
//!
//! This file owns the state, the loop and host truth; `ha` the HA mechanisms and the policy
//! boundary, `guests` guest crashes, `maintenance` campaigns and live migration.

use super::queue::EventQueue;
use super::rng::{stream, StreamKind, StreamRng};
use super::time::{SimDuration, SimTime};
use crate::infra::scheduler::{host_capacities, Claim, HostUsage};
use crate::infra::servicegroup::Reporter;
use crate::metrics::ledger::{HostLedger, Timeline, VmLedger, VmState};
use crate::policy::api::{self, Command, Observation, Policy, PowerState};
use crate::scenario::model::Model;
use crate::world::ids::{HostId, ServerGroupId, VmId, WorkloadId};
use rand::Rng;
use std::collections::{BTreeMap, VecDeque};

mod guests;
mod ha;
mod maintenance;
pub use crate::metrics::replication::{HaCounters, MaintenanceStats, ReplicationOutput};
use maintenance::{CampaignRt, LiveMigration, MaintPhase};

/// A hard bound on events in one replication: a scenario that needs more is almost certainly a
/// unit mistake (a 1 µs repair loop), and stopping beats running for days.
pub const MAX_EVENTS_PER_REPLICATION: u64 = 2_000_000_000;

#[derive(Clone, Copy, Debug)]
enum Event {
    /// A host's independent crash clock fires (valid only for generation `gen`).
    HostCrash {
        host: HostId,
        gen: u32,
    },
    /// The repair after an independent crash is done.
    HostRepaired {
        host: HostId,
    },
    /// The host finished booting.
    HostBooted {
        host: HostId,
        gen: u32,
    },
    /// The VMs of one workload on a host finished booting.
    VmsBooted {
        host: HostId,
        gen: u32,
        workload: WorkloadId,
    },
    DomainDown {
        spec: u32,
        domain: u32,
    },
    DomainUp {
        spec: u32,
        domain: u32,
    },
    TraceDown {
        host: HostId,
    },
    TraceUp {
        host: HostId,
    },
    /// A maintenance campaign (re)starts its cycle.
    CampaignStart {
        campaign: u32,
    },
    /// A live migration's current round ends (valid only for its `version`).
    MigrationRound {
        slot: u32,
        version: u32,
    },
    /// A live migration's blackout ends: the VM runs on the target.
    MigrationSwitched {
        slot: u32,
    },
    /// A terminating VM's maintenance notice runs out.
    NoticeEnd {
        vm: VmId,
        host_gen: u32,
    },
    /// A host back from maintenance reports up: its departed VMs may migrate home.
    MigrateBack {
        host: HostId,
        gen: u32,
    },
    /// A host's maintenance work is done; it powers on.
    MaintenanceWorkDone {
        host: HostId,
    },
    /// The earliest guest crash due on a host (valid only for its `guest_epoch`).
    GuestCrash {
        host: HostId,
        epoch: u32,
    },
    /// A crashed guest finished starting again on its host.
    GuestRestarted {
        vm: VmId,
        host_gen: u32,
    },
    ControlPlaneDown {
        host: HostId,
    },
    ControlPlaneUp {
        host: HostId,
    },
    PartitionStart {
        host: HostId,
    },
    PartitionEnd {
        host: HostId,
    },
    BmcRestored {
        host: HostId,
    },
    /// Pacemaker's remote-connection monitor checks a node that became unreachable.
    NodeCheck {
        host: HostId,
        epoch: u32,
    },
    /// A stonith attempt ends.
    FenceDone {
        host: HostId,
        seq: u32,
        ok: bool,
    },
    /// Pacemaker tries to reconnect to a node that is reachable again.
    NodeRejoin {
        host: HostId,
        epoch: u32,
    },
    /// The PCA failure threshold of an unreachable node passes.
    PcaFail {
        host: HostId,
        epoch: u32,
    },
    /// The answer to an IPMI power check.
    PowerReply {
        host: HostId,
    },
    /// An evacuated VM finished rebuilding on its new host.
    RebuildDone {
        vm: VmId,
        seq: u32,
    },
    PolicyTimer {
        token: u64,
    },
}

/// Where a host is in the HA pipeline, for downtime attribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Incident {
    None,
    /// Unreachable, nobody has noticed yet.
    Undetected,
    /// Noticed; fencing in progress.
    Fencing,
    /// Noticed (and fenced, where fencing runs); recovery is up to the policy.
    Recovering,
}

/// Ground truth and infra state of one host.
#[derive(Clone, Debug)]
struct HostRt {
    /// Hardware outages holding the host down: crash, domain outage, trace interval.
    hw: u16,
    /// Domain outages among them: the power (and so the BMC) is gone.
    power_lost: u16,
    partitions: u16,
    /// nova-compute (or its AMQP link) dead while the host runs.
    control_plane: u16,
    /// Generation of the host's pending guest-crash event.
    guest_epoch: u32,
    /// Planned maintenance: draining or under work, and for which campaign.
    maint: Option<(MaintPhase, u32)>,
    /// VMs still to leave the host before its work starts (queued, migrating, under notice).
    drain_pending: u32,
    /// VMs waiting to live-migrate off this host, and the migrations running from it.
    migration_queue: VecDeque<VmId>,
    /// VMs that live-migrated away in the current drain (for `migrate_back`).
    departed: Vec<VmId>,
    outgoing: Vec<u32>,
    bmc_faults: u16,
    /// Powered off by stonith (`off` action) until what took it down is over.
    fenced: bool,
    /// Booted and running its VMs.
    up: bool,
    /// Bumped on every death; events of older generations are stale.
    gen: u32,
    /// Bumped whenever reachability changes.
    epoch: u32,
    incident: Incident,
    reporter: Reporter,
    disabled: bool,
    node_online: bool,
    fence_seq: u32,
    fence_attempts: u32,
    /// The current incident began without a hardware failure (a partition): evacuating it is
    /// a false failover.
    incident_false: bool,
    false_failover_counted: bool,
}

impl HostRt {
    fn reachable(&self) -> bool {
        self.up && self.partitions == 0
    }

    /// nova-compute heartbeats reach the database.
    fn reporting(&self) -> bool {
        self.up && self.partitions == 0 && self.control_plane == 0
    }

    fn bmc_reachable(&self) -> bool {
        self.bmc_faults == 0 && self.power_lost == 0
    }
}

/// Ground truth of one VM.
#[derive(Clone, Debug)]
struct VmRt {
    /// Nova's record of where the server is.
    host: HostId,
    /// Running on `host` (booted) — it may still be unreachable if the host is partitioned.
    booted: bool,
    /// A move in flight: (sequence, target host generation, cold migration rather than
    /// evacuation).
    task: Option<(u32, u32, bool)>,
    /// The last evacuation found no valid host.
    no_capacity: bool,
    /// A copy still running on a host it was evacuated from.
    stale: Option<HostId>,
    /// The guest crashed and nobody has started it again.
    crashed: bool,
    /// Hypervisor restarts since the VM last started with its host or a rebuild.
    restarts: u32,
    /// When the running guest will crash, if guest failures are modelled.
    crash_at: Option<SimTime>,
    /// In a live migration: pre-copy (brownout) or switchover (blackout).
    migrating: Option<bool>,
    /// Stopped or moved by maintenance (downtime cause `maintenance`).
    maint_down: bool,
    /// The VM's dirty rate (bytes/s), drawn once per replication when first needed.
    dirty_rate: Option<u64>,
    /// Live-migration attempts in the current drain.
    migration_attempts: u32,
    /// A queued migration back to the host it left for maintenance.
    back_to: Option<HostId>,
}

/// Something that broke an invariant, with what it takes to reproduce it.
#[derive(Debug, Clone)]
pub struct InvariantViolation {
    pub replication: u32,
    pub time: SimTime,
    pub message: String,
}

/// One observation as the policy received it, for replaying through `hasim policy`.
#[derive(Clone, Debug)]
pub struct RecordedStep {
    pub now_us: u64,
    pub inventory: api::InventorySnapshot,
    pub observation: Observation,
    pub commands: Vec<Command>,
}

pub struct Simulation<'m> {
    model: &'m Model,
    replication: u32,
    now: SimTime,
    horizon: SimTime,
    queue: EventQueue<Event>,
    hosts: Vec<HostRt>,
    vms: Vec<VmRt>,
    /// VMs whose Nova record names each host, ascending.
    residents: Vec<Vec<VmId>>,
    /// Stale copies running on each host.
    stale_on: Vec<Vec<VmId>>,
    usage: Vec<HostUsage>,
    /// Hosts by the RAM weigher's order (most free RAM, then lowest id), kept in step with
    /// `usage`, so a move finds its target without scanning the fleet.
    by_free_ram: std::collections::BTreeSet<(std::cmp::Reverse<u64>, HostId)>,
    /// Allocations of evacuated VMs still counted against their old host until its
    /// nova-compute restarts (`_destroy_evacuated_instances`).
    held: Vec<Vec<Claim>>,
    group_members: BTreeMap<(ServerGroupId, HostId), u32>,
    uptime_rng: Vec<StreamRng>,
    repair_rng: Vec<StreamRng>,
    partition_rng: Vec<(StreamRng, StreamRng)>,
    control_plane_rng: Vec<(StreamRng, StreamRng)>,
    guest_rng: Vec<StreamRng>,
    /// Due guest crashes of each host's running VMs; only the earliest is a pending event.
    guest_clocks: Vec<std::collections::BTreeSet<(SimTime, VmId)>>,
    bmc_rng: Vec<StreamRng>,
    domain_rng: Vec<Vec<(StreamRng, StreamRng)>>,
    trace_next: Vec<usize>,
    ledger: VmLedger,
    host_ledger: HostLedger,
    domain_outages: u64,
    ha: HaCounters,
    events: u64,
    timeline: Option<Timeline>,
    policy: Option<Box<dyn Policy>>,
    observations: VecDeque<Observation>,
    evacuation_seq: u32,
    recorder: Option<Vec<RecordedStep>>,
    campaigns: Vec<CampaignRt>,
    migrations: Vec<Option<LiveMigration>>,
    /// Versions of migration round events, unique across all migrations (slots are reused).
    migration_version: u32,
    /// Reused by `host_booted` so a boot allocates nothing.
    scratch_workloads: Vec<WorkloadId>,
    /// Hosts up, reachable, enabled and out of maintenance: the campaigns' capacity floor.
    /// Kept by `track_available` at every change of those properties.
    available: u32,
    maint_stats: MaintenanceStats,
    dirty_rng: Vec<StreamRng>,
}

impl<'m> Simulation<'m> {
    pub fn new(model: &'m Model, replication: u32) -> Self {
        let seed = model.simulation.seed;
        let n_hosts = model.topology.hosts.len();
        let mut residents = vec![Vec::new(); n_hosts];
        for (v, h) in model.placement.iter().enumerate() {
            residents[h.index()].push(VmId(v as u32));
        }
        let key = |s: usize, d: usize| ((s as u64) << 32) | d as u64;
        let domain_rng = model
            .failures
            .domains
            .iter()
            .enumerate()
            .map(|(s, spec)| {
                (0..spec.domains.len())
                    .map(|d| {
                        (
                            stream(seed, replication, StreamKind::DomainUptime, key(s, d)),
                            stream(seed, replication, StreamKind::DomainRepair, key(s, d)),
                        )
                    })
                    .collect()
            })
            .collect();
        let horizon = SimTime::ZERO + model.simulation.horizon;
        let windows = (0..n_hosts)
            .map(
                |h| match model.failures.trace.as_ref().and_then(|t| t[h].as_ref()) {
                    Some(tr) => (tr.window.0.min(horizon), tr.window.1.min(horizon)),
                    None => (SimTime::ZERO, horizon),
                },
            )
            .collect();
        let per_host = |kind: StreamKind, on: bool| -> Vec<StreamRng> {
            if on {
                (0..n_hosts)
                    .map(|h| stream(seed, replication, kind, h as u64))
                    .collect()
            } else {
                Vec::new()
            }
        };
        let f = &model.failures;
        let ri = model.infra.nova.report_interval.as_us().max(1);
        let hosts = (0..n_hosts)
            .map(|h| {
                let phase = stream(seed, replication, StreamKind::HeartbeatPhase, h as u64)
                    .random_range(0..ri);
                HostRt {
                    hw: 0,
                    power_lost: 0,
                    partitions: 0,
                    control_plane: 0,
                    guest_epoch: 0,
                    maint: None,
                    drain_pending: 0,
                    migration_queue: VecDeque::new(),
                    departed: Vec::new(),
                    outgoing: Vec::new(),
                    bmc_faults: 0,
                    fenced: false,
                    up: true,
                    gen: 0,
                    epoch: 0,
                    incident: Incident::None,
                    reporter: Reporter::new(SimDuration(phase)),
                    disabled: model.reserved_hosts.contains(&HostId(h as u32)),
                    node_online: true,
                    fence_seq: 0,
                    fence_attempts: 0,
                    incident_false: false,
                    false_failover_counted: false,
                }
            })
            .collect();
        let vms = model
            .placement
            .iter()
            .map(|h| VmRt {
                host: *h,
                booted: true,
                task: None,
                no_capacity: false,
                stale: None,
                crashed: false,
                restarts: 0,
                crash_at: None,
                migrating: None,
                maint_down: false,
                dirty_rate: None,
                migration_attempts: 0,
                back_to: None,
            })
            .collect();
        let mut usage = host_capacities(&model.topology, &model.allocation);
        let mut group_members = BTreeMap::new();
        for (v, h) in model.placement.iter().enumerate() {
            let vm = &model.vms[v];
            usage[h.index()].add(&claim_of(model, VmId(v as u32)));
            if let Some(g) = vm.group {
                *group_members.entry((g, *h)).or_insert(0) += 1;
            }
        }
        Simulation {
            model,
            replication,
            now: SimTime::ZERO,
            horizon,
            queue: EventQueue::new(),
            hosts,
            vms,
            residents,
            stale_on: vec![Vec::new(); n_hosts],
            by_free_ram: usage
                .iter()
                .enumerate()
                .map(|(h, u)| (std::cmp::Reverse(u.free_ram_mib()), HostId(h as u32)))
                .collect(),
            usage,
            held: vec![Vec::new(); n_hosts],
            group_members,
            uptime_rng: per_host(StreamKind::HostUptime, f.host.is_some()),
            repair_rng: per_host(StreamKind::HostRepair, f.host.is_some()),
            partition_rng: per_host(StreamKind::PartitionUptime, f.partition.is_some())
                .into_iter()
                .zip(per_host(
                    StreamKind::PartitionDuration,
                    f.partition.is_some(),
                ))
                .collect(),
            control_plane_rng: per_host(StreamKind::ControlPlaneUptime, f.control_plane.is_some())
                .into_iter()
                .zip(per_host(
                    StreamKind::ControlPlaneDuration,
                    f.control_plane.is_some(),
                ))
                .collect(),
            bmc_rng: per_host(StreamKind::BmcFault, f.bmc.is_some()),
            guest_rng: if f.guest.is_some() {
                (0..model.vms.len())
                    .map(|v| stream(seed, replication, StreamKind::GuestUptime, v as u64))
                    .collect()
            } else {
                Vec::new()
            },
            guest_clocks: vec![std::collections::BTreeSet::new(); n_hosts],
            domain_rng,
            trace_next: vec![0; n_hosts],
            ledger: VmLedger::new(model.vms.len()),
            host_ledger: HostLedger::new(windows),
            domain_outages: 0,
            ha: HaCounters::default(),
            events: 0,
            timeline: None,
            policy: Some(model.policy.build()),
            observations: VecDeque::new(),
            evacuation_seq: 0,
            recorder: None,
            campaigns: model
                .maintenance
                .iter()
                .map(|_| CampaignRt::default())
                .collect(),
            migrations: Vec::new(),
            migration_version: 0,
            scratch_workloads: Vec::new(),
            available: n_hosts as u32 - model.reserved_hosts.len() as u32,
            maint_stats: MaintenanceStats::default(),
            dirty_rng: if model.maintenance.is_empty() {
                Vec::new()
            } else {
                (0..model.vms.len())
                    .map(|v| stream(seed, replication, StreamKind::DirtyRate, v as u64))
                    .collect()
            },
        }
    }

    /// Records the hosts-down / VMs-down timeline of this replication.
    pub fn with_timeline(mut self) -> Self {
        self.timeline = Some(Timeline::default());
        self
    }

    /// Records every observation the policy receives, with the inventory it could read and
    /// the commands it answered.
    pub fn with_recorder(mut self) -> Self {
        self.recorder = Some(Vec::new());
        self
    }

    fn schedule(&mut self, after: SimDuration, e: Event) {
        let at = self.now + after;
        if at < self.horizon {
            self.queue.push(at, e);
        }
    }

    /// Time until the next tick of a periodic check with `interval`, phased like the host's
    /// heartbeats, strictly after now.
    fn next_tick(&self, h: HostId, interval: SimDuration) -> SimDuration {
        let i = interval.as_us().max(1);
        let p = self.hosts[h.index()].reporter.phase.as_us() % i;
        let now = self.now.as_us();
        let next = if now < p {
            p
        } else {
            p + ((now - p) / i + 1) * i
        };
        SimDuration(next - now)
    }

    // ----- failure processes -------------------------------------------------------------

    fn arm_crash_clock(&mut self, h: HostId) {
        if let Some(f) = &self.model.failures.host {
            let up = f.time_between.sample(&mut self.uptime_rng[h.index()]);
            let gen = self.hosts[h.index()].gen;
            self.schedule(up, Event::HostCrash { host: h, gen });
        }
    }

    fn schedule_next_domain_outage(&mut self, spec: usize, domain: usize) {
        let dist = &self.model.failures.domains[spec].time_between;
        let after = dist.sample(&mut self.domain_rng[spec][domain].0);
        self.schedule(
            after,
            Event::DomainDown {
                spec: spec as u32,
                domain: domain as u32,
            },
        );
    }

    fn schedule_next_partition(&mut self, h: HostId) {
        if let Some(p) = &self.model.failures.partition {
            if !p.applies_to(h) {
                return;
            }
            let after = p.time_between.sample(&mut self.partition_rng[h.index()].0);
            self.schedule(after, Event::PartitionStart { host: h });
        }
    }

    fn schedule_next_control_plane_failure(&mut self, h: HostId) {
        if let Some(c) = &self.model.failures.control_plane {
            if !c.applies_to(h) {
                return;
            }
            let after = c
                .time_between
                .sample(&mut self.control_plane_rng[h.index()].0);
            self.schedule(after, Event::ControlPlaneDown { host: h });
        }
    }

    /// Starts or stops the heartbeat of a host to match its state.
    fn update_reporter(&mut self, h: HostId) {
        let hr = &mut self.hosts[h.index()];
        if hr.reporting() {
            hr.reporter.resume(self.now);
        } else {
            hr.reporter.stop(self.now);
        }
    }

    fn schedule_next_trace_down(&mut self, h: HostId) {
        let Some(trace) = self
            .model
            .failures
            .trace
            .as_ref()
            .and_then(|t| t[h.index()].as_ref())
        else {
            return;
        };
        if let Some(&(start, _)) = trace.down.get(self.trace_next[h.index()]) {
            if start < self.horizon {
                self.queue
                    .push(start.max(self.now), Event::TraceDown { host: h });
            }
        }
    }

    // ----- host truth --------------------------------------------------------------------

    /// A hardware outage begins (crash, domain, trace); the first one kills the host. A host
    /// failure may take the BMC with it (`[failures.bmc]`).
    fn hw_down(&mut self, h: HostId, counts_as_failure: bool) {
        self.hosts[h.index()].hw += 1;
        if self.hosts[h.index()].hw == 1 {
            self.kill(h, counts_as_failure);
        }
        if let (true, Some(b)) = (counts_as_failure, &self.model.failures.bmc) {
            let rng = &mut self.bmc_rng[h.index()];
            if rng.random::<f64>() < b.probability {
                let d = b.duration.sample(rng);
                self.hosts[h.index()].bmc_faults += 1;
                self.schedule(d, Event::BmcRestored { host: h });
            }
        }
    }

    /// A hardware outage ends; when none is left (and the host is not fenced off) it boots.
    fn hw_up(&mut self, h: HostId, boots: bool) {
        let hr = &mut self.hosts[h.index()];
        hr.hw -= 1;
        if hr.hw > 0 {
            return;
        }
        if hr.fenced && hr.partitions == 0 {
            hr.fenced = false;
        }
        if !hr.fenced {
            self.power_on(h, boots);
        }
    }

    fn power_on(&mut self, h: HostId, boots: bool) {
        let gen = self.hosts[h.index()].gen;
        let boot = if boots {
            self.model.topology.host_type_of(h).boot_time
        } else {
            SimDuration::ZERO
        };
        self.schedule(boot, Event::HostBooted { host: h, gen });
    }

    /// The host stops running: its VMs and any stale copies on it die.
    fn kill(&mut self, h: HostId, counts_as_failure: bool) {
        let before = self.is_available(h);
        let was_reachable = self.hosts[h.index()].reachable();
        let hr = &mut self.hosts[h.index()];
        hr.gen = hr.gen.wrapping_add(1);
        if hr.up {
            hr.up = false;
            self.host_ledger.down(h, self.now, counts_as_failure);
        }
        self.update_reporter(h);
        for v in std::mem::take(&mut self.stale_on[h.index()]) {
            self.vms[v.index()].stale = None;
        }
        for i in 0..self.residents[h.index()].len() {
            let v = self.residents[h.index()][i];
            let vm = &mut self.vms[v.index()];
            vm.booted = false;
            vm.crash_at = None;
        }
        self.guest_clocks[h.index()].clear();
        self.host_died_during_maintenance(h);
        self.track_available(h, before);
        if was_reachable {
            self.became_unreachable(h);
        }
        self.refresh_host(h);
    }

    fn host_booted(&mut self, h: HostId) {
        let before = self.is_available(h);
        let hr = &mut self.hosts[h.index()];
        hr.up = true;
        self.host_ledger.up(h, self.now);
        // nova-compute starts: init_host destroys evacuated guests and frees their allocations.
        for c in std::mem::take(&mut self.held[h.index()]) {
            self.release_on(h, &c);
        }
        self.arm_crash_clock(h);
        let gen = self.hosts[h.index()].gen;
        // One boot event per workload on the host; the buffer is reused across boots.
        let mut workloads = std::mem::take(&mut self.scratch_workloads);
        workloads.clear();
        for &v in &self.residents[h.index()] {
            let vm = &mut self.vms[v.index()];
            if vm.task.is_none() {
                // Every guest of the host starts with it, crashed ones included.
                vm.crashed = false;
                vm.restarts = 0;
                workloads.push(self.model.vms[v.index()].workload);
            }
        }
        workloads.sort_unstable();
        workloads.dedup();
        for w in workloads {
            let boot = self.model.workloads[w.index()].boot_time;
            self.schedule(
                boot,
                Event::VmsBooted {
                    host: h,
                    gen,
                    workload: w,
                },
            );
        }
        self.update_reporter(h);
        self.track_available(h, before);
        if self.hosts[h.index()].partitions == 0 {
            self.became_reachable(h);
        }
        self.refresh_host(h);
        self.host_back_from_maintenance(h);
    }

    fn partition_start(&mut self, h: HostId) {
        let was_reachable = self.hosts[h.index()].reachable();
        let before = self.is_available(h);
        self.hosts[h.index()].partitions += 1;
        self.track_available(h, before);
        if self.hosts[h.index()].partitions == 1 {
            self.update_reporter(h);
            if was_reachable {
                self.became_unreachable(h);
            }
            self.refresh_host(h);
        }
    }

    fn partition_end(&mut self, h: HostId) {
        let before = self.is_available(h);
        self.hosts[h.index()].partitions -= 1;
        self.track_available(h, before);
        let hr = &mut self.hosts[h.index()];
        if hr.partitions > 0 {
            return;
        }
        if hr.fenced && hr.hw == 0 {
            // What the fence guarded against is over: the host is powered on again.
            hr.fenced = false;
            self.power_on(h, true);
        } else if hr.up {
            self.update_reporter(h);
            self.became_reachable(h);
        }
        self.refresh_host(h);
    }

    // ----- what infra sees ---------------------------------------------------------------

    // ----- VMs ---------------------------------------------------------------------------

    /// The accounting state a VM is in now.
    fn vm_state(&self, v: VmId) -> VmState {
        let vm = &self.vms[v.index()];
        if vm.task.is_some() {
            return if vm.maint_down {
                VmState::Maintenance
            } else {
                VmState::Recovery
            };
        }
        match vm.migrating {
            Some(true) => return VmState::Blackout,
            Some(false) if self.hosts[vm.host.index()].reachable() => return VmState::Degraded,
            _ => {}
        }
        if vm.maint_down && !vm.booted {
            return VmState::Maintenance;
        }
        if matches!(
            self.hosts[vm.host.index()].maint,
            Some((MaintPhase::Working, _))
        ) && !vm.booted
        {
            return VmState::Maintenance;
        }
        let hr = &self.hosts[vm.host.index()];
        if hr.up && vm.booted {
            if hr.partitions == 0 {
                return VmState::Running;
            }
        } else if hr.up && vm.crashed {
            return VmState::GuestCrash;
        } else if hr.up {
            return VmState::Recovery;
        }
        if vm.no_capacity {
            return VmState::NoCapacity;
        }
        if !self.model.policy.recovers_hosts() {
            return VmState::HostFailure;
        }
        match hr.incident {
            Incident::Undetected => VmState::Detection,
            Incident::Fencing => VmState::Fencing,
            Incident::Recovering => VmState::Recovery,
            Incident::None => VmState::HostFailure,
        }
    }

    fn refresh_vm(&mut self, v: VmId) {
        let s = self.vm_state(v);
        self.ledger.set(v, self.now, s);
    }

    fn refresh_host(&mut self, h: HostId) {
        for i in 0..self.residents[h.index()].len() {
            let v = self.residents[h.index()][i];
            self.refresh_vm(v);
        }
    }

    fn is_available(&self, h: HostId) -> bool {
        let hr = &self.hosts[h.index()];
        hr.reachable() && !hr.disabled && hr.maint.is_none()
    }

    /// Applies the change of a host's availability since `before` to the running count.
    fn track_available(&mut self, h: HostId, before: bool) {
        match (before, self.is_available(h)) {
            (true, false) => self.available -= 1,
            (false, true) => self.available += 1,
            _ => {}
        }
    }

    /// Adds a claim to a host, keeping the weigher index current.
    fn claim_on(&mut self, h: HostId, c: &Claim) {
        self.by_free_ram
            .remove(&(std::cmp::Reverse(self.usage[h.index()].free_ram_mib()), h));
        self.usage[h.index()].add(c);
        self.by_free_ram
            .insert((std::cmp::Reverse(self.usage[h.index()].free_ram_mib()), h));
    }

    fn release_on(&mut self, h: HostId, c: &Claim) {
        self.by_free_ram
            .remove(&(std::cmp::Reverse(self.usage[h.index()].free_ram_mib()), h));
        self.usage[h.index()].remove(c);
        self.by_free_ram
            .insert((std::cmp::Reverse(self.usage[h.index()].free_ram_mib()), h));
    }

    fn move_resident(&mut self, v: VmId, from: HostId, to: HostId) {
        let r = &mut self.residents[from.index()];
        if let Ok(i) = r.binary_search(&v) {
            r.remove(i);
        }
        let r = &mut self.residents[to.index()];
        if let Err(i) = r.binary_search(&v) {
            r.insert(i, v);
        }
        if let Some(g) = self.model.vms[v.index()].group {
            if let Some(n) = self.group_members.get_mut(&(g, from)) {
                *n -= 1;
            }
            *self.group_members.entry((g, to)).or_insert(0) += 1;
        }
        self.vms[v.index()].host = to;
    }

    // ----- policy ------------------------------------------------------------------------

    // ----- the loop ----------------------------------------------------------------------

    fn handle(&mut self, e: Event) {
        match e {
            Event::HostCrash { host, gen } => {
                let hr = &self.hosts[host.index()];
                if hr.gen != gen || !hr.up {
                    return;
                }
                self.hw_down(host, true);
                let f = self
                    .model
                    .failures
                    .host
                    .as_ref()
                    .expect("crash clock armed only with host failures");
                let repair = f.repair.sample(&mut self.repair_rng[host.index()]);
                self.schedule(repair, Event::HostRepaired { host });
            }
            Event::HostRepaired { host } => self.hw_up(host, true),
            Event::HostBooted { host, gen } => {
                let hr = &self.hosts[host.index()];
                if hr.gen == gen && hr.hw == 0 && !hr.fenced && !hr.up {
                    self.host_booted(host);
                }
            }
            Event::VmsBooted {
                host,
                gen,
                workload,
            } => {
                let hr = &self.hosts[host.index()];
                if hr.gen != gen || !hr.up {
                    return;
                }
                for i in 0..self.residents[host.index()].len() {
                    let v = self.residents[host.index()][i];
                    let vm = &self.vms[v.index()];
                    if vm.task.is_none()
                        && !vm.booted
                        && self.model.vms[v.index()].workload == workload
                    {
                        self.guest_started(v);
                    }
                }
            }
            Event::DomainDown { spec, domain } => {
                self.domain_outages += 1;
                let (s, d) = (spec as usize, domain as usize);
                for i in 0..self.model.failures.domains[s].domains[d].1.len() {
                    let h = self.model.failures.domains[s].domains[d].1[i];
                    self.hosts[h.index()].power_lost += 1;
                    self.hw_down(h, false);
                }
                let after = self.model.failures.domains[s]
                    .repair
                    .sample(&mut self.domain_rng[s][d].1);
                self.schedule(after, Event::DomainUp { spec, domain });
            }
            Event::DomainUp { spec, domain } => {
                let (s, d) = (spec as usize, domain as usize);
                for i in 0..self.model.failures.domains[s].domains[d].1.len() {
                    let h = self.model.failures.domains[s].domains[d].1[i];
                    self.hosts[h.index()].power_lost -= 1;
                    self.hw_up(h, true);
                }
                self.schedule_next_domain_outage(s, d);
            }
            Event::TraceDown { host } => {
                let trace = self
                    .model
                    .failures
                    .trace
                    .as_ref()
                    .and_then(|t| t[host.index()].as_ref())
                    .expect("trace host");
                let (_, end) = trace.down[self.trace_next[host.index()]];
                self.hw_down(host, true);
                if end < self.horizon {
                    self.queue.push(end, Event::TraceUp { host });
                }
            }
            Event::TraceUp { host } => {
                // The trace's end time is the return to service: no extra boot.
                self.hw_up(host, false);
                self.trace_next[host.index()] += 1;
                self.schedule_next_trace_down(host);
            }
            Event::PartitionStart { host } => {
                self.partition_start(host);
                let p = self
                    .model
                    .failures
                    .partition
                    .as_ref()
                    .expect("partition process");
                let d = p.duration.sample(&mut self.partition_rng[host.index()].1);
                self.schedule(d, Event::PartitionEnd { host });
            }
            Event::PartitionEnd { host } => {
                self.partition_end(host);
                self.schedule_next_partition(host);
            }
            Event::CampaignStart { campaign } => self.campaign_start(campaign as usize),
            Event::MigrationRound { slot, version } => self.migration_round(slot, version),
            Event::MigrationSwitched { slot } => self.migration_switched(slot),
            Event::NoticeEnd { vm, host_gen } => self.notice_end(vm, host_gen),
            Event::MaintenanceWorkDone { host } => self.work_done(host),
            Event::MigrateBack { host, gen } => self.migrate_back(host, gen),
            Event::GuestCrash { host, epoch } => {
                if self.hosts[host.index()].guest_epoch != epoch {
                    return;
                }
                while let Some(&(at, v)) = self.guest_clocks[host.index()].first() {
                    if at > self.now {
                        break;
                    }
                    self.guest_clocks[host.index()].remove(&(at, v));
                    self.guest_crashed(v);
                }
                self.schedule_guest_event(host);
            }
            Event::GuestRestarted { vm, host_gen } => {
                let h = self.vms[vm.index()].host;
                let hr = &self.hosts[h.index()];
                if hr.up
                    && hr.gen == host_gen
                    && self.vms[vm.index()].crashed
                    && self.vms[vm.index()].task.is_none()
                {
                    self.guest_started(vm);
                }
            }
            Event::ControlPlaneDown { host } => {
                self.hosts[host.index()].control_plane += 1;
                self.update_reporter(host);
                let c = self
                    .model
                    .failures
                    .control_plane
                    .as_ref()
                    .expect("control-plane process");
                let d = c
                    .duration
                    .sample(&mut self.control_plane_rng[host.index()].1);
                self.schedule(d, Event::ControlPlaneUp { host });
            }
            Event::ControlPlaneUp { host } => {
                self.hosts[host.index()].control_plane -= 1;
                self.update_reporter(host);
                self.schedule_next_control_plane_failure(host);
            }
            Event::BmcRestored { host } => self.hosts[host.index()].bmc_faults -= 1,
            Event::NodeCheck { host, epoch } => {
                let hr = &mut self.hosts[host.index()];
                if hr.epoch != epoch || hr.reachable() {
                    return;
                }
                hr.node_online = false;
                hr.fence_attempts = 0;
                if self.model.infra.pacemaker.stonith_enabled {
                    hr.incident = Incident::Fencing;
                    self.start_fencing_attempt(host);
                } else {
                    hr.incident = Incident::Recovering;
                }
                self.refresh_host(host);
                self.observe(Observation::NodeOffline { host: host.0 });
            }
            Event::FenceDone { host, seq, ok } => {
                if self.hosts[host.index()].fence_seq == seq {
                    self.fence_done(host, ok);
                }
            }
            Event::NodeRejoin { host, epoch } => {
                let hr = &mut self.hosts[host.index()];
                if hr.epoch != epoch || !hr.reachable() || hr.node_online {
                    return;
                }
                hr.node_online = true;
                self.observe(Observation::NodeOnline { host: host.0 });
            }
            Event::PcaFail { host, epoch } => {
                let hr = &mut self.hosts[host.index()];
                if hr.epoch != epoch || hr.reachable() {
                    return;
                }
                hr.incident = Incident::Recovering;
                hr.node_online = false;
                self.refresh_host(host);
                self.observe(Observation::NodeFailed { host: host.0 });
            }
            Event::PowerReply { host } => {
                let hr = &self.hosts[host.index()];
                let state = if !hr.bmc_reachable() {
                    PowerState::Unknown
                } else if hr.fenced {
                    PowerState::Off
                } else {
                    PowerState::On
                };
                self.observe(Observation::PowerStatus {
                    host: host.0,
                    state,
                });
            }
            Event::RebuildDone { vm, seq } => self.rebuild_done(vm, seq),
            Event::PolicyTimer { token } => self.observe(Observation::Timer { token }),
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        let mut usage = host_capacities(&self.model.topology, &self.model.allocation);
        let mut seen = vec![0u8; self.model.vms.len()];
        for (h, vs) in self.residents.iter().enumerate() {
            for v in vs {
                usage[h].add(&claim_of(self.model, *v));
                seen[v.index()] += 1;
                if self.vms[v.index()].host.index() != h {
                    return Err(format!(
                        "VM {} is listed on the wrong host",
                        self.model.vms[v.index()].name
                    ));
                }
            }
            for c in &self.held[h] {
                usage[h].add(c);
            }
            // A live migration holds its destination's claim until it switches over.
            for m in self.migrations.iter().flatten() {
                if m.target().index() == h {
                    usage[h].add(&claim_of(self.model, m.vm()));
                }
            }
            let u = &usage[h];
            if u.vcpus_used > u.vcpus_cap
                || u.ram_mib_used > u.ram_mib_cap
                || u.disk_gib_used > u.disk_gib_cap
            {
                return Err(format!(
                    "host {} over capacity: {u:?}",
                    self.model.topology.hosts[h].name
                ));
            }
            let s = &self.usage[h];
            if (s.vcpus_used, s.ram_mib_used, s.disk_gib_used)
                != (u.vcpus_used, u.ram_mib_used, u.disk_gib_used)
            {
                return Err(format!(
                    "host {} allocation drifted: {s:?} vs {u:?}",
                    self.model.topology.hosts[h].name
                ));
            }
        }
        let recount = self
            .model
            .topology
            .host_ids()
            .filter(|h| self.is_available(*h))
            .count() as u32;
        if recount != self.available {
            return Err(format!(
                "available-host count drifted: {} kept, {recount} counted",
                self.available
            ));
        }
        if let Some(v) = seen.iter().position(|&n| n != 1) {
            return Err(format!(
                "VM {} is recorded on {} hosts",
                self.model.vms[v].name, seen[v]
            ));
        }
        Ok(())
    }

    /// Runs to the horizon.
    pub fn run(self) -> Result<ReplicationOutput, InvariantViolation> {
        self.run_recorded().map(|(out, _)| out)
    }

    /// Runs to the horizon and returns the recorded policy steps (empty unless recording).
    pub fn run_recorded(
        mut self,
    ) -> Result<(ReplicationOutput, Vec<RecordedStep>), InvariantViolation> {
        let violation = |s: &Self, message: String| InvariantViolation {
            replication: s.replication,
            time: s.now,
            message,
        };
        if let Err(m) = self.check_invariants() {
            return Err(violation(&self, m));
        }
        if let Some(t) = &mut self.timeline {
            t.record(SimTime::ZERO, 0, 0);
        }
        for h in self.model.topology.host_ids() {
            self.arm_crash_clock(h);
            self.schedule_next_trace_down(h);
            self.schedule_next_partition(h);
            self.schedule_next_control_plane_failure(h);
        }
        for s in 0..self.model.failures.domains.len() {
            for d in 0..self.model.failures.domains[s].domains.len() {
                self.schedule_next_domain_outage(s, d);
            }
        }
        for v in 0..self.vms.len() {
            self.arm_guest(VmId(v as u32));
        }
        for c in 0..self.model.maintenance.len() {
            let start = self.model.maintenance[c].start;
            self.schedule(start, Event::CampaignStart { campaign: c as u32 });
        }
        // Sum of the pending-set size over events, for the mean the benchmark reports.
        let mut pending_sum: u128 = 0;
        while let Some((t, e)) = self.queue.pop() {
            if t < self.now {
                return Err(violation(
                    &self,
                    format!("event {e:?} at {t} is in the past"),
                ));
            }
            if t >= self.horizon {
                break;
            }
            self.now = t;
            self.events += 1;
            pending_sum += self.queue.len() as u128;
            if self.events > MAX_EVENTS_PER_REPLICATION {
                return Err(violation(
                    &self,
                    format!("more than {MAX_EVENTS_PER_REPLICATION} events"),
                ));
            }
            self.handle(e);
            if let Some(t) = &mut self.timeline {
                t.record(
                    self.now,
                    self.host_ledger.hosts_down() as u32,
                    self.ledger.unavailable,
                );
            }
        }
        self.now = self.horizon;
        if let Err(m) = self.check_invariants() {
            return Err(violation(&self, m));
        }
        self.ledger.finish(self.horizon);
        self.host_ledger.finish(self.horizon);
        let steps = self.recorder.take().unwrap_or_default();
        Ok((
            ReplicationOutput {
                replication: self.replication,
                horizon: self.horizon,
                vm_time_us: std::mem::take(&mut self.ledger.time_us),
                host_down_us: std::mem::take(&mut self.host_ledger.down_us),
                host_observed_us: self.host_ledger.observed_us(self.horizon),
                host_failures: std::mem::take(&mut self.host_ledger.failures),
                domain_outages: self.domain_outages,
                hosts_down_concurrency_us: std::mem::take(&mut self.host_ledger.concurrency_us),
                vm_outage_us: std::mem::take(&mut self.ledger.outage_us),
                timeline: self.timeline.take(),
                ha: self.ha.clone(),
                maintenance: std::mem::take(&mut self.maint_stats),
                model_has_maintenance: !self.model.maintenance.is_empty(),
                events: self.events,
                pending_events_mean: pending_sum as f64 / self.events.max(1) as f64,
            },
            steps,
        ))
    }
}

fn claim_of(model: &Model, v: VmId) -> Claim {
    let vm = &model.vms[v.index()];
    Claim::of(
        &model.flavors[vm.flavor.index()],
        model.workloads[vm.workload.index()].storage,
    )
}
