//! The contract between an HA controller and the cloud it controls: what it observes, what it
//! can read from the inventory, and the commands it can issue.
//!
//! A policy sees only this, never the simulator's ground truth. The simulator is one adapter
//! that produces `Observation`s and executes `Command`s; `hasim policy` (JSON lines on
//! stdin/stdout) is the production one. Ids are plain integers and every type is plain serde
//! data, so this module depends on nothing else in the crate.

use serde::{Deserialize, Serialize};

/// A compute host as the inventory shows it: os-services plus the Pacemaker node state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostView {
    pub id: u32,
    pub name: String,
    pub fault_domain: u32,
    /// nova-compute reported up by the service group (heartbeat younger than
    /// `service_down_time` and not forced down).
    pub service_up: bool,
    pub disabled: bool,
    pub forced_down: bool,
    /// Pacemaker sees the node (pacemaker_remote connection) online.
    pub node_online: bool,
    /// Listed as a reserved host of the failover segment (Masakari `reserved_host`).
    pub reserved: bool,
}

/// Nova's `task_state` while a move is in flight (the phase a controller sees most of the
/// move; Nova steps through rebuild_block_device_mapping / rebuild_spawning and resize_prep /
/// resize_migrated / resize_finish too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// An evacuation (rebuild on another host).
    Rebuilding,
    /// A cold migration.
    ResizeMigrating,
}

/// Nova's `vm_state` as a controller reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmStatus {
    Active,
    Stopped,
    Error,
    /// A move (evacuate/rebuild, cold migration) is in progress: `task_state` is not None.
    /// (Nova itself keeps `vm_state` while `task_state` says the move; `status` reports the
    /// move here for the policies written against it, and `task_state` has Nova's value.)
    Rebuilding,
}

/// A server as the inventory shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmView {
    pub id: u32,
    pub host: u32,
    pub status: VmStatus,
    /// Metadata `HA_Enabled=True` (Masakari).
    pub ha_enabled: bool,
    /// Flavor or image tagged `evacuable=true` (Red Hat Instance HA).
    pub evacuable: bool,
    pub fault_domain: u32,
    /// Nova's `locked` flag (`lock_server`). A locked server refuses actions of non-admin
    /// callers only: `check_instance_lock` in nova/compute/api.py raises `InstanceIsLocked`
    /// when `instance.locked and not context.is_admin`. Absent in input: false.
    #[serde(default)]
    pub locked: bool,
    /// Nova's `task_state`: `None` unless a move is in flight. Absent in input: `None`.
    #[serde(default)]
    pub task_state: Option<TaskState>,
    /// GCE `scheduling.automaticRestart` (default true; false for Spot and Preemptible VMs).
    #[serde(default = "yes")]
    pub automatic_restart: bool,
}

fn yes() -> bool {
    true
}

/// Read-only inventory (Nova API, Pacemaker CIB). Lookups are cheap; a policy asks for what it
/// needs instead of receiving a snapshot of the whole cloud with every observation.
///
/// Lookups are by id. `host` and `vm` may panic on an id that `has_host` / `has_vm` denies:
/// callers holding an id from outside (a protocol line) check it first.
pub trait Inventory {
    fn host_count(&self) -> u32;
    fn vm_count(&self) -> u32;
    fn has_host(&self, id: u32) -> bool {
        id < self.host_count()
    }
    fn has_vm(&self, id: u32) -> bool {
        id < self.vm_count()
    }
    /// Every host, in id order.
    fn hosts(&self) -> Vec<HostView> {
        (0..self.host_count()).map(|h| self.host(h)).collect()
    }
    fn host(&self, id: u32) -> HostView;
    /// Servers whose Nova record says `host`, in id order.
    fn vms_on(&self, host: u32) -> Vec<VmView>;
    fn vm(&self, id: u32) -> VmView;
    /// Whether any flavor or image in the cloud is tagged `evacuable` (fence_evacuate
    /// evacuates everything when nothing is).
    fn any_evacuable_tagged(&self) -> bool;
}

/// Result of an IPMI `power status` query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    On,
    Off,
    /// The BMC did not answer (masakari-monitors reports host_status UNKNOWN).
    Unknown,
}

