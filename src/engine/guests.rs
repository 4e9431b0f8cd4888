//! Guest crashes inside the event loop: each running guest's keyed crash clock (only the
//! earliest per host is a pending event), and who restarts a crashed guest — the PCA
//! hypervisor, a policy's `StartServer`, or its host's next boot.

use super::{Event, Simulation};
use crate::policy::api::Observation;
use crate::world::ids::{HostId, VmId};

impl Simulation<'_> {
    /// Starts a running guest's crash clock (a renewal at every start).
    pub(super) fn arm_guest(&mut self, v: VmId) {
        let Some(g) = &self.model.failures.guest else {
            return;
        };
        self.disarm_guest(v);
        let at = self.now + g.time_between.sample(&mut self.guest_rng[v.index()]);
        let h = self.vms[v.index()].host;
        self.vms[v.index()].crash_at = Some(at);
        let earliest = self.guest_clocks[h.index()].first().map(|e| e.0);
        self.guest_clocks[h.index()].insert((at, v));
        if earliest.is_none_or(|e| at < e) {
            self.schedule_guest_event(h);
        }
    }

    /// Stops a guest's crash clock (it stopped running, crashed or moved). A pending event for
    /// it finds nothing due and re-arms for the next one.
    pub(super) fn disarm_guest(&mut self, v: VmId) {
        if let Some(at) = self.vms[v.index()].crash_at.take() {
            let h = self.vms[v.index()].host;
            self.guest_clocks[h.index()].remove(&(at, v));
        }
    }

    pub(super) fn schedule_guest_event(&mut self, h: HostId) {
        let hr = &mut self.hosts[h.index()];
        hr.guest_epoch = hr.guest_epoch.wrapping_add(1);
        let epoch = hr.guest_epoch;
        if let Some(&(at, _)) = self.guest_clocks[h.index()].first() {
            if at < self.horizon {
                self.queue
                    .push(at.max(self.now), Event::GuestCrash { host: h, epoch });
            }
        }
    }

    /// A guest starts running on its (up) host.
    pub(super) fn guest_started(&mut self, v: VmId) {
        let vm = &mut self.vms[v.index()];
        vm.booted = true;
        vm.crashed = false;
        vm.maint_down = false;
        self.arm_guest(v);
        self.refresh_vm(v);
        self.arrived_on_draining_host(v);
    }

    pub(super) fn guest_crashed(&mut self, v: VmId) {
        let vm = &mut self.vms[v.index()];
        vm.crash_at = None;
        vm.booted = false;
        vm.crashed = true;
        let pca = matches!(self.model.policy, crate::policy::PolicyConfig::Pca(_));
        let restart = pca && vm.restarts < self.model.infra.pca.hypervisor_restart_attempts;
        if restart {
            // The PCA hypervisor restarts crashed instances itself, up to 5 times.
            vm.restarts += 1;
        }
        self.refresh_vm(v);
        if restart {
            self.start_guest(v);
        } else {
            self.observe(Observation::InstanceFailed { vm: v.0 });
        }
    }

    /// Boots a crashed guest on its host (`os-start` or a hypervisor restart).
    pub(super) fn start_guest(&mut self, v: VmId) {
        let vm = &self.vms[v.index()];
        let hr = &self.hosts[vm.host.index()];
        if vm.crashed && vm.task.is_none() && hr.up {
            let boot = self.model.workloads[self.model.vms[v.index()].workload.index()].boot_time;
            let host_gen = hr.gen;
            self.schedule(boot, Event::GuestRestarted { vm: v, host_gen });
        }
    }
}
