//! The engine of one replication: the queue, the dispatch of each component's events to it,
//! the policy boundary and the invariant checker.
//!
//! Three worlds (DESIGN.md §1): the truth (`world::truth`), the mechanisms that turn it into
//! what a controller sees (`infra/`: service group, membership, Pacemaker, PCA monitor, IPMI
//! checks, scheduler, Nova moves, live migration), and the policy that answers with commands
//! (`policy/`, behind `boundary`). Failure processes and maintenance campaigns (`faults/`)
//! change the truth. Each component owns its state and its events; the engine owns the queue
//! and, in the files below, the reactions that span components, in a fixed order:
//!
//! - `hosts`: a host dies, boots, is partitioned; who hears of it.
//! - `ha`: what Pacemaker, the PCA monitor and IPMI checks notice; fencing.
//! - `moves`: Nova evacuation, cold migration, rebuild, guest starts and crashes.
//! - `maintenance`: campaigns, drains and live migrations.
//! - `operator`: the human operator's runbook (`[operator]`).
//! - `accounting`: the accounting state of each VM, for the ledgers.
//! - `boundary`: observations to the policy, its commands back, the inventory it reads.
//! - `invariants`: what must hold after every run.
//! - `replay_log`: the replay recorder (`hasim replay`), off unless asked for.
//!
//! The pending-event set stays O(hosts + domains + moves in flight): a running VM has no event
//! of its own, heartbeats are computed on demand, monitors schedule only the next tick that
//! matters, and long timers that lose their meaning (a crash clock when its host dies, a
//! migration's round end when its NIC is re-shared, a host's next guest crash) are cancelled.

mod accounting;
mod boundary;
mod ha;
mod hosts;
mod invariants;
mod maintenance;
mod moves;
mod operator;
mod replay_log;

use crate::core::queue::{EventQueue, Handle};
use crate::core::rng::{stream, StreamKind};
use crate::core::sched::Scheduler;
use crate::core::time::{SimDuration, SimTime};
use crate::faults::bmc::{self, BmcFaults};
use crate::faults::campaign::{self, Campaigns};
use crate::faults::domain_outage::{self, DomainOutages};
use crate::faults::failed_reboot::FailedReboots;
use crate::faults::guest_crash::{self, GuestCrashes};
use crate::faults::host_crash::{self, HostCrashes};
use crate::faults::on_off::{self, OnOff};
use crate::faults::trace_replay::{self, TraceReplay};
use crate::infra::live_migration::{self, LiveMigrations};
use crate::infra::membership::Membership;
use crate::infra::nova_moves::{self, NovaMoves};
use crate::infra::nova_records::NovaRecords;
use crate::infra::operator::{self as human, Operator};
use crate::infra::pacemaker::{self, Pacemaker};
use crate::infra::placement::Placement;
use crate::infra::scheduler::{host_capacities, Claim};
use crate::infra::servicegroup::ServiceGroup;
use crate::infra::{pca_monitor, power_check};
use crate::metrics::ledger::{HostLedger, Timeline, VmLedger};
use crate::metrics::replication::MaintenanceStats;
use crate::scenario::model::Model;
use crate::world::ids::{VmId, WorkloadId};
use crate::world::truth::Truth;
use rand::Rng;
use std::collections::BTreeMap;

pub use crate::metrics::replication::{HaCounters, ReplicationOutput};
pub use boundary::{InventoryView, RecordedStep};
pub use replay_log::{Layer, LogEntry, ReplayLog, MAX_LOG_ENTRIES};

/// A hard bound on events in one replication: a scenario that needs more is almost certainly a
/// unit mistake (a 1 µs repair loop), and stopping beats running for days.
pub const MAX_EVENTS_PER_REPLICATION: u64 = 2_000_000_000;

