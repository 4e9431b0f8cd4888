//! The policy boundary: observations go to the policy — one at a time for the built-in
//! policies (those their commands cause are queued and delivered after), or all of one instant
//! at once, as a step, for a policy that `takes_steps` (an external controller) — its commands
//! are executed with their real effects, and the inventory it reads is Nova's records and the
//! infra's view — never the truth.

use super::Simulation;
use crate::core::time::SimDuration;
use crate::policy::api::{self, Command, Observation, Policy, Refusal, ResetTo};
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

/// Most steps one instant may take (each caused by the previous one's commands): 10,000. An
/// engineering limit far above any real recovery (a host's evacuations fail at once in one
/// step); past it the controller and the cloud are answering each other in a loop, which would
/// otherwise never let virtual time advance.
pub const MAX_STEPS_PER_INSTANT: u32 = 10_000;

pub(super) struct Boundary {
    /// Taken out while it runs, so observations its commands cause queue up.
    policy: Option<Box<dyn Policy>>,
    observations: VecDeque<Observation>,
    recorder: Option<Vec<RecordedStep>>,
    /// The policy takes the observations of one instant at once (`Policy::on_step`).
    steps: bool,
    /// What stopped the run from inside the policy (`Policy::take_fatal`).
    fatal: Option<String>,
    admin: bool,
}

