//! The event loop of one replication: host crashes, domain outages and trace replay drive hosts
//! down and up; VMs follow their hosts; ledgers record the time.
//!
//! The pending-event set stays O(hosts + domains): a running VM has no event of its own, and a
//! host's boot carries its VMs, one event per workload on it. Stale events are dropped on pop by
//! comparing the host's generation, which every down transition bumps.

use super::queue::EventQueue;
use super::rng::{stream, StreamKind, StreamRng};
use super::time::{SimDuration, SimTime};
use crate::metrics::ledger::{HostLedger, Timeline, VmLedger, VmState};
use crate::scenario::model::Model;
use crate::world::ids::{HostId, VmId, WorkloadId};

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
    /// The host finished booting after all its outages ended.
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
}

/// Runtime state of one host.
#[derive(Clone, Debug, Default)]
struct HostRuntime {
    /// How many outages (crash, domain, trace) currently hold the host down.
    outages: u16,
    /// Bumped on every down transition; events of older generations are stale.
    gen: u32,
    /// Booted and serving.
    up: bool,
}

/// Something that broke an invariant, with what it takes to reproduce it.
#[derive(Debug, Clone)]
pub struct InvariantViolation {
    pub replication: u32,
    pub time: SimTime,
    pub message: String,
}

/// What one replication produced.
#[derive(Debug, Clone)]
pub struct ReplicationOutput {
    pub replication: u32,
    pub horizon: SimTime,
    pub vm_time_us: Vec<[u64; crate::metrics::ledger::VM_STATES]>,
    pub host_down_us: Vec<u64>,
    pub host_observed_us: Vec<u64>,
    pub host_failures: Vec<u32>,
    pub domain_outages: u64,
    /// Time with exactly k hosts down, k = index.
    pub hosts_down_concurrency_us: Vec<u64>,
    /// Every VM outage's length, failure to running again (capped, see `MAX_EPISODES`).
    pub vm_outage_us: Vec<u64>,
    /// Hosts and VMs down over time; recorded only when asked for (one replication).
    pub timeline: Option<Timeline>,
    pub events: u64,
}

pub struct Simulation<'m> {
    model: &'m Model,
    replication: u32,
    now: SimTime,
    horizon: SimTime,
    queue: EventQueue<Event>,
    hosts: Vec<HostRuntime>,
    /// VMs currently on each host (ground truth).
    residents: Vec<Vec<VmId>>,
    /// Distinct workloads on each host, ascending: one boot event each.
    workloads_on: Vec<Vec<WorkloadId>>,
    uptime_rng: Vec<StreamRng>,
    repair_rng: Vec<StreamRng>,
    domain_rng: Vec<Vec<(StreamRng, StreamRng)>>,
    trace_next: Vec<usize>,
    vms: VmLedger,
    host_ledger: HostLedger,
    domain_outages: u64,
    events: u64,
    timeline: Option<Timeline>,
}

impl<'m> Simulation<'m> {
    /// Records the hosts-down / VMs-down timeline of this replication.
    pub fn with_timeline(mut self) -> Self {
        self.timeline = Some(Timeline::default());
        self
    }