/// Declares `Event` with one variant per component and the `From` impls that let each
/// component queue its own event type through `Scheduler`.
macro_rules! events {
    ($($variant:ident($t:ty)),* $(,)?) => {
        /// Every event, by the component it belongs to.
        #[derive(Clone, Copy, Debug)]
        enum Event {
            $($variant($t),)*
            PolicyTimer { token: u64 },
        }
        $(
            impl From<$t> for Event {
                fn from(e: $t) -> Event {
                    Event::$variant(e)
                }
            }
        )*
    };
}
events!(
    HostCrash(host_crash::Event),
    Domain(domain_outage::Event),
    Trace(trace_replay::Event),
    OnOff(on_off::Event),
    Bmc(bmc::Event),
    Guest(guest_crash::Event),
    Host(hosts::Event),
    Pacemaker(pacemaker::Event),
    Pca(pca_monitor::Event),
    Power(power_check::Event),
    Moves(nova_moves::Event),
    Migration(live_migration::Event),
    Campaign(campaign::Event),
    Operator(human::Event),
);

/// The clock and the queue, lent to components so they schedule their own events.
struct Sched {
    now: SimTime,
    horizon: SimTime,
    queue: EventQueue<Event>,
}

impl<E: Into<Event>> Scheduler<E> for Sched {
    fn now(&self) -> SimTime {
        self.now
    }

    fn at(&mut self, at: SimTime, event: E) -> Option<Handle> {
        (at < self.horizon).then(|| self.queue.push(at, event.into()))
    }

    fn cancel(&mut self, handle: Handle) {
        self.queue.cancel(handle)
    }
}

/// Something that broke an invariant, or an external controller that stopped the run, with
/// what it takes to reproduce it.
#[derive(Debug, Clone)]
pub struct InvariantViolation {
    pub replication: u32,
    pub time: SimTime,
    pub message: String,
    pub kind: ViolationKind,
}

/// What stopped a replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// A model invariant failed: a bug in hasim.
    Invariant,
    /// An external controller could not be run, broke with `on_crash = "fail"`, or passed its
    /// wall-clock `step_timeout`: not a model bug, and not a result.
    Controller,
}

/// Ledgers and counters of one replication.
struct Accounts {
    ledger: VmLedger,
    hosts: HostLedger,
    domain_outages: u64,
    ha: HaCounters,
    maintenance: MaintenanceStats,
    timeline: Option<Timeline>,
    events: u64,
    pending_sum: u128,
}

pub struct Simulation<'m> {
    model: &'m Model,
    replication: u32,
    sched: Sched,
    truth: Truth,
    // Failure processes and campaigns (faults/).
    crashes: HostCrashes,
    domains: DomainOutages,
    trace: TraceReplay,
    partitions: OnOff,
    control_plane: OnOff,
    bmc: BmcFaults,
    reboots: FailedReboots,
    guests: GuestCrashes,
    campaigns: Campaigns,
    // Mechanisms (infra/).
    service: ServiceGroup,
    membership: Membership,
    pacemaker: Pacemaker,
    placement: Placement,
    moves: NovaMoves,
    records: NovaRecords,
    migrations: LiveMigrations,
    /// The human operator's runbook (`[operator]`), beside the policy.
    operator: Operator,
    /// Hosts up, reachable, enabled and out of maintenance: the campaigns' capacity floor.
    /// Kept by `track_available` at every change of those properties.
    available: u32,
    accounts: Accounts,
    boundary: boundary::Boundary,
    /// Reused by `host_booted` so a boot allocates nothing.
    scratch_workloads: Vec<WorkloadId>,
    /// Reused by `doom_migrations`.
    scratch_slots: Vec<u32>,
    /// The replay timeline, when recording one (`with_replay_log`).
    replay: Option<Box<replay_log::ReplayLog>>,
}

impl<'m> Simulation<'m> {
    /// Replication `replication` of `model` under its built-in policy.
    ///
    /// # Panics
    /// If the model's policy is external: build that one with `runner::policy_for` and use
    /// `with_policy`.
    pub fn new(model: &'m Model, replication: u32) -> Self {
        let policy = model
            .policy
            .build()
            .expect("an external policy is built by runner::policy_for");
        Self::with_policy(model, replication, policy)
    }

