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

/// Nova's `vm_state` as a controller reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmStatus {
    Active,
    Stopped,
    Error,
    /// A move (evacuate/rebuild) is in progress: `task_state` is not None.
    Rebuilding,
}

/// A server as the inventory shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmView {
    pub id: u32,
    pub host: u32,
    pub status: VmStatus,
    /// Metadata `HA_Enabled=True` (Masakari).
    pub ha_enabled: bool,
    /// Flavor or image tagged `evacuable=true` (Red Hat Instance HA).
    pub evacuable: bool,
    pub fault_domain: u32,
    /// GCE `scheduling.automaticRestart` (default true; false for Spot and Preemptible VMs).
    #[serde(default = "yes")]
    pub automatic_restart: bool,
}

fn yes() -> bool {
    true
}

/// Read-only inventory (Nova API, Pacemaker CIB). Lookups are cheap; a policy asks for what it
/// needs instead of receiving a snapshot of the whole cloud with every observation.
pub trait Inventory {
    fn host_count(&self) -> u32;
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
#[serde(rename_all = "snake_case", tag = "type")]
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
#[serde(rename_all = "snake_case", tag = "type")]
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
#[serde(rename_all = "snake_case", tag = "type")]
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
    /// Ask for an `Observation::Timer` after `after_us` microseconds.
    SetTimer {
        token: u64,
        after_us: u64,
    },
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
}

/// A whole inventory as plain data: what the production adapter reads from its input, and
/// what the simulator records next to each observation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventorySnapshot {
    pub hosts: Vec<HostView>,
    pub vms: Vec<VmView>,
    pub any_evacuable_tagged: bool,
}

impl InventorySnapshot {
    pub fn of(inv: &dyn Inventory) -> Self {
        let hosts: Vec<HostView> = (0..inv.host_count()).map(|h| inv.host(h)).collect();
        let mut vms: Vec<VmView> = hosts.iter().flat_map(|h| inv.vms_on(h.id)).collect();
        vms.sort_by_key(|v| v.id);
        InventorySnapshot {
            hosts,
            vms,
            any_evacuable_tagged: inv.any_evacuable_tagged(),
        }
    }
}

impl Inventory for InventorySnapshot {
    fn host_count(&self) -> u32 {
        self.hosts.len() as u32
    }

    fn host(&self, id: u32) -> HostView {
        self.hosts[id as usize].clone()
    }

    fn vms_on(&self, host: u32) -> Vec<VmView> {
        self.vms
            .iter()
            .filter(|v| v.host == host)
            .cloned()
            .collect()
    }

    fn vm(&self, id: u32) -> VmView {
        self.vms
            .iter()
            .find(|v| v.id == id)
            .cloned()
            .expect("server in inventory")
    }

    fn any_evacuable_tagged(&self) -> bool {
        self.any_evacuable_tagged
    }
}
