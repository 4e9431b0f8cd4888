//! Nova's moves with their effects on the truth: evacuation (the source service must be down;
//! rebuild on a host the scheduler picks; local image-backed disks are lost; a guest still
//! running on its source becomes a stale copy), cold migration, the rebuild's end, and guest
//! starts, crashes and restarts.

use super::{claim_of, hosts, Simulation};
use crate::faults::guest_crash;
use crate::infra::placement::Request;
use crate::policy::api::{Observation, Placement};
use crate::policy::PolicyConfig;
use crate::world::ids::{HostId, VmId};
use crate::world::vms::Storage;

impl Simulation<'_> {
    /// Nova's scheduler for a move of `v` away from `source`.
    pub(super) fn pick_target(
        &mut self,
        v: VmId,
        source: HostId,
        wanted: &Placement,
    ) -> Option<HostId> {
        let model = self.model;
        let req = Request {
            claim: claim_of(model, v),
            group: model.vms[v.index()]
                .group
                .map(|g| (g, model.groups[g.index()].policy)),
            source,
            // Every move stays in the VM's zone unless its workload opts out (one zone: moot).
            zone: (model.topology.zones.len() > 1
                && model.workloads[model.vms[v.index()].workload.index()].pin_zone)
                .then(|| model.topology.host(source).zone.0),
        };
        let (service, now, nova) = (&self.service, self.sched.now, &model.infra.nova);
        self.placement.pick(
            &req,
            wanted,
            |h| service.state(h.index(), now, nova),
            self.truth.host_count(),
        )
    }

    /// Moves a VM's record (and its server-group membership) to `to`.
    pub(super) fn move_resident(&mut self, v: VmId, from: HostId, to: HostId) {
        let topo = &self.model.topology;
        if topo.host(from).zone != topo.host(to).zone {
            self.accounts.ha.cross_zone_moves += 1;
        }
        if let Some(g) = self.model.vms[v.index()].group {
            self.placement.move_member(g, from, to);
        }
        self.truth.move_vm(v, to);
    }

    /// Nova evacuate: checks, scheduling, claim, and the rebuild on the target.
    pub(super) fn evacuate(&mut self, v: VmId, wanted: &Placement) -> Result<(), &'static str> {
        if v.index() >= self.truth.vm_count() {
            return Err("InstanceNotFound");
        }
        if self.moves.busy(v) {
            return Err("InstanceInvalidState");
        }
        let source = self.truth.vm(v).host();
        if self
            .service
            .is_up(source.index(), self.now(), &self.model.infra.nova)
        {
            return Err("ComputeServiceInUse");
        }
        let Some(target) = self.pick_target(v, source, wanted) else {
            self.moves.set_no_capacity(v, true);
            self.refresh_vm(v);
            return Err("NoValidHost");
        };
        let claim = claim_of(self.model, v);
        self.placement.claim(target, &claim);
        self.placement.hold(source, claim);
        // A guest still running on its (partitioned or merely unresponsive) host keeps running.
        if self.truth.host(source).up() && self.truth.vm(v).booted() {
            self.truth.leave_stale_copy(v, source);
        }
        if self.membership.count_false_failover(source.index()) {
            self.accounts.ha.false_failovers += 1;
        }
        let w = &self.model.workloads[self.model.vms[v.index()].workload.index()];
        if w.storage == Storage::Local {
            // Not on shared storage and image-backed: rebuilt from the image, local data lost.
            self.accounts.ha.data_loss_events += 1;
        }
        self.guests.disarm(v, source);
        self.truth.clear_crash(v);
        self.guests.reset_restarts(v);
        self.move_resident(v, source, target);
        let gen = self.truth.host(target).gen();
        self.truth.guest_stop(v);
        self.moves.set_no_capacity(v, false);
        self.accounts.ha.evacuations += 1;
        self.moves
            .begin(v, source, gen, false, w.boot_time, &mut self.sched);
        self.refresh_vm(v);
        Ok(())
    }

    /// Cold migration (PCA reboot migration): stop the running server, start it on a host the
    /// scheduler picks; its allocation moves with it.
    pub(super) fn migrate(&mut self, v: VmId, wanted: &Placement) -> Result<(), &'static str> {
        if v.index() >= self.truth.vm_count() {
            return Err("InstanceNotFound");
        }
        let source = self.truth.vm(v).host();
        if self.moves.busy(v) || !self.truth.vm(v).booted() || !self.truth.host(source).reachable()
        {
            return Err("InstanceInvalidState");
        }
        let Some(target) = self.pick_target(v, source, wanted) else {
            return Err("NoValidHost");
        };
        self.relocate(v, target, false);
        Ok(())
    }

    /// Stops a VM and starts it on `target` (its allocation moves with it); `maintenance`
    /// attributes the downtime to maintenance rather than recovery.
    pub(super) fn relocate(&mut self, v: VmId, target: HostId, maintenance: bool) {
        let source = self.truth.vm(v).host();
        let claim = claim_of(self.model, v);
        self.placement.claim(target, &claim);
        self.placement.release(source, &claim);
        self.guests.disarm(v, source);
        self.move_resident(v, source, target);
        let gen = self.truth.host(target).gen();
        self.truth.guest_stop(v);
        self.campaigns.vms[v.index()].down = maintenance;
        let boot = self.model.workloads[self.model.vms[v.index()].workload.index()].boot_time;
        self.moves
            .begin(v, source, gen, true, boot, &mut self.sched);
        self.refresh_vm(v);
    }

    pub(super) fn rebuild_done(&mut self, v: VmId, seq: u32) {
        let Some(task) = self.moves.finish(v, seq) else {
            return;
        };
        let target = self.truth.vm(v).host();
        let t = self.truth.host(target);
        let (vm, cold) = (v.0, task.cold);
        if t.up() && t.gen() == task.target_gen {
            if let Some(old) = self.truth.vm(v).stale() {
                if self.truth.host(old).up() {
                    // Two running copies of one server.
                    self.accounts.ha.split_brain_events += 1;
                }
            }
            if self.truth.vm(v).powered_off() {
                // Before microversion 2.95 an evacuated server keeps its power state
                // (production-ha.md §1.1 step 4): a stopped one stays stopped.
                self.refresh_vm(v);
            } else {
                self.guest_started(v);
            }
            // The rebuild ends with vm_state ACTIVE (or stopped, as it was), whatever
            // os-resetState wrote before.
            self.records.set_error(v, false);
            let (ok, host, reason) = (true, Some(target.0), None);
            self.observe(if cold {
                Observation::MigrateResult {
                    vm,
                    ok,
                    host,
                    reason,
                }
            } else {
                Observation::EvacuateResult {
                    vm,
                    ok,
                    host,
                    reason,
                }
            });
        } else {
            // `_error_out_instance_on_exception`: vm_state error. (Nova would also keep the
            // record on the source; hasim's record stays on the dead target, where the next
            // evacuation starts from: the error state is what a controller's check reads.)
            self.records.set_error(v, true);
            self.refresh_vm(v);
            let (ok, host, reason) = (false, None, Some("RebuildFailed".to_string()));
            if cold {
                self.observe(Observation::MigrateResult {
                    vm,
                    ok,
                    host,
                    reason,
                });
            } else {
                self.accounts.ha.evacuation_failures += 1;
                self.observe(Observation::EvacuateResult {
                    vm,
                    ok,
                    host,
                    reason,
                });
            }
        }
    }

    /// A guest starts running on its (up) host.
    pub(super) fn guest_started(&mut self, v: VmId) {
        self.truth.guest_start(v);
        self.campaigns.vms[v.index()].down = false;
        let h = self.truth.vm(v).host();
        self.guests.arm(v, h, &mut self.sched);
        self.refresh_vm(v);
        self.arrived_on_draining_host(v);
    }

    pub(super) fn guest_event(&mut self, e: guest_crash::Event) {
        let guest_crash::Event::Crash { host, epoch } = e;
        if !self.guests.is_current(host, epoch) {
            return;
        }
        while let Some(v) = self.guests.take_due(host, self.now()) {
            self.guest_crashed(v);
        }
        self.guests.schedule_host_event(host, &mut self.sched);
    }

    fn guest_crashed(&mut self, v: VmId) {
        self.truth.guest_crash(v);
        let pca = matches!(self.model.policy, PolicyConfig::Pca(_));
        let restart =
            pca && self.guests.restarts(v) < self.model.infra.pca.hypervisor_restart_attempts;
        if restart {
            // The PCA hypervisor restarts crashed instances itself, up to 5 times.
            self.guests.count_restart(v);
        }
        self.refresh_vm(v);
        if restart {
            self.start_guest(v);
        } else {
            self.operator_guest_crashed(v);
            self.observe(Observation::InstanceFailed { vm: v.0 });
        }
    }

    /// `os-stop` by a policy: a running guest is powered off (SHUTOFF) until someone starts
    /// it. Its user's wish is unchanged, so the time off counts as downtime (`shutoff`).
    pub(super) fn stop_server(&mut self, v: VmId) {
        let vm = self.truth.vm(v);
        if !vm.booted() {
            return;
        }
        let h = vm.host();
        self.guests.disarm(v, h);
        self.truth.shut_off(v);
        self.refresh_vm(v);
    }

    /// `os-start`: the server should run from now on, and boots if it is off.
    pub(super) fn start_server(&mut self, v: VmId) {
        if !self.truth.vm(v).wanted() {
            self.truth.set_wanted(v, true);
            // Off in Nova's records until its boot completes.
            self.truth.shut_off(v);
        }
        if self.start_guest(v) {
            // Nova's record reads ACTIVE while the guest boots.
            self.truth.begin_start(v);
        }
    }

    /// Boots a crashed or shut-off guest on its host (`os-start` or a hypervisor restart);
    /// false if there is nothing to boot (it runs, moves, or its host is down).
    pub(super) fn start_guest(&mut self, v: VmId) -> bool {
        let h = self.truth.vm(v).host();
        let t = self.truth.host(h);
        let vm = self.truth.vm(v);
        if (vm.crashed() || vm.powered_off()) && !self.moves.busy(v) && t.up() {
            let boot = self.model.workloads[self.model.vms[v.index()].workload.index()].boot_time;
            let host_gen = t.gen();
            self.schedule(boot, hosts::Event::GuestRestarted { vm: v, host_gen });
            return true;
        }
        false
    }
}