    /// Replication `replication` of `model`, run under `policy`.
    pub fn with_policy(
        model: &'m Model,
        replication: u32,
        policy: Box<dyn crate::policy::api::Policy>,
    ) -> Self {
        let seed = model.simulation.seed;
        let n_hosts = model.topology.hosts.len();
        let n_vms = model.vms.len();
        let horizon = SimTime::ZERO + model.simulation.horizon;
        let f = &model.failures;
        let windows = (0..n_hosts)
            .map(|h| match f.trace.as_ref().and_then(|t| t[h].as_ref()) {
                Some(tr) => (tr.window.0.min(horizon), tr.window.1.min(horizon)),
                None => (SimTime::ZERO, horizon),
            })
            .collect();
        let ri = model.infra.nova.report_interval.as_us().max(1);
        let phases = (0..n_hosts)
            .map(|h| {
                SimDuration(
                    stream(seed, replication, StreamKind::HeartbeatPhase, h as u64)
                        .random_range(0..ri),
                )
            })
            .collect();
        let mut disabled = vec![false; n_hosts];
        for h in &model.reserved_hosts {
            disabled[h.index()] = true;
        }
        let mut usage = host_capacities(&model.topology, &model.allocation);
        let mut members = BTreeMap::new();
        for (v, h) in model.placement.iter().enumerate() {
            usage[h.index()].add(&claim_of(model, VmId(v as u32)));
            if let Some(g) = model.vms[v].group {
                *members.entry((g, *h)).or_insert(0) += 1;
            }
        }
        let fault_domain: Vec<usize> = model
            .topology
            .hosts
            .iter()
            .map(|h| h.fault_domain.index())
            .collect();
        let placement = Placement::new(
            usage,
            members,
            &fault_domain,
            &model
                .topology
                .fault_domains
                .iter()
                .map(|f| f.zone.0)
                .collect::<Vec<u32>>(),
            &model.reserved_hosts,
        );
        Simulation {
            model,
            replication,
            sched: Sched {
                now: SimTime::ZERO,
                horizon,
                queue: EventQueue::new(),
            },
            truth: Truth::new(n_hosts, &model.placement),
            crashes: HostCrashes::new(f.host.as_ref(), seed, replication, n_hosts),
            domains: DomainOutages::new(&f.domains, seed, replication),
            trace: TraceReplay::new(n_hosts),
            partitions: OnOff::new(
                on_off::Kind::Partition,
                f.partition.as_ref(),
                seed,
                replication,
                n_hosts,
            ),
            control_plane: OnOff::new(
                on_off::Kind::ControlPlane,
                f.control_plane.as_ref(),
                seed,
                replication,
                n_hosts,
            ),
            bmc: BmcFaults::new(f.bmc.as_ref(), seed, replication, n_hosts),
            reboots: FailedReboots::new(f.reboot.as_ref(), seed, replication, n_hosts),
            guests: GuestCrashes::new(f.guest.as_ref(), seed, replication, n_hosts, n_vms),
            campaigns: Campaigns::new(model.maintenance.len(), n_hosts, n_vms),
            service: ServiceGroup::new(phases, disabled),
            membership: Membership::new(n_hosts),
            pacemaker: Pacemaker::new(n_hosts),
            placement,
            moves: NovaMoves::new(n_vms),
            records: NovaRecords::new(n_vms),
            migrations: LiveMigrations::new(seed, replication, n_hosts, n_vms),
            operator: Operator::new(model.infra.operator.as_ref(), n_hosts),
            available: n_hosts as u32 - model.reserved_hosts.len() as u32,
            accounts: Accounts {
                ledger: VmLedger::new(n_vms),
                hosts: HostLedger::new(windows),
                domain_outages: 0,
                ha: HaCounters::default(),
                maintenance: MaintenanceStats::default(),
                timeline: None,
                events: 0,
                pending_sum: 0,
            },
            boundary: boundary::Boundary::new(policy),
            scratch_workloads: Vec::new(),
            scratch_slots: Vec::new(),
            replay: None,
        }
    }

    /// Records the hosts-down / VMs-down timeline of this replication.
    pub fn with_timeline(mut self) -> Self {
        self.accounts.timeline = Some(Timeline::default());
        self
    }

