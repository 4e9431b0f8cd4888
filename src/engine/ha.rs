//! The HA mechanisms inside the event loop: what infra notices (Pacemaker's remote monitor,
//! the PCA failure threshold), IPMI fencing, Nova's scheduler for moves, evacuation and cold
//! migration with their effects on the truth (stale copies, lost local disks), and the
//! delivery of observations to the policy and of its commands back to the cloud.

use super::{claim_of, Event, Incident, RecordedStep, Simulation};
use crate::core::time::SimDuration;
use crate::infra::config::StonithAction;
use crate::policy::api::{self, Command, Observation, Placement};
use crate::world::ids::{HostId, VmId};
use crate::world::vms::{GroupPolicy, Storage};

impl Simulation<'_> {
    pub(super) fn became_unreachable(&mut self, h: HostId) {
        let hr = &mut self.hosts[h.index()];
        hr.epoch = hr.epoch.wrapping_add(1);
        hr.incident = Incident::Undetected;
        hr.incident_false = hr.hw == 0;
        let epoch = hr.epoch;
        if hr.maint.is_some() {
            // Planned: the node was put in maintenance mode, no controller fails it over.
            hr.incident = Incident::None;
            return;
        }
        if self.model.policy.uses_pacemaker() {
            let after = self.next_tick(h, self.model.infra.pacemaker.remote_monitor_interval);
            self.schedule(after, Event::NodeCheck { host: h, epoch });
        }
        if matches!(self.model.policy, crate::policy::PolicyConfig::Pca(_)) {
            self.schedule(
                self.model.infra.pca.fail_threshold,
                Event::PcaFail { host: h, epoch },
            );
        }
    }

    pub(super) fn became_reachable(&mut self, h: HostId) {
        let hr = &mut self.hosts[h.index()];
        hr.epoch = hr.epoch.wrapping_add(1);
        hr.incident = Incident::None;
        hr.false_failover_counted = false;
        let (epoch, offline) = (hr.epoch, !hr.node_online);
        if self.model.policy.uses_pacemaker() && offline {
            let after = self.next_tick(h, self.model.infra.pacemaker.reconnect_interval);
            self.schedule(after, Event::NodeRejoin { host: h, epoch });
        }
        if matches!(self.model.policy, crate::policy::PolicyConfig::Pca(_)) && offline {
            // The appliance sees a failed node reconnect at once.
            self.hosts[h.index()].node_online = true;
            self.observe(Observation::NodeOnline { host: h.0 });
        }
    }

    pub(super) fn start_fencing_attempt(&mut self, h: HostId) {
        let ipmi = &self.model.infra.ipmi;
        let hr = &mut self.hosts[h.index()];
        hr.fence_seq = hr.fence_seq.wrapping_add(1);
        let seq = hr.fence_seq;
        // fence_ipmilan onoff: power off, sleep power_wait, poll status until off. An
        // unreachable BMC never answers and Pacemaker gives up at stonith-timeout.
        let (after, ok) = if hr.bmc_reachable() {
            (ipmi.power_wait + ipmi.status_sleep, true)
        } else {
            (self.model.infra.pacemaker.stonith_timeout, false)
        };
        self.schedule(after, Event::FenceDone { host: h, seq, ok });
    }

    pub(super) fn fence_done(&mut self, h: HostId, ok: bool) {
        if !ok || !self.hosts[h.index()].bmc_reachable() {
            self.ha.fencing_failures += 1;
            self.observe(Observation::Fenced {
                host: h.0,
                ok: false,
            });
            let hr = &mut self.hosts[h.index()];
            hr.fence_attempts += 1;
            if hr.fence_attempts < self.model.infra.pacemaker.stonith_max_attempts
                && !hr.node_online
            {
                self.start_fencing_attempt(h);
            }
            return;
        }
        let action = self.model.infra.pacemaker.stonith_action;
        self.hosts[h.index()].incident = Incident::Recovering;
        self.kill(h, false);
        match action {
            StonithAction::Off => self.hosts[h.index()].fenced = true,
            StonithAction::Reboot => {
                if self.hosts[h.index()].hw == 0 {
                    self.power_on(h, true);
                }
            }
        }
        self.refresh_host(h);
        self.observe(Observation::Fenced {
            host: h.0,
            ok: true,
        });
    }

    /// Nova's scheduler for a move: ComputeFilter (enabled and up), RAM/CPU/disk with the dead
    /// host's allocation still counted, hard server-group rules, then the RAM weigher.
    pub(super) fn pick_target(
        &self,
        v: VmId,
        source: HostId,
        placement: &Placement,
    ) -> Option<HostId> {
        let claim = claim_of(self.model, v);
        let group = self.model.vms[v.index()]
            .group
            .map(|g| (g, self.model.groups[g.index()].policy));
        let nova = &self.model.infra.nova;
        let ok = |h: HostId| {
            let hr = &self.hosts[h.index()];
            if h == source
                || hr.disabled
                || hr.maint.is_some()
                || !hr.reporter.is_up(self.now, nova)
                || !self.usage[h.index()].fits(&claim)
            {
                return false;
            }
            match group {
                Some((g, GroupPolicy::AntiAffinity)) => {
                    self.group_members.get(&(g, h)).copied().unwrap_or(0) == 0
                }
                Some((g, GroupPolicy::Affinity)) => {
                    let elsewhere = self
                        .group_members
                        .iter()
                        .any(|((gg, hh), n)| *gg == g && *hh != source && *n > 0);
                    !elsewhere || self.group_members.get(&(g, h)).copied().unwrap_or(0) > 0
                }
                _ => true,
            }
        };
        // The first host in weigher order that passes the filters (most free RAM, lowest id).
        let best = |filter: &dyn Fn(HostId) -> bool| {
            self.by_free_ram
                .iter()
                .map(|(_, h)| *h)
                .find(|h| filter(*h) && ok(*h))
        };
        match placement {
            Placement::Any => best(&|_| true),
            Placement::Host { host } => {
                let h = HostId(*host);
                (h.index() < self.hosts.len() && ok(h)).then_some(h)
            }
            Placement::FaultDomain {
                fault_domain,
                strict,
            } => {
                let in_fd = |h: HostId| self.model.topology.host(h).fault_domain.0 == *fault_domain;
                best(&in_fd).or_else(|| if *strict { None } else { best(&|_| true) })
            }
        }
    }

    /// Nova evacuate: checks, scheduling, claim, and the rebuild on the target.
    pub(super) fn evacuate(&mut self, v: VmId, placement: &Placement) -> Result<(), &'static str> {
        if v.index() >= self.vms.len() {
            return Err("InstanceNotFound");
        }
        if self.vms[v.index()].task.is_some() {
            return Err("InstanceInvalidState");
        }
        let source = self.vms[v.index()].host;
        if self.hosts[source.index()]
            .reporter
            .is_up(self.now, &self.model.infra.nova)
        {
            return Err("ComputeServiceInUse");
        }
        let Some(target) = self.pick_target(v, source, placement) else {
            self.vms[v.index()].no_capacity = true;
            self.refresh_vm(v);
            return Err("NoValidHost");
        };
        let claim = claim_of(self.model, v);
        self.claim_on(target, &claim);
        self.held[source.index()].push(claim);
        // A guest still running on its (partitioned or merely unresponsive) host keeps running.
        let src = &self.hosts[source.index()];
        if src.up && self.vms[v.index()].booted {
            self.vms[v.index()].stale = Some(source);
            self.stale_on[source.index()].push(v);
        }
        if src.incident_false && !src.false_failover_counted {
            self.hosts[source.index()].false_failover_counted = true;
            self.ha.false_failovers += 1;
        }
        let w = &self.model.workloads[self.model.vms[v.index()].workload.index()];
        if w.storage == Storage::Local {
            // Not on shared storage and image-backed: rebuilt from the image, local data lost.
            self.ha.data_loss_events += 1;
        }
        self.disarm_guest(v);
        self.vms[v.index()].crashed = false;
        self.vms[v.index()].restarts = 0;
        self.move_resident(v, source, target);
        self.evacuation_seq = self.evacuation_seq.wrapping_add(1);
        let seq = self.evacuation_seq;
        let vm = &mut self.vms[v.index()];
        vm.task = Some((seq, self.hosts[target.index()].gen, false));
        vm.booted = false;
        vm.no_capacity = false;
        self.ha.evacuations += 1;
        self.schedule(w.boot_time, Event::RebuildDone { vm: v, seq });
        self.refresh_vm(v);
        Ok(())
    }

    /// Cold migration (PCA reboot migration): stop the running server, start it on a host the
    /// scheduler picks; its allocation moves with it.
    pub(super) fn migrate(&mut self, v: VmId, placement: &Placement) -> Result<(), &'static str> {
        if v.index() >= self.vms.len() {
            return Err("InstanceNotFound");
        }
        let vm = &self.vms[v.index()];
        let source = vm.host;
        if vm.task.is_some() || !vm.booted || !self.hosts[source.index()].reachable() {
            return Err("InstanceInvalidState");
        }
        let Some(target) = self.pick_target(v, source, placement) else {
            return Err("NoValidHost");
        };
        self.relocate(v, target, false);
        Ok(())
    }

    /// Stops a VM and starts it on `target` (its allocation moves with it); `maintenance`
    /// attributes the downtime to maintenance rather than recovery.
    pub(super) fn relocate(&mut self, v: VmId, target: HostId, maintenance: bool) {
        let source = self.vms[v.index()].host;
        let claim = claim_of(self.model, v);
        self.claim_on(target, &claim);
        self.release_on(source, &claim);
        self.disarm_guest(v);
        self.move_resident(v, source, target);
        self.evacuation_seq = self.evacuation_seq.wrapping_add(1);
        let seq = self.evacuation_seq;
        let vm = &mut self.vms[v.index()];
        vm.task = Some((seq, self.hosts[target.index()].gen, true));
        vm.booted = false;
        vm.maint_down = maintenance;
        let boot = self.model.workloads[self.model.vms[v.index()].workload.index()].boot_time;
        self.schedule(boot, Event::RebuildDone { vm: v, seq });
        self.refresh_vm(v);
    }

    pub(super) fn rebuild_done(&mut self, v: VmId, seq: u32) {
        let Some((s, target_gen, migration)) = self.vms[v.index()].task else {
            return;
        };
        if s != seq {
            return;
        }
        self.vms[v.index()].task = None;
        let target = self.vms[v.index()].host;
        let hr = &self.hosts[target.index()];
        if hr.up && hr.gen == target_gen {
            if let Some(old) = self.vms[v.index()].stale {
                if self.hosts[old.index()].up {
                    // Two running copies of one server.
                    self.ha.split_brain_events += 1;
                }
            }
            self.guest_started(v);
            let (vm, host) = (v.0, Some(target.0));
            self.observe(if migration {
                Observation::MigrateResult {
                    vm,
                    ok: true,
                    host,
                    reason: None,
                }
            } else {
                Observation::EvacuateResult {
                    vm,
                    ok: true,
                    host,
                    reason: None,
                }
            });
        } else {
            self.refresh_vm(v);
            let (vm, reason) = (v.0, Some("RebuildFailed".to_string()));
            if migration {
                self.observe(Observation::MigrateResult {
                    vm,
                    ok: false,
                    host: None,
                    reason,
                });
            } else {
                self.ha.evacuation_failures += 1;
                self.observe(Observation::EvacuateResult {
                    vm,
                    ok: false,
                    host: None,
                    reason,
                });
            }
        }
    }

    /// Delivers an observation (and whatever observations its commands cause) to the policy.
    pub(super) fn observe(&mut self, obs: Observation) {
        self.observations.push_back(obs);
        let Some(mut policy) = self.policy.take() else {
            // Already delivering: the outer loop picks it up.
            return;
        };
        while let Some(o) = self.observations.pop_front() {
            let now = self.now.as_us();
            let cmds = policy.on_observation(now, &InventoryView { sim: self }, &o);
            // The policy call changed nothing, so this is the inventory it read.
            let snapshot = self
                .recorder
                .is_some()
                .then(|| api::InventorySnapshot::of(&InventoryView { sim: self }));
            if let (Some(inventory), Some(rec)) = (snapshot, &mut self.recorder) {
                rec.push(RecordedStep {
                    now_us: now,
                    inventory,
                    observation: o.clone(),
                    commands: cmds.clone(),
                });
            }
            for c in cmds {
                self.execute(c);
            }
        }
        self.policy = Some(policy);
    }

    pub(super) fn execute(&mut self, c: Command) {
        let host = |id: u32, sim: &Self| (id as usize) < sim.hosts.len();
        match c {
            Command::DisableService { host: h } if host(h, self) => {
                let before = self.is_available(HostId(h));
                self.hosts[h as usize].disabled = true;
                self.track_available(HostId(h), before);
            }
            Command::EnableService { host: h } if host(h, self) => {
                let before = self.is_available(HostId(h));
                self.hosts[h as usize].disabled = false;
                self.track_available(HostId(h), before);
            }
            Command::ForceDown { host: h, down } if host(h, self) => {
                self.hosts[h as usize].reporter.forced_down = down
            }
            Command::CheckPower { host: h } if host(h, self) => {
                let pc = &self.model.infra.power_check;
                let after = if self.hosts[h as usize].bmc_reachable() {
                    pc.answer_time
                } else {
                    pc.give_up_after()
                };
                self.schedule(after, Event::PowerReply { host: HostId(h) });
            }
            Command::Evacuate { vm, placement } => {
                if let Err(reason) = self.evacuate(VmId(vm), &placement) {
                    self.ha.evacuation_failures += 1;
                    self.observations.push_back(Observation::EvacuateResult {
                        vm,
                        ok: false,
                        host: None,
                        reason: Some(reason.to_string()),
                    });
                }
            }
            Command::Migrate { vm, placement } => {
                if let Err(reason) = self.migrate(VmId(vm), &placement) {
                    self.observations.push_back(Observation::MigrateResult {
                        vm,
                        ok: false,
                        host: None,
                        reason: Some(reason.to_string()),
                    });
                }
            }
            Command::StartServer { vm } if (vm as usize) < self.vms.len() => {
                self.start_guest(VmId(vm))
            }
            Command::SetTimer { token, after_us } => {
                self.schedule(SimDuration(after_us), Event::PolicyTimer { token })
            }
            // Commands naming a host that does not exist are ignored, as an API would 404.
            _ => {}
        }
    }
}

