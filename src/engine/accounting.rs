//! The accounting state of each VM, read off the truth and the mechanisms at every change that
//! may alter it, for the ledgers (DESIGN.md §3): running, degraded (pre-copy), blackout
//! (switchover), stopped by its user (neither up nor down), or down with the cause that holds
//! it down.

use super::Simulation;
use crate::infra::membership::Incident;
use crate::metrics::ledger::VmState;
use crate::world::ids::{HostId, VmId};

impl Simulation<'_> {
    /// The accounting state a VM is in now.
    fn vm_state(&self, v: VmId) -> VmState {
        let vm = self.truth.vm(v);
        if !vm.wanted() && !vm.booted() {
            return VmState::Stopped;
        }
        let maint_down = self.campaigns.vms[v.index()].down;
        if self.moves.busy(v) {
            return if maint_down {
                VmState::Maintenance
            } else {
                VmState::Recovery
            };
        }
        let host = vm.host();
        let t = self.truth.host(host);
        match self.migrations.migrating(v) {
            Some(true) => return VmState::Blackout,
            Some(false) if t.reachable() => return VmState::Degraded,
            _ => {}
        }
        if t.up() && vm.shutoff() {
            // Left off by an unplanned reboot (or a policy): it stays off whatever happens
            // to its host next.
            return VmState::ShutOff;
        }
        if !vm.booted() && (maint_down || self.campaigns.working(host)) {
            return VmState::Maintenance;
        }
        if t.up() && vm.booted() {
            if !t.partitioned() {
                return VmState::Running;
            }
        } else if t.up() && vm.crashed() {
            return VmState::GuestCrash;
        } else if t.up() {
            return VmState::Recovery;
        }
        if self.moves.no_capacity(v) {
            return VmState::NoCapacity;
        }
        if !self.model.policy.recovers_hosts() {
            return VmState::HostFailure;
        }
        match self.membership.node(host.index()).incident {
            Incident::Undetected => VmState::Detection,
            Incident::Fencing => VmState::Fencing,
            Incident::Recovering => VmState::Recovery,
            Incident::None => VmState::HostFailure,
        }
    }

    pub(super) fn refresh_vm(&mut self, v: VmId) {
        let s = self.vm_state(v);
        self.accounts.ledger.set(v, self.sched.now, s);
    }

    pub(super) fn refresh_host(&mut self, h: HostId) {
        for i in 0..self.truth.residents(h).len() {
            let v = self.truth.residents(h)[i];
            self.refresh_vm(v);
        }
    }
}
