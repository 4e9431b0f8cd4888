//! Host truth changes and who hears of them: hardware outages (crashes, domain outages, trace
//! intervals), boots, partitions and control-plane failures. A host's death kills its guests and
//! stale copies, stops its heartbeat, cancels its crash clock and any drain, and opens an
//! incident; its boot frees held allocations, re-arms the crash clock and starts its guests
//! when Nova resumes them (`resume_guests_state_on_host_boot`, PCA, or a planned reboot) or
//! leaves them SHUTOFF otherwise.

use super::Simulation;
use crate::core::sched::Scheduler;
use crate::core::time::SimDuration;
use crate::faults::{domain_outage, host_crash, on_off, trace_replay};
use crate::world::ids::{HostId, VmId, WorkloadId};

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The host finished booting (valid for generation `gen`).
    Booted { host: HostId, gen: u32 },
    /// The guests of one workload on a host finished booting.
    VmsBooted {
        host: HostId,
        gen: u32,
        workload: WorkloadId,
    },
    /// A crashed guest finished starting again on its host.
    GuestRestarted { vm: VmId, host_gen: u32 },
}

impl Simulation<'_> {
    pub(super) fn host_crash_event(&mut self, e: host_crash::Event) {
        match e {
            host_crash::Event::Crash { host, gen } => {
                let t = self.truth.host(host);
                if t.gen() != gen || !t.up() {
                    return;
                }
                self.hw_down(host, true);
                self.crashes.schedule_repair(host, &mut self.sched);
            }
            host_crash::Event::Repaired { host } => self.hw_up(host, true),
        }
    }

    pub(super) fn domain_event(&mut self, e: domain_outage::Event) {
        let specs = &self.model.failures.domains;
        match e {
            domain_outage::Event::Down { spec, domain } => {
                self.accounts.domain_outages += 1;
                let (s, d) = (spec as usize, domain as usize);
                for &h in &specs[s].domains[d].1 {
                    self.truth.power_lost(h, true);
                    self.hw_down(h, false);
                }
                self.domains.schedule_repair(specs, s, d, &mut self.sched);
            }
            domain_outage::Event::Up { spec, domain } => {
                let (s, d) = (spec as usize, domain as usize);
                for &h in &specs[s].domains[d].1 {
                    self.truth.power_lost(h, false);
                    self.hw_up(h, true);
                }
                self.domains.schedule_next(specs, s, d, &mut self.sched);
            }
        }
    }

    pub(super) fn schedule_next_trace_down(&mut self, h: HostId) {
        let trace = self.model.failures.trace.as_ref();
        let t = trace.and_then(|t| t[h.index()].as_ref());
        self.trace.schedule_next_down(t, h, &mut self.sched);
    }

    pub(super) fn trace_event(&mut self, e: trace_replay::Event) {
        match e {
            trace_replay::Event::Down { host } => {
                let trace = self.model.failures.trace.as_ref();
                let t = trace
                    .and_then(|t| t[host.index()].as_ref())
                    .expect("trace host");
                let end = self.trace.current_end(t, host);
                self.hw_down(host, true);
                self.sched.at(end, trace_replay::Event::Up { host });
            }
            trace_replay::Event::Up { host } => {
                // The trace's end time is the return to service: no extra boot.
                self.hw_up(host, false);
                self.trace.advance(host);
                self.schedule_next_trace_down(host);
            }
        }
    }

    pub(super) fn on_off_event(&mut self, e: on_off::Event) {
        let h = e.host;
        match (e.kind, e.starts) {
            (on_off::Kind::Partition, true) => {
                self.partition_start(h);
                self.partitions.schedule_end(h, &mut self.sched);
            }
            (on_off::Kind::Partition, false) => {
                self.partition_end(h);
                self.partitions.schedule_next(h, &mut self.sched);
            }
            (on_off::Kind::ControlPlane, dies) => {
                self.truth.control_plane(h, dies);
                self.update_reporter(h);
                if dies {
                    self.control_plane.schedule_end(h, &mut self.sched);
                } else {
                    self.control_plane.schedule_next(h, &mut self.sched);
                }
            }
        }
    }

    pub(super) fn host_event(&mut self, e: Event) {
        match e {
            Event::Booted { host, gen } => {
                let t = self.truth.host(host);
                if t.gen() == gen && t.hw_outages() == 0 && !t.fenced() && !t.up() {
                    self.host_booted(host);
                }
            }
            Event::VmsBooted {
                host,
                gen,
                workload,
            } => {
                let t = self.truth.host(host);
                if t.gen() != gen || !t.up() {
                    return;
                }
                for i in 0..self.truth.residents(host).len() {
                    let v = self.truth.residents(host)[i];
                    let vm = self.truth.vm(v);
                    if !self.moves.busy(v)
                        && !vm.booted()
                        && !vm.powered_off()
                        && self.model.vms[v.index()].workload == workload
                    {
                        self.guest_started(v);
                    }
                }
            }
            Event::GuestRestarted { vm, host_gen } => {
                let t = self.truth.host(self.truth.vm(vm).host());
                if t.up()
                    && t.gen() == host_gen
                    && !self.truth.vm(vm).booted()
                    && !self.moves.busy(vm)
                {
                    self.guest_started(vm);
                }
            }
        }
    }

    /// A hardware outage begins (crash, domain, trace); the first one kills the host. A host
    /// failure may take the BMC with it (`[failures.bmc]`).
    pub(super) fn hw_down(&mut self, h: HostId, counts_as_failure: bool) {
        if self.truth.hw_begin(h) {
            self.kill(h, counts_as_failure);
        }
        if counts_as_failure {
            self.bmc
                .on_host_failure(h, &mut self.truth, &mut self.sched);
        }
    }

    /// A hardware outage ends; when none is left (and the host is not fenced off) it boots.
    pub(super) fn hw_up(&mut self, h: HostId, boots: bool) {
        if !self.truth.hw_end(h) {
            return;
        }
        let t = self.truth.host(h);
        if t.fenced() && !t.partitioned() {
            self.truth.set_fenced(h, false);
        }
        if !self.truth.host(h).fenced() {
            self.power_on(h, boots);
        }
    }

    pub(super) fn power_on(&mut self, h: HostId, boots: bool) {
        let gen = self.truth.host(h).gen();
        let boot = if boots {
            let extra = self.reboots.on_boot(h).unwrap_or(SimDuration::ZERO);
            if extra > SimDuration::ZERO {
                self.accounts.ha.failed_reboots += 1;
            }
            self.model.topology.host_type_of(h).boot_time + extra
        } else {
            SimDuration::ZERO
        };
        self.schedule(boot, Event::Booted { host: h, gen });
    }

    /// The host stops running: its VMs and any stale copies on it die.
    pub(super) fn kill(&mut self, h: HostId, counts_as_failure: bool) {
        let before = self.is_available(h);
        let was_reachable = self.truth.host(h).reachable();
        if self.truth.die(h) {
            self.accounts.hosts.down(h, self.now(), counts_as_failure);
        }
        self.update_reporter(h);
        self.guests
            .clear_host(h, self.truth.residents(h), &mut self.sched);
        self.crashes.disarm(h, &mut self.sched);
        self.host_died_during_maintenance(h);
        self.doom_migrations(h);
        self.track_available(h, before);
        if was_reachable {
            self.became_unreachable(h);
        }
        self.refresh_host(h);
        self.operator_host_died(h);
    }

    /// Whether the guests of a host that has just booted start with it. Nova's
    /// `resume_guests_state_on_host_boot` (default False, nova/conf/compute.py:639) decides
    /// after an unplanned reboot; Oracle PCA restarts "instances that should be running" at its
    /// next poll whatever Nova's option says (production-ha.md §6.1); a maintenance campaign's
    /// own reboot starts what it left on the host (its runbook restarts them; GCE restarts
    /// terminated VMs with automatic restart after the maintenance event; under `gce` the others
    /// stay TERMINATED, see `notice_end`). Under `gce` a failed host's guests never resume.
    fn guests_resume(&self, h: HostId) -> bool {
        use crate::policy::PolicyConfig;
        if self.campaigns.working(h) {
            return true;
        }
        match self.model.policy {
            PolicyConfig::Pca(_) => true,
            // GCE terminates the VMs of a failed host: restarted elsewhere, or TERMINATED.
            PolicyConfig::Gce(_) => false,
            _ => self.model.infra.resume_guests_state_on_host_boot,
        }
    }

    fn host_booted(&mut self, h: HostId) {
        let resume = self.guests_resume(h);
        let before = self.is_available(h);
        self.truth.boot(h);
        self.accounts.hosts.up(h, self.now());
        // nova-compute starts: init_host destroys evacuated guests and frees their allocations.
        self.placement.release_held(h);
        let gen = self.truth.host(h).gen();
        self.crashes.arm(h, gen, &mut self.sched);
        // One boot event per workload on the host; the buffer is reused across boots.
        let mut workloads = std::mem::take(&mut self.scratch_workloads);
        workloads.clear();
        for i in 0..self.truth.residents(h).len() {
            let v = self.truth.residents(h)[i];
            if self.moves.busy(v) || !self.truth.vm(v).wanted() {
                // Moving in, or stopped by its user: it stays as it is.
                continue;
            }
            self.guests.reset_restarts(v);
            if resume {
                // Every guest the user wants running starts with the host, crashed ones
                // included.
                self.truth.clear_crash(v);
                if !self.truth.vm(v).shutoff() {
                    workloads.push(self.model.vms[v.index()].workload);
                }
            } else {
                // Nova marks it SHUTOFF (the power-state sync) and nobody starts it.
                self.truth.shut_off(v);
            }
        }
        workloads.sort_unstable();
        workloads.dedup();
        for &w in &workloads {
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
        self.scratch_workloads = workloads;
        self.update_reporter(h);
        self.track_available(h, before);
        if !self.truth.host(h).partitioned() {
            self.became_reachable(h);
        }
        self.refresh_host(h);
        self.operator_host_booted(h);
        self.host_back_from_maintenance(h);
    }

    fn partition_start(&mut self, h: HostId) {
        let was_reachable = self.truth.host(h).reachable();
        let before = self.is_available(h);
        let n = self.truth.partition(h, true);
        self.track_available(h, before);
        if n == 1 {
            self.update_reporter(h);
            if was_reachable {
                self.became_unreachable(h);
            }
            self.refresh_host(h);
        }
    }

    fn partition_end(&mut self, h: HostId) {
        let before = self.is_available(h);
        let n = self.truth.partition(h, false);
        self.track_available(h, before);
        if n > 0 {
            return;
        }
        let t = self.truth.host(h);
        if t.fenced() && t.hw_outages() == 0 {
            // What the fence guarded against is over: the host is powered on again.
            self.truth.set_fenced(h, false);
            self.power_on(h, true);
        } else if t.up() {
            self.update_reporter(h);
            self.became_reachable(h);
        }
        self.refresh_host(h);
    }

    /// Starts or stops the heartbeat of a host to match its state.
    pub(super) fn update_reporter(&mut self, h: HostId) {
        let reporting = self.truth.host(h).reporting();
        self.service
            .set_reporting(h.index(), reporting, self.sched.now);
        self.placement.service_changed(h);
    }

    /// Up, reachable, enabled and out of maintenance.
    pub(super) fn is_available(&self, h: HostId) -> bool {
        self.truth.host(h).reachable()
            && !self.service.disabled(h.index())
            && !self.campaigns.in_maintenance(h)
    }

    /// Applies the change of a host's availability since `before` to the running count.
    pub(super) fn track_available(&mut self, h: HostId, before: bool) {
        match (before, self.is_available(h)) {
            (true, false) => self.available -= 1,
            (false, true) => self.available += 1,
            _ => {}
        }
    }

    /// Whether the scheduler may consider the host at all: enabled and out of maintenance.
    /// Called at every change of either.
    pub(super) fn relist(&mut self, h: HostId) {
        let listed = !self.service.disabled(h.index()) && !self.campaigns.in_maintenance(h);
        self.placement.set_listed(h, listed);
    }
}