    /// Records every observation the policy receives, with the inventory it could read and
    /// the commands it answered.
    pub fn with_recorder(mut self) -> Self {
        self.boundary.record();
        self
    }

    fn now(&self) -> SimTime {
        self.sched.now
    }

    fn schedule(&mut self, after: SimDuration, e: impl Into<Event>) {
        Scheduler::<Event>::after(&mut self.sched, after, e.into());
    }

    /// Hands an event to the component it belongs to.
    fn dispatch(&mut self, e: Event) {
        match e {
            Event::HostCrash(e) => self.host_crash_event(e),
            Event::Domain(e) => self.domain_event(e),
            Event::Trace(e) => self.trace_event(e),
            Event::OnOff(e) => self.on_off_event(e),
            Event::Bmc(bmc::Event::Restored { host }) => self.truth.bmc_fault(host, false),
            Event::Guest(e) => self.guest_event(e),
            Event::Host(e) => self.host_event(e),
            Event::Pacemaker(e) => self.pacemaker_event(e),
            Event::Pca(e) => self.pca_event(e),
            Event::Power(e) => self.power_event(e),
            Event::Moves(nova_moves::Event::RebuildDone { vm, seq }) => self.rebuild_done(vm, seq),
            Event::Migration(e) => self.migration_event(e),
            Event::Campaign(e) => self.campaign_event(e),
            Event::Operator(e) => self.operator_event(e),
            Event::PolicyTimer { token } => {
                self.observe(crate::policy::api::Observation::Timer { token })
            }
        }
    }

    /// Arms every failure process and campaign at time zero.
    fn start(&mut self) {
        for h in self.model.topology.host_ids() {
            self.crashes.arm(h, 0, &mut self.sched);
            self.schedule_next_trace_down(h);
            self.partitions.schedule_next(h, &mut self.sched);
            self.control_plane.schedule_next(h, &mut self.sched);
        }
        let specs = &self.model.failures.domains;
        for s in 0..specs.len() {
            for d in 0..specs[s].domains.len() {
                self.domains.schedule_next(specs, s, d, &mut self.sched);
            }
        }
        for v in 0..self.truth.vm_count() {
            let v = VmId(v as u32);
            let w = self.model.vms[v.index()].workload;
            if self.model.workloads[w.index()].initially_stopped {
                // Stopped by its user from the start (`initial_state = "stopped"`).
                self.truth.set_wanted(v, false);
                self.refresh_vm(v);
            } else {
                self.guests.arm(v, self.truth.vm(v).host(), &mut self.sched);
            }
        }
        for c in 0..self.model.maintenance.len() {
            let start = self.model.maintenance[c].start;
            self.schedule(start, campaign::Event::Start { campaign: c as u32 });
        }
    }

    /// Runs to the horizon.
    pub fn run(self) -> Result<ReplicationOutput, InvariantViolation> {
        self.run_recorded().map(|(out, _)| out)
    }

    /// Runs to the horizon and returns the recorded policy steps (empty unless recording).
    pub fn run_recorded(
        mut self,
    ) -> Result<(ReplicationOutput, Vec<RecordedStep>), InvariantViolation> {
        self.drive()?;
        let steps = self.boundary.take_recording();
        Ok((self.finish(), steps))
    }

    /// Runs to the horizon, or to an invariant violation, recording the replay timeline
    /// (`with_replay_log`); the timeline and the policy's steps come back either way, so a violation
    /// can be read up to the instant it happened.
    pub fn run_logged(
        mut self,
    ) -> (
        Result<ReplicationOutput, InvariantViolation>,
        ReplayLog,
        Vec<RecordedStep>,
    ) {
        if self.replay.is_none() {
            self = self.with_replay_log();
        }
        let outcome = self.drive();
        if outcome.is_ok() {
            self.log_event(self.log_len());
        }
        let trace = self.replay.take().map(|t| *t).unwrap_or_default();
        let steps = self.boundary.take_recording();
        (outcome.map(|()| self.finish()), trace, steps)
    }