/// The inventory a policy reads: Nova's records and the infra's view, never the truth.
pub struct InventoryView<'a, 'm> {
    sim: &'a Simulation<'m>,
}

impl api::Inventory for InventoryView<'_, '_> {
    fn host_count(&self) -> u32 {
        self.sim.hosts.len() as u32
    }

    fn host(&self, id: u32) -> api::HostView {
        let s = self.sim;
        let h = &s.hosts[id as usize];
        let topo = &s.model.topology.hosts[id as usize];
        api::HostView {
            id,
            name: topo.name.clone(),
            fault_domain: topo.fault_domain.0,
            service_up: h.reporter.is_up(s.now, &s.model.infra.nova),
            disabled: h.disabled,
            forced_down: h.reporter.forced_down,
            node_online: h.node_online,
            reserved: s.model.reserved_hosts.contains(&HostId(id)),
        }
    }

    fn vms_on(&self, host: u32) -> Vec<api::VmView> {
        self.sim.residents[host as usize]
            .iter()
            .map(|v| self.vm(v.0))
            .collect()
    }

    fn vm(&self, id: u32) -> api::VmView {
        let s = self.sim;
        let vm = &s.vms[id as usize];
        let w = &s.model.workloads[s.model.vms[id as usize].workload.index()];
        api::VmView {
            id,
            host: vm.host.0,
            status: if vm.task.is_some() {
                api::VmStatus::Rebuilding
            } else {
                api::VmStatus::Active
            },
            ha_enabled: w.ha,
            evacuable: w.tags.iter().any(|t| t == "evacuable"),
            fault_domain: s
                .model
                .topology
                .host(s.model.placement[id as usize])
                .fault_domain
                .0,
        }
    }

    fn any_evacuable_tagged(&self) -> bool {
        self.sim
            .model
            .workloads
            .iter()
            .any(|w| w.tags.iter().any(|t| t == "evacuable"))
    }
}