/// Something a controller is told or notices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Observation {
    /// Pacemaker lost the node (pacemaker_remote connection monitor failed).
    NodeOffline { host: u32 },
    /// Pacemaker reconnected to the node.
    NodeOnline { host: u32 },
    /// Pacemaker's stonith (IPMI) finished a fencing attempt.
    Fenced { host: u32, ok: bool },
    /// Answer to `Command::CheckPower`.
    PowerStatus { host: u32, state: PowerState },
    /// An evacuation finished: the server is active on `host`, or failed with `reason`.
    EvacuateResult {
        vm: u32,
        ok: bool,
        host: Option<u32>,
        reason: Option<String>,
    },
    /// The platform declared a compute node failed: the Oracle PCA appliance's FAIL threshold
    /// passed, or GCE's control plane saw a host error.
    NodeFailed { host: u32 },
    /// A cold migration finished: the server is active on `host`, or failed with `reason`.
    MigrateResult {
        vm: u32,
        ok: bool,
        host: Option<u32>,
        reason: Option<String>,
    },
    /// A guest stopped unexpectedly (libvirt lifecycle STOPPED_FAILED, as masakari-monitors'
    /// instance monitor reports it).
    InstanceFailed { vm: u32 },
    /// A timer the policy asked for fired.
    Timer { token: u64 },
    /// An operator cleared the host's `on_maintenance` flag in Masakari's segment
    /// (`openstack segment host update --on_maintenance False`).
    MaintenanceCleared { host: u32 },
}

/// Where an evacuated server may go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Placement {
    /// The scheduler chooses among all valid hosts.
    Any,
    /// One named host (still validated by the scheduler, microversion ≥ 2.68).
    Host { host: u32 },
    /// Prefer (or, with `strict`, require) a fault domain.
    FaultDomain { fault_domain: u32, strict: bool },
}

/// What a controller may ask the cloud to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Command {
    DisableService {
        host: u32,
    },
    EnableService {
        host: u32,
    },
    /// os-services `forced_down` (API ≥ 2.11): the service counts as down at once.
    ForceDown {
        host: u32,
        down: bool,
    },
    /// IPMI `power status` of a host's BMC; answered by `Observation::PowerStatus`.
    CheckPower {
        host: u32,
    },
    /// Nova evacuate (rebuild elsewhere); answered by `Observation::EvacuateResult`.
    Evacuate {
        vm: u32,
        placement: Placement,
    },
    /// Cold-migrate a running server (stop, start on another host); answered by
    /// `Observation::MigrateResult`. PCA calls this a reboot migration.
    Migrate {
        vm: u32,
        placement: Placement,
    },
    /// Start a stopped server on its host (`os-start`).
    StartServer {
        vm: u32,
    },
    /// Stop a running server (`os-stop`): its guest is powered off and stays off until
    /// `StartServer`. A server that is not running is left as it is.
    StopServer {
        vm: u32,
    },
    /// Set Nova's `locked` flag (`lock`); see `VmView::locked` for what it refuses.
    LockServer {
        vm: u32,
    },
    /// Clear Nova's `locked` flag (`unlock`).
    UnlockServer {
        vm: u32,
    },
    /// `os-resetState`: overwrite the server's `vm_state` in Nova's database (and clear its
    /// `task_state`); an admin action that touches no hypervisor.
    ResetState {
        vm: u32,
        state: ResetTo,
    },
    /// Ask for an `Observation::Timer` after `after_us` microseconds.
    SetTimer {
        token: u64,
        after_us: u64,
    },
}

/// The `vm_state` `ResetState` may write (Nova's `os-resetState` accepts exactly these two).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetTo {
    Active,
    Error,
}

/// Why the cloud refused a command, as its API would answer at once (HTTP status and message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// 404 (no such host or server), 409 (conflict: locked, wrong state), 400 (bad request).
    pub code: u16,
    pub reason: String,
}

/// The inventory plus the commands' synchronous entry point: what a controller talks to while
/// it handles a step. `execute` runs a command at once, with its real effects; an accepted
/// command's outcome (an evacuation's end) still arrives later as an observation.
pub trait Cloud: Inventory {
    fn execute(&mut self, command: Command) -> Result<(), Refusal>;
}

/// An HA controller: a plain state machine driven by observations.
pub trait Policy: Send {
    /// The registered name (`none`, `masakari`, …).
    fn name(&self) -> &'static str;

    /// Reacts to one observation at `now_us` with zero or more commands, in order.
    fn on_observation(
        &mut self,
        now_us: u64,
        inv: &dyn Inventory,
        obs: &Observation,
    ) -> Vec<Command>;

    /// Called once when the replication starts (at time 0), before any observation; returns
    /// commands to run then (an external controller's `ready`).
    fn begin(&mut self, _now_us: u64, _cloud: &mut dyn Cloud) -> Vec<Command> {
        Vec::new()
    }