    /// The event loop, from the first invariant check to the last.
    fn drive(&mut self) -> Result<(), InvariantViolation> {
        let violation = |s: &Self, message: String| InvariantViolation {
            replication: s.replication,
            time: s.now(),
            message,
            kind: ViolationKind::Invariant,
        };
        let controller = |s: &Self, message: String| InvariantViolation {
            kind: ViolationKind::Controller,
            ..violation(s, message)
        };
        if let Err(m) = self.check_invariants() {
            return Err(violation(self, m));
        }
        if let Some(t) = &mut self.accounts.timeline {
            t.record(SimTime::ZERO, 0, 0);
        }
        self.start();
        self.begin_policy();
        if let Some(m) = self.boundary.take_fatal() {
            return Err(controller(self, m));
        }
        let horizon = self.sched.horizon;
        loop {
            // Built-in policies never have a step pending: they skip the peek.
            if self.boundary.step_pending()
                && self.sched.queue.peek_time().is_none_or(|t| t > self.now())
            {
                // Every event of this instant is in: deliver its step (whose commands may
                // queue more events, now or later, before the next one is taken).
                self.deliver_step();
                if self.replay.is_some() {
                    self.log_event(self.log_len());
                }
                if let Some(m) = self.boundary.take_fatal() {
                    return Err(controller(self, m));
                }
            }
            let Some((t, e)) = self.sched.queue.pop() else {
                break;
            };
            if t < self.now() {
                return Err(violation(
                    self,
                    format!("event {e:?} at {t} is in the past"),
                ));
            }
            if t >= horizon {
                break;
            }
            self.sched.now = t;
            let a = &mut self.accounts;
            a.events += 1;
            a.pending_sum += self.sched.queue.len() as u128;
            if a.events > MAX_EVENTS_PER_REPLICATION {
                return Err(violation(
                    self,
                    format!("more than {MAX_EVENTS_PER_REPLICATION} events"),
                ));
            }
            let mark = self.log_len();
            self.dispatch(e);
            if self.replay.is_some() {
                self.log_event(mark);
            }
            if self.sched.queue.overflowed() {
                return Err(violation(
                    self,
                    format!(
                        "more than {} events pending at once",
                        crate::core::queue::MAX_PENDING
                    ),
                ));
            }
            let a = &mut self.accounts;
            if let Some(tl) = &mut a.timeline {
                tl.record(t, a.hosts.hosts_down() as u32, a.ledger.unavailable);
            }
        }
        self.sched.now = horizon;
        self.end_policy();
        if let Some(m) = self.boundary.take_fatal() {
            return Err(controller(self, m));
        }
        if let Err(m) = self.check_invariants() {
            return Err(violation(self, m));
        }
        Ok(())
    }

    fn finish(mut self) -> ReplicationOutput {
        let horizon = self.sched.horizon;
        let a = &mut self.accounts;
        a.ledger.finish(horizon);
        a.hosts.finish(horizon);
        ReplicationOutput {
            replication: self.replication,
            horizon,
            vm_time_us: a.ledger.take_times(),
            host_down_us: std::mem::take(&mut a.hosts.down_us),
            host_observed_us: a.hosts.observed_us(horizon),
            host_failures: std::mem::take(&mut a.hosts.failures),
            domain_outages: a.domain_outages,
            hosts_down_concurrency_us: std::mem::take(&mut a.hosts.concurrency_us),
            vm_outage_us: a.ledger.take_outages(),
            timeline: a.timeline.take(),
            ha: a.ha.clone(),
            maintenance: std::mem::take(&mut a.maintenance),
            model_has_maintenance: !self.model.maintenance.is_empty(),
            events: a.events,
            pending_events_mean: if a.events == 0 {
                0.0
            } else {
                a.pending_sum as f64 / a.events as f64
            },
        }
    }
}

fn claim_of(model: &Model, v: VmId) -> Claim {
    let vm = &model.vms[v.index()];
    Claim::of(
        &model.flavors[vm.flavor.index()],
        model.workloads[vm.workload.index()].storage,
    )
}