impl Boundary {
    pub(super) fn new(policy: Box<dyn Policy>) -> Self {
        Boundary {
            steps: policy.takes_steps(),
            admin: policy.admin(),
            policy: Some(policy),
            observations: VecDeque::new(),
            recorder: None,
            fatal: None,
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

    /// Observations wait for the end of their instant (a stepping policy only).
    pub(super) fn step_pending(&self) -> bool {
        self.steps && !self.observations.is_empty()
    }

    pub(super) fn take_fatal(&mut self) -> Option<String> {
        self.fatal.take()
    }
}

impl Simulation<'_> {
    /// Delivers an observation (and whatever observations its commands cause) to the policy;
    /// to a stepping policy, queues it for `deliver_step`.
    pub(super) fn observe(&mut self, obs: Observation) {
        self.boundary.observations.push_back(obs);
        if self.boundary.steps {
            return;
        }
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
                // A built-in policy's command that names nothing is ignored, as a 404 would be.
                let _ = self.execute(c, false);
            }
        }
        self.boundary.policy = Some(policy);
    }

    /// Hands a stepping policy every observation of this instant, as one step, then those its
    /// commands caused, as further steps at the same instant. Called by the run loop when the
    /// next event is later than now. A fatal policy failure stops delivery and is kept for the
    /// loop (`Boundary::take_fatal`).
    pub(super) fn deliver_step(&mut self) {
        let Some(mut policy) = self.boundary.policy.take() else {
            return;
        };
        let now = self.sched.now.as_us();
        let mut steps = 0u32;
        while !self.boundary.observations.is_empty() {
            steps += 1;
            if steps > MAX_STEPS_PER_INSTANT {
                self.boundary.fatal = Some(format!(
                    "more than {MAX_STEPS_PER_INSTANT} steps at one instant: the controller's \
                     commands keep causing observations that it answers with more commands \
                     (e.g. retrying a failed evacuation at once)"
                ));
                self.boundary.observations.clear();
                break;
            }
            let batch: Vec<Observation> = self.boundary.observations.drain(..).collect();
            let cmds = policy.on_step(now, &mut CloudView { sim: self }, &batch);
            for c in cmds {
                if self.execute(c, true).is_err() {
                    self.accounts.ha.commands_refused += 1;
                }
            }
            if let Some(m) = policy.take_fatal() {
                self.boundary.fatal = Some(m);
                self.boundary.observations.clear();
                break;
            }
        }
        self.boundary.policy = Some(policy);
    }

    /// Starts the policy (an external controller's process and `hello`) and runs what it
    /// answers.
    pub(super) fn begin_policy(&mut self) {
        let Some(mut policy) = self.boundary.policy.take() else {
            return;
        };
        let now = self.sched.now.as_us();
        let cmds = policy.begin(now, &mut CloudView { sim: self });
        for c in cmds {
            if self.execute(c, true).is_err() {
                self.accounts.ha.commands_refused += 1;
            }
        }
        self.boundary.fatal = policy.take_fatal();
        self.boundary.policy = Some(policy);
    }

    /// Tells the policy the replication is over and takes its controller's history into the
    /// counters; a failure it reports then is fatal too.
    pub(super) fn end_policy(&mut self) {
        if let Some(p) = self.boundary.policy.as_mut() {
            p.end(self.sched.now.as_us());
            if let Some(m) = p.take_fatal() {
                self.boundary.fatal = Some(m);
            }
            let s = p.controller_stats();
            let ha = &mut self.accounts.ha;
            ha.controller_crashes = s.crashes;
            ha.controller_restarts = s.restarts;
            ha.controller_observations_lost = s.observations_lost;
            ha.controller_steps = s.steps;
        }
    }

    /// Whether the policy acts with an admin context (see `Policy::admin`).
    fn policy_is_admin(&self) -> bool {
        self.boundary.admin
    }

    fn set_disabled(&mut self, h: HostId, disabled: bool) {
        let before = self.is_available(h);
        self.service.set_disabled(h.index(), disabled);
        self.track_available(h, before);
        self.relist(h);
    }

    /// Runs a command at once, or refuses it as Nova's API would answer synchronously: an
    /// unknown id (404), a locked server for a non-admin caller (409, `check_instance_lock`
    /// guards stop, start and migrate, not evacuate). With `nova_answers` (a stepping policy,
    /// which talks to the API as a real controller does) the API's own checks answer at once
    /// too: evacuate of a server with a task in flight (409 `InstanceInvalidState`) or from a
    /// host whose nova-compute is up (400 `ComputeServiceInUse`), start of a server that is
    /// not stopped (409). A built-in policy gets those as a failed result observation, as it
    /// always has. An accepted move that finds no valid host fails later, as Nova's conductor
    /// fails it: a result observation, and `vm_state` error.
    fn execute(&mut self, c: Command, nova_answers: bool) -> Result<(), Refusal> {
        let refuse = |code: u16, reason: String| Err(Refusal { code, reason });
        if let Some(h) = host_of(&c) {
            if h as usize >= self.truth.host_count() {
                return refuse(404, format!("no compute host {h}"));
            }
        }
        if let Some(v) = vm_of(&c) {
            if v as usize >= self.truth.vm_count() {
                return refuse(404, format!("no server {v}"));
            }
            // `@check_instance_lock` guards stop, start and migrate (resize); evacuate,
            // reset_state and lock/unlock themselves are not lock-checked.
            let guarded = matches!(
                c,
                Command::StartServer { .. } | Command::StopServer { .. } | Command::Migrate { .. }
            );
            if guarded && self.records.locked(VmId(v)) && !self.policy_is_admin() {
                // check_instance_lock: InstanceIsLocked, HTTP 409, for non-admin callers.
                return refuse(409, format!("server {v} is locked"));
            }
        }
        match c {
            Command::DisableService { host: h } => self.set_disabled(HostId(h), true),
            Command::EnableService { host: h } => self.set_disabled(HostId(h), false),
            Command::ForceDown { host: h, down } => {
                self.service.set_forced_down(h as usize, down);
                self.placement.service_changed(HostId(h));
            }
            Command::CheckPower { host: h } => self.start_power_check(HostId(h)),
            Command::Evacuate { vm, placement } => {
                if let Err(reason) = self.evacuate(VmId(vm), &placement) {
                    if let Some(code) = api_answer(reason).filter(|_| nova_answers) {
                        return refuse(code, format!("server {vm}: {reason}"));
                    }
                    if reason == "NoValidHost" {
                        // The conductor's _set_vm_state_and_notify: vm_state error.
                        self.records.set_error(VmId(vm), true);
                    }
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
                    if let Some(code) = api_answer(reason).filter(|_| nova_answers) {
                        return refuse(code, format!("server {vm}: {reason}"));
                    }
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
            Command::StartServer { vm } => {
                // Nova's start needs vm_state stopped (and no task): what `VmView` shows.
                let shown = InventoryView { sim: self }.vm_status(VmId(vm));
                if nova_answers && shown != api::VmStatus::Stopped {
                    return refuse(
                        409,
                        format!("server {vm}: InstanceInvalidState (vm_state is not stopped)"),
                    );
                }
                self.start_server(VmId(vm))
            }
            Command::StopServer { vm } => {
                let v = VmId(vm);
                if self.moves.busy(v) || self.migrations.migrating(v).is_some() {
                    // Nova's stop needs task_state None.
                    return refuse(
                        409,
                        format!("server {vm}: InstanceInvalidState (a move is in progress)"),
                    );
                }
                let shown = InventoryView { sim: self }.vm_status(v);
                if nova_answers && shown == api::VmStatus::Stopped {
                    // Nova's stop needs vm_state active or error.
                    return refuse(
                        409,
                        format!("server {vm}: InstanceInvalidState (vm_state is stopped)"),
                    );
                }
                // A running guest is powered off and stays SHUTOFF until `start_server`; its
                // user still wants it, so the time off is downtime (cause `shutoff`). One
                // not running (crashed, or its host is down) is already off, as Nova's
                // power-state sync would record it.
                self.stop_server(v);
            }
            Command::LockServer { vm } => self.records.set_locked(VmId(vm), true),
            Command::UnlockServer { vm } => self.records.set_locked(VmId(vm), false),
            Command::ResetState { vm, state } => {
                self.records.set_error(VmId(vm), state == ResetTo::Error)
            }
            Command::SetTimer { token, after_us } => {
                self.schedule(SimDuration(after_us), super::Event::PolicyTimer { token })
            }
        }
        Ok(())
    }
}

/// The HTTP status Nova's API answers at once for a move it refuses; `None` for a failure
/// that comes later from the conductor (no valid host).
fn api_answer(reason: &str) -> Option<u16> {
    match reason {
        "InstanceNotFound" => Some(404),
        "InstanceInvalidState" => Some(409),
        "ComputeServiceInUse" => Some(400),
        _ => None,
    }
}

/// The host a command names, if any.
fn host_of(c: &Command) -> Option<u32> {
    match c {
        Command::DisableService { host }
        | Command::EnableService { host }
        | Command::ForceDown { host, .. }
        | Command::CheckPower { host } => Some(*host),
        Command::Evacuate { placement, .. } | Command::Migrate { placement, .. } => match placement
        {
            api::Placement::Host { host } => Some(*host),
            _ => None,
        },
        _ => None,
    }
}

/// The server a command names, if any.
fn vm_of(c: &Command) -> Option<u32> {
    match c {
        Command::Evacuate { vm, .. }
        | Command::Migrate { vm, .. }
        | Command::StartServer { vm }
        | Command::StopServer { vm }
        | Command::LockServer { vm }
        | Command::UnlockServer { vm }
        | Command::ResetState { vm, .. } => Some(*vm),
        _ => None,
    }
}

/// The inventory a policy reads: Nova's records and the infra's view, never the truth.
pub struct InventoryView<'a, 'm> {
    sim: &'a Simulation<'m>,
}

impl InventoryView<'_, '_> {
    /// The server's `vm_state` as `VmView::status` reports it.
    fn vm_status(&self, v: VmId) -> api::VmStatus {
        let s = self.sim;
        if s.moves.busy(v) {
            api::VmStatus::Rebuilding
        } else if s.records.error(v) {
            api::VmStatus::Error
        } else if s.truth.vm(v).starting() {
            // Started and booting: ACTIVE once the domain runs, before the guest's OS is up.
            api::VmStatus::Active
        } else if s.truth.vm(v).crashed() || s.truth.vm(v).powered_off() {
            // The libvirt lifecycle event of a guest that stopped by itself makes Nova sync
            // its vm_state to stopped (`_sync_instance_power_state`); a guest left SHUTOFF or
            // stopped by its user reads stopped too.
            api::VmStatus::Stopped
        } else {
            api::VmStatus::Active
        }
    }
}

/// The inventory plus command execution, lent to a stepping policy for one step.
struct CloudView<'a, 'm> {
    sim: &'a mut Simulation<'m>,
}

impl api::Inventory for CloudView<'_, '_> {
    fn host_count(&self) -> u32 {
        InventoryView { sim: self.sim }.host_count()
    }

    fn vm_count(&self) -> u32 {
        InventoryView { sim: self.sim }.vm_count()
    }

    fn host(&self, id: u32) -> api::HostView {
        InventoryView { sim: self.sim }.host(id)
    }

    fn vms_on(&self, host: u32) -> Vec<api::VmView> {
        InventoryView { sim: self.sim }.vms_on(host)
    }

    fn vm(&self, id: u32) -> api::VmView {
        InventoryView { sim: self.sim }.vm(id)
    }

    fn any_evacuable_tagged(&self) -> bool {
        InventoryView { sim: self.sim }.any_evacuable_tagged()
    }
}

impl api::Cloud for CloudView<'_, '_> {
    fn execute(&mut self, command: Command) -> Result<(), Refusal> {
        self.sim.execute(command, true)
    }
}

impl api::Inventory for InventoryView<'_, '_> {
    fn host_count(&self) -> u32 {
        self.sim.truth.host_count() as u32
    }

    fn vm_count(&self) -> u32 {
        self.sim.truth.vm_count() as u32
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

    /// Servers whose Nova record names `host`: its residents, less those still moving in
    /// (their record names their source until the move ends), plus those moving away.
    fn vms_on(&self, host: u32) -> Vec<api::VmView> {
        let s = self.sim;
        let h = HostId(host);
        let arriving = |v: &VmId| s.moves.task(*v).is_some_and(|t| t.source != h);
        let mut ids: Vec<VmId> = s
            .truth
            .residents(h)
            .iter()
            .copied()
            .filter(|v| !arriving(v))
            .collect();
        let before = ids.len();
        ids.extend(s.moves.leaving(h));
        if ids.len() > before {
            ids.sort_unstable();
        }
        ids.into_iter().map(|v| self.vm(v.0)).collect()
    }

    fn vm(&self, id: u32) -> api::VmView {
        let s = self.sim;
        let v = VmId(id);
        let w = &s.model.workloads[s.model.vms[id as usize].workload.index()];
        let task = s.moves.task(v);
        api::VmView {
            id,
            // Nova's record names the source until the move ends.
            host: task.map_or(s.truth.vm(v).host(), |t| t.source).0,
            status: self.vm_status(v),
            task_state: task.map(|t| {
                if t.cold {
                    api::TaskState::ResizeMigrating
                } else {
                    api::TaskState::Rebuilding
                }
            }),
            ha_enabled: w.ha,
            automatic_restart: w.maintenance.automatic_restart,
            evacuable: w.tags.iter().any(|t| t == "evacuable"),
            fault_domain: s
                .model
                .topology
                .host(s.model.placement[id as usize])
                .fault_domain
                .0,
            locked: s.records.locked(v),
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