    pub fn new(model: &'m Model, replication: u32) -> Self {
        let seed = model.simulation.seed;
        let n_hosts = model.topology.hosts.len();
        let mut residents = vec![Vec::new(); n_hosts];
        for (v, h) in model.placement.iter().enumerate() {
            residents[h.index()].push(VmId(v as u32));
        }
        let workloads_on = residents
            .iter()
            .map(|vs| {
                let mut ws: Vec<WorkloadId> =
                    vs.iter().map(|v| model.vms[v.index()].workload).collect();
                ws.sort();
                ws.dedup();
                ws
            })
            .collect();
        let entity = |h: usize| h as u64;
        let domain_rng = model
            .failures
            .domains
            .iter()
            .enumerate()
            .map(|(s, spec)| {
                (0..spec.domains.len())
                    .map(|d| {
                        let key = ((s as u64) << 32) | d as u64;
                        (
                            stream(seed, replication, StreamKind::DomainUptime, key),
                            stream(seed, replication, StreamKind::DomainRepair, key),
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
        let has_host_failures = model.failures.host.is_some();
        Simulation {
            model,
            replication,
            now: SimTime::ZERO,
            horizon,
            queue: EventQueue::new(),
            hosts: vec![
                HostRuntime {
                    up: true,
                    ..Default::default()
                };
                n_hosts
            ],
            residents,
            workloads_on,
            uptime_rng: if has_host_failures {
                (0..n_hosts)
                    .map(|h| stream(seed, replication, StreamKind::HostUptime, entity(h)))
                    .collect()
            } else {
                Vec::new()
            },
            repair_rng: if has_host_failures {
                (0..n_hosts)
                    .map(|h| stream(seed, replication, StreamKind::HostRepair, entity(h)))
                    .collect()
            } else {
                Vec::new()
            },
            domain_rng,
            trace_next: vec![0; n_hosts],
            vms: VmLedger::new(model.vms.len()),
            host_ledger: HostLedger::new(windows),
            domain_outages: 0,
            events: 0,
            timeline: None,
        }
    }

    fn schedule(&mut self, after: SimDuration, e: Event) {
        let at = self.now + after;
        if at < self.horizon {
            self.queue.push(at, e);
        }
    }

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

    /// One more outage holds host `h` down; the first one takes it and its VMs down.
    fn outage_begins(&mut self, h: HostId, counts_as_failure: bool) {
        let rt = &mut self.hosts[h.index()];
        rt.outages += 1;
        if rt.outages > 1 {
            return;
        }
        rt.gen = rt.gen.wrapping_add(1);
        // A host that was still booting has been down all along; only a serving host goes down.
        if rt.up {
            rt.up = false;
            self.host_ledger.down(h, self.now, counts_as_failure);
        }
        for &v in &self.residents[h.index()] {
            self.vms.set(v, self.now, VmState::HostFailure);
        }
    }

    /// An outage of host `h` ends; when none is left, the host boots.
    fn outage_ends(&mut self, h: HostId, boots: bool) {
        let rt = &mut self.hosts[h.index()];
        rt.outages -= 1;
        if rt.outages > 0 {
            return;
        }
        let gen = rt.gen;
        let boot = if boots {
            self.model.topology.host_type_of(h).boot_time
        } else {
            SimDuration::ZERO
        };
        self.schedule(boot, Event::HostBooted { host: h, gen });
    }

    fn host_booted(&mut self, h: HostId) {
        self.hosts[h.index()].up = true;
        self.host_ledger.up(h, self.now);
        self.arm_crash_clock(h);
        let gen = self.hosts[h.index()].gen;
        for &v in &self.residents[h.index()] {
            self.vms.set(v, self.now, VmState::Recovery);
        }
        for i in 0..self.workloads_on[h.index()].len() {
            let w = self.workloads_on[h.index()][i];
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
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::HostCrash { host, gen } => {
                if self.hosts[host.index()].gen != gen || !self.hosts[host.index()].up {
                    return;
                }
                self.outage_begins(host, true);
                let f = self
                    .model
                    .failures
                    .host
                    .as_ref()
                    .expect("crash clock armed only with host failures");
                let repair = f.repair.sample(&mut self.repair_rng[host.index()]);
                self.schedule(repair, Event::HostRepaired { host });
            }
            Event::HostRepaired { host } => self.outage_ends(host, true),
            Event::HostBooted { host, gen } => {
                let rt = &self.hosts[host.index()];
                if rt.gen == gen && rt.outages == 0 && !rt.up {
                    self.host_booted(host);
                }
            }
            Event::VmsBooted {
                host,
                gen,
                workload,
            } => {
                let rt = &self.hosts[host.index()];
                if rt.gen != gen || !rt.up {
                    return;
                }
                for i in 0..self.residents[host.index()].len() {
                    let v = self.residents[host.index()][i];
                    if self.model.vms[v.index()].workload == workload {
                        self.vms.set(v, self.now, VmState::Running);
                    }
                }
            }
            Event::DomainDown { spec, domain } => {
                self.domain_outages += 1;
                let (s, d) = (spec as usize, domain as usize);
                for i in 0..self.model.failures.domains[s].domains[d].1.len() {
                    let h = self.model.failures.domains[s].domains[d].1[i];
                    self.outage_begins(h, false);
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
                    self.outage_ends(h, true);
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
                self.outage_begins(host, true);
                if end < self.horizon {
                    self.queue.push(end, Event::TraceUp { host });
                }
            }
            Event::TraceUp { host } => {
                // The trace's end time is the return to service: no extra boot.
                self.outage_ends(host, false);
                self.trace_next[host.index()] += 1;
                self.schedule_next_trace_down(host);
            }
        }
    }

    fn check_initial_invariants(&self) -> Result<(), String> {
        use crate::infra::scheduler::{host_capacities, Claim};
        let mut usage = host_capacities(&self.model.topology, &self.model.allocation);
        let mut seen = vec![0u8; self.model.vms.len()];
        for (h, vs) in self.residents.iter().enumerate() {
            for v in vs {
                let vm = &self.model.vms[v.index()];
                let w = &self.model.workloads[vm.workload.index()];
                usage[h].add(&Claim::of(
                    &self.model.flavors[vm.flavor.index()],
                    w.storage,
                ));
                seen[v.index()] += 1;
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
        }
        if let Some(v) = seen.iter().position(|&n| n != 1) {
            return Err(format!(
                "VM {} is on {} hosts",
                self.model.vms[v].name, seen[v]
            ));
        }
        Ok(())
    }

    /// Runs to the horizon.
    pub fn run(mut self) -> Result<ReplicationOutput, InvariantViolation> {
        let violation = |s: &Self, message: String| InvariantViolation {
            replication: s.replication,
            time: s.now,
            message,
        };
        if let Err(m) = self.check_initial_invariants() {
            return Err(violation(&self, m));
        }
        if let Some(t) = &mut self.timeline {
            t.record(SimTime::ZERO, 0, 0);
        }
        for h in self.model.topology.host_ids() {
            self.arm_crash_clock(h);
            self.schedule_next_trace_down(h);
        }
        for s in 0..self.model.failures.domains.len() {
            for d in 0..self.model.failures.domains[s].domains.len() {
                self.schedule_next_domain_outage(s, d);
            }
        }
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
                    self.vms.unavailable,
                );
            }
        }
        self.now = self.horizon;
        self.vms.finish(self.horizon);
        self.host_ledger.finish(self.horizon);
        Ok(ReplicationOutput {
            replication: self.replication,
            horizon: self.horizon,
            vm_time_us: std::mem::take(&mut self.vms.time_us),
            host_down_us: std::mem::take(&mut self.host_ledger.down_us),
            host_observed_us: self.host_ledger.observed_us(self.horizon),
            host_failures: std::mem::take(&mut self.host_ledger.failures),
            domain_outages: self.domain_outages,
            hosts_down_concurrency_us: std::mem::take(&mut self.host_ledger.concurrency_us),
            vm_outage_us: std::mem::take(&mut self.vms.outage_us),
            timeline: self.timeline.take(),
            events: self.events,
        })
    }
}
