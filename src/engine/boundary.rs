//! The policy boundary: observations go to the policy one at a time (those its commands cause
//! are queued and delivered after), its commands are executed with their real effects, and the
//! inventory it reads is Nova's records and the infra's view — never the truth.

use super::Simulation;
use crate::core::time::SimDuration;
use crate::policy::api::{self, Command, Observation, Policy};
use crate::world::ids::{HostId, VmId};
use std::collections::VecDeque;

/// One observation as the policy received it, for replaying through `hasim policy`.
#[derive(Clone, Debug)]
pub struct RecordedStep {
    pub now_us: u64,
    pub inventory: api::InventorySnapshot,
    pub observation: Observation,
    pub commands: Vec<Command>,
}

pub(super) struct Boundary {
    /// Taken out while it runs, so observations its commands cause queue up.
    policy: Option<Box<dyn Policy>>,
    observations: VecDeque<Observation>,
    recorder: Option<Vec<RecordedStep>>,
}

impl Boundary {
    pub(super) fn new(policy: Box<dyn Policy>) -> Self {
        Boundary {
            policy: Some(policy),
            observations: VecDeque::new(),
            recorder: None,
        }
    }

    pub(super) fn record(&mut self) {
        self.recorder = Some(Vec::new());
    }

    pub(super) fn take_recording(&mut self) -> Vec<RecordedStep> {
        self.recorder.take().unwrap_or_default()
    }

    /// The steps recorded so far (none unless recording).
    pub(super) fn recorded(&self) -> &[RecordedStep] {
        self.recorder.as_deref().unwrap_or(&[])
    }
}

impl Simulation<'_> {
    /// Delivers an observation (and whatever observations its commands cause) to the policy.
    pub(super) fn observe(&mut self, obs: Observation) {
        self.boundary.observations.push_back(obs);
        let Some(mut policy) = self.boundary.policy.take() else {
            // Already delivering: the outer loop picks it up.
            return;
        };
        while let Some(o) = self.boundary.observations.pop_front() {
            let now = self.sched.now.as_us();
            let cmds = policy.on_observation(now, &InventoryView { sim: self }, &o);
            // The policy call changed nothing, so this is the inventory it read.
            let snapshot = self
                .boundary
                .recorder
                .is_some()
                .then(|| api::InventorySnapshot::of(&InventoryView { sim: self }));
            if let (Some(inventory), Some(rec)) = (snapshot, &mut self.boundary.recorder) {
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
        self.boundary.policy = Some(policy);
    }

    fn set_disabled(&mut self, h: HostId, disabled: bool) {
        let before = self.is_available(h);
        self.service.set_disabled(h.index(), disabled);
        self.track_available(h, before);
        self.relist(h);
    }

    fn execute(&mut self, c: Command) {
        let host = |id: u32, sim: &Self| (id as usize) < sim.truth.host_count();
        match c {
            Command::DisableService { host: h } if host(h, self) => {
                self.set_disabled(HostId(h), true)
            }
            Command::EnableService { host: h } if host(h, self) => {
                self.set_disabled(HostId(h), false)
            }
            Command::ForceDown { host: h, down } if host(h, self) => {
                self.service.set_forced_down(h as usize, down);
                self.placement.service_changed(HostId(h));
            }
            Command::CheckPower { host: h } if host(h, self) => self.start_power_check(HostId(h)),
            Command::Evacuate { vm, placement } => {
                if let Err(reason) = self.evacuate(VmId(vm), &placement) {
                    self.accounts.ha.evacuation_failures += 1;
                    self.boundary
                        .observations
                        .push_back(Observation::EvacuateResult {
                            vm,
                            ok: false,
                            host: None,
                            reason: Some(reason.to_string()),
                        });
                }
            }
            Command::Migrate { vm, placement } => {
                if let Err(reason) = self.migrate(VmId(vm), &placement) {
                    self.boundary
                        .observations
                        .push_back(Observation::MigrateResult {
                            vm,
                            ok: false,
                            host: None,
                            reason: Some(reason.to_string()),
                        });
                }
            }
            Command::StartServer { vm } if (vm as usize) < self.truth.vm_count() => {
                self.start_guest(VmId(vm))
            }
            Command::SetTimer { token, after_us } => {
                self.schedule(SimDuration(after_us), super::Event::PolicyTimer { token })
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
        self.sim.truth.host_count() as u32
    }

    fn host(&self, id: u32) -> api::HostView {
        let s = self.sim;
        let h = id as usize;
        let topo = &s.model.topology.hosts[h];
        api::HostView {
            id,
            name: topo.name.clone(),
            fault_domain: topo.fault_domain.0,
            service_up: s.service.is_up(h, s.sched.now, &s.model.infra.nova),
            disabled: s.service.disabled(h),
            forced_down: s.service.reporter(h).forced_down,
            node_online: s.membership.node(h).online,
            reserved: s.model.reserved_hosts.contains(&HostId(id)),
        }
    }

    fn vms_on(&self, host: u32) -> Vec<api::VmView> {
        self.sim
            .truth
            .residents(HostId(host))
            .iter()
            .map(|v| self.vm(v.0))
            .collect()
    }

    fn vm(&self, id: u32) -> api::VmView {
        let s = self.sim;
        let v = VmId(id);
        let w = &s.model.workloads[s.model.vms[id as usize].workload.index()];
        api::VmView {
            id,
            host: s.truth.vm(v).host().0,
            status: if s.moves.busy(v) {
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