    /// Whether the policy takes every observation of one instant at once (`on_step`) instead
    /// of one at a time. The built-in policies do not; an external controller does.
    fn takes_steps(&self) -> bool {
        false
    }

    /// Reacts to every observation of one instant, in the simulator's order, with access to
    /// the cloud's synchronous API; returns further commands to run in order afterwards.
    fn on_step(
        &mut self,
        now_us: u64,
        cloud: &mut dyn Cloud,
        observations: &[Observation],
    ) -> Vec<Command> {
        let mut out = Vec::new();
        for o in observations {
            out.extend(self.on_observation(now_us, &*cloud, o));
        }
        out
    }

    /// A failure that must stop the run (a controller that broke with `on_crash = "fail"`,
    /// or a wall-clock guard): the message, taken once.
    fn take_fatal(&mut self) -> Option<String> {
        None
    }

    /// The replication ended at `now_us` (the horizon).
    fn end(&mut self, _now_us: u64) {}

    /// Whether the policy calls Nova with an admin context (every built-in controller does:
    /// Masakari and Instance HA are configured with admin credentials).
    fn admin(&self) -> bool {
        true
    }

    /// What happened to the controller process itself (an external one), for the metrics.
    fn controller_stats(&self) -> ControllerStats {
        ControllerStats::default()
    }
}

/// A controller process's own history in one replication.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControllerStats {
    /// Times it exited, broke the protocol or was found dead.
    pub crashes: u64,
    /// Times it was started again (`on_crash = "restart"`).
    pub restarts: u64,
    /// Observations that arrived while it was down (lost, as for a dead masakari-engine).
    pub observations_lost: u64,
    /// Steps it handled.
    pub steps: u64,
}

/// A whole inventory as plain data: what the production adapter reads from its input, and
/// what the simulator records next to each observation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySnapshot {
    pub hosts: Vec<HostView>,
    pub vms: Vec<VmView>,
    pub any_evacuable_tagged: bool,
}

impl InventorySnapshot {
    pub fn of(inv: &dyn Inventory) -> Self {
        let hosts = inv.hosts();
        let mut vms: Vec<VmView> = hosts.iter().flat_map(|h| inv.vms_on(h.id)).collect();
        vms.sort_by_key(|v| v.id);
        InventorySnapshot {
            hosts,
            vms,
            any_evacuable_tagged: inv.any_evacuable_tagged(),
        }
    }

    /// Sorts hosts and servers by id, as lookups need; a duplicate id is an error naming it.
    pub fn index(mut self) -> Result<Self, String> {
        self.hosts.sort_by_key(|h| h.id);
        self.vms.sort_by_key(|v| (v.id, v.host));
        if let Some(w) = self.hosts.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(format!("inventory lists host id {} twice", w[0].id));
        }
        if let Some(w) = self.vms.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(format!("inventory lists server id {} twice", w[0].id));
        }
        Ok(self)
    }

    fn host_at(&self, id: u32) -> Option<&HostView> {
        self.hosts
            .binary_search_by_key(&id, |h| h.id)
            .ok()
            .map(|i| &self.hosts[i])
    }

    fn vm_at(&self, id: u32) -> Option<&VmView> {
        self.vms
            .binary_search_by_key(&id, |v| v.id)
            .ok()
            .map(|i| &self.vms[i])
    }
}

/// Lookups by id (binary search: `index` sorts; `of` builds sorted).
impl Inventory for InventorySnapshot {
    fn host_count(&self) -> u32 {
        self.hosts.len() as u32
    }

    fn vm_count(&self) -> u32 {
        self.vms.len() as u32
    }

    fn has_host(&self, id: u32) -> bool {
        self.host_at(id).is_some()
    }

    fn has_vm(&self, id: u32) -> bool {
        self.vm_at(id).is_some()
    }

    fn hosts(&self) -> Vec<HostView> {
        self.hosts.clone()
    }

    fn host(&self, id: u32) -> HostView {
        self.host_at(id).cloned().expect("host in inventory")
    }

    fn vms_on(&self, host: u32) -> Vec<VmView> {
        self.vms
            .iter()
            .filter(|v| v.host == host)
            .cloned()
            .collect()
    }

    fn vm(&self, id: u32) -> VmView {
        self.vm_at(id).cloned().expect("server in inventory")
    }

    fn any_evacuable_tagged(&self) -> bool {
        self.any_evacuable_tagged
    }
}
