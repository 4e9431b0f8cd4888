//! The operator's runbook carried out (`infra::operator` owns their knowledge and queue): what
//! they notice, which servers they start or relaunch, and the Masakari clean-up. The operator
//! acts through Nova's API like any client: a relaunch is an evacuation (refused while the
//! host's service still reads up), a start is `os-start` of a server that should run.

use super::Simulation;
use crate::infra::operator::{self, Action};
use crate::policy::api::{Observation, Placement};
use crate::policy::PolicyConfig;
use crate::world::ids::{HostId, VmId};
use crate::world::vms::Storage;

impl Simulation<'_> {
    pub(super) fn operator_event(&mut self, e: operator::Event) {
        match e {
            operator::Event::HostNoticed { host, gen } => {
                let t = self.truth.host(host);
                if t.gen() != gen {
                    // It died again since: that failure has its own notice.
                    return;
                }
                if t.up() {
                    // Back before anyone noticed: users report their servers off.
                    self.operator_start_all(host);
                } else {
                    self.operator.watch(host, gen, &mut self.sched);
                }
            }
            operator::Event::Decide { host, gen } => {
                let t = self.truth.host(host);
                if t.gen() == gen && !t.up() && self.operator.watching(host, gen) {
                    self.operator_relaunch_all(host);
                }
            }
            operator::Event::VmNoticed { vm } => {
                if self.operator_should_start(vm) {
                    self.operator_enqueue(Action::Start { vm });
                }
            }
            operator::Event::ClearMaintenance { host, gen } => {
                let t = self.truth.host(host);
                if t.gen() == gen && t.up() {
                    self.observe(Observation::MaintenanceCleared { host: host.0 });
                }
            }
            operator::Event::ActionDone => {
                let (done, next) = self.operator.finish();
                if let Some(next) = next {
                    let d = self.hands_on(next);
                    crate::core::sched::Scheduler::after(
                        &mut self.sched,
                        d,
                        operator::Event::ActionDone,
                    );
                }
                match done {
                    Some(Action::Start { vm }) if self.operator_should_start(vm) => {
                        // `openstack server start`: Nova's start, as a policy's.
                        self.start_server(vm)
                    }
                    Some(Action::Relaunch { vm, from }) => {
                        let still_there = self.truth.vm(vm).host() == from
                            && !self.truth.host(from).up()
                            && !self.moves.busy(vm);
                        if still_there && self.evacuate(vm, &Placement::Any).is_err() {
                            self.accounts.ha.evacuation_failures += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A host died unplanned (not a campaign's own shutdown).
    pub(super) fn operator_host_died(&mut self, h: HostId) {
        if self.operator.config().is_some() && !self.campaigns.working(h) {
            let gen = self.truth.host(h).gen();
            self.operator.host_failed(h, gen, &mut self.sched);
        }
    }

    /// A host booted: if the operator was watching it, they start what it left off; under
    /// Masakari they clear `on_maintenance` later.
    pub(super) fn operator_host_booted(&mut self, h: HostId) {
        if self.operator.config().is_none() {
            return;
        }
        let gen = self.truth.host(h).gen();
        if self.operator.take_watch(h, gen) {
            self.operator_start_all(h);
        }
        if matches!(self.model.policy, PolicyConfig::Masakari(_)) {
            self.operator.host_returned(h, gen, &mut self.sched);
        }
    }

    pub(super) fn operator_guest_crashed(&mut self, v: VmId) {
        self.operator.vm_crashed(v, &mut self.sched);
    }

    /// On an up host, off (crashed or SHUTOFF), meant to run and not moving.
    fn operator_should_start(&self, v: VmId) -> bool {
        let vm = self.truth.vm(v);
        vm.wanted()
            && !vm.booted()
            && (vm.crashed() || vm.shutoff())
            && !vm.starting()
            && !self.moves.busy(v)
            && self.truth.host(vm.host()).up()
    }

    fn operator_start_all(&mut self, h: HostId) {
        for i in 0..self.truth.residents(h).len() {
            let v = self.truth.residents(h)[i];
            if self.operator_should_start(v) {
                self.operator_enqueue(Action::Start { vm: v });
            }
        }
    }

    /// Queues the relaunch of every server of `h` that should run and whose disks survive it.
    fn operator_relaunch_all(&mut self, h: HostId) {
        for i in 0..self.truth.residents(h).len() {
            let v = self.truth.residents(h)[i];
            let storage = self.workload_of(v).storage;
            if self.truth.vm(v).wanted() && !self.moves.busy(v) && storage != Storage::Local {
                self.operator_enqueue(Action::Relaunch { vm: v, from: h });
            }
        }
    }

    fn operator_enqueue(&mut self, a: Action) {
        let d = self.hands_on(a);
        self.operator.enqueue(a, d, &mut self.sched);
    }

    /// The operator's hands-on time for an action.
    fn hands_on(&self, a: Action) -> crate::core::time::SimDuration {
        let c = self.operator.config().expect("operator configured");
        match a {
            Action::Start { .. } => c.instance_action_time,
            Action::Relaunch { vm, .. } => {
                if self.workload_of(vm).storage == Storage::Volume {
                    c.instance_action_time + c.volume_reattach_time
                } else {
                    c.instance_action_time
                }
            }
        }
    }

    fn workload_of(&self, v: VmId) -> &crate::world::vms::Workload {
        &self.model.workloads[self.model.vms[v.index()].workload.index()]
    }
}
