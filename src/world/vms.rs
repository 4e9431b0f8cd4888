//! VM definitions: flavors, workloads, server groups and the individual VMs.

use super::ids::{FlavorId, ServerGroupId, WorkloadId};
use crate::core::time::SimDuration;

#[derive(Clone, Debug)]
pub struct Flavor {
    pub name: String,
    pub vcpus: u32,
    pub ram_gib: u32,
    pub disk_gib: u32,
}

/// Where a VM's disks live; decides what an evacuation keeps (Nova evacuate semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Instance directory on shared storage (NFS, Ceph RBD): survives the host.
    Shared,
    /// Image-backed local disk: lost with the host, rebuilt from the image on evacuation.
    Local,
    /// Boot from a Cinder volume: re-attached on the new host.
    Volume,
}

impl Storage {
    pub fn name(self) -> &'static str {
        match self {
            Storage::Shared => "shared",
            Storage::Local => "local",
            Storage::Volume => "volume",
        }
    }
}

/// Nova server-group policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupPolicy {
    /// Hard: at most one member per host (`max_server_per_host` 1, ServerGroupAntiAffinityFilter).
    AntiAffinity,
    /// Hard: all members on one host.
    Affinity,
    /// Weigher only: prefer hosts with fewer members, violations allowed.
    SoftAntiAffinity,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    pub count: u32,
    pub flavor: FlavorId,
    pub storage: Storage,
    /// Guest boot to "running" after the hypervisor starts it.
    pub boot_time: SimDuration,
    pub ha: bool,
    /// `initial_state = "stopped"`: its VMs begin stopped by their user (Nova SHUTOFF); they
    /// hold their allocation (Nova frees resources only on delete or shelve-offload:
    /// `vm_states.ALLOW_RESOURCE_REMOVAL`), are not evacuated or migrated, and count neither
    /// up nor down.
    pub initially_stopped: bool,
    /// Moves stay in the VM's availability zone (default true): Nova schedules evacuations
    /// and migrations of a server booted into a requested AZ only within it
    /// (RequestSpec.availability_zone); GCE instances are zonal ("to another host in the same
    /// zone", production-ha.md §4). `pin_zone = false`: the server was booted without an AZ,
    /// so moves may cross zones.
    pub pin_zone: bool,
    pub tags: Vec<String>,
    pub maintenance: WorkloadMaintenance,
}

#[derive(Clone, Debug)]
pub struct ServerGroup {
    pub policy: GroupPolicy,
    pub workload: WorkloadId,
}

#[derive(Clone, Debug)]
pub struct Vm {
    pub name: String,
    pub workload: WorkloadId,
    pub flavor: FlavorId,
    pub group: Option<ServerGroupId>,
}

/// Maintenance settings of one workload.
#[derive(Clone, Debug)]
pub struct WorkloadMaintenance {
    /// GCE `onHostMaintenance`: live-migrate (true, the default) or terminate.
    pub migrate: bool,
    /// GCE `automaticRestart` = true: a terminated VM is restarted elsewhere at once.
    pub automatic_restart: bool,
    /// Notice before a terminating VM is stopped (GCE: 60 min for GPU VMs, 30 s for spot).
    pub notice: SimDuration,
    /// Memory dirty rate per VM, MiB/s (a distribution drawn once per VM and replication).
    pub dirty_rate_mib_s: crate::core::dist::DurationDist,
    /// Writable working set cap, MiB.
    pub wws_mib: Option<u64>,
}

impl Default for WorkloadMaintenance {
    fn default() -> Self {
        WorkloadMaintenance {
            migrate: true,
            automatic_restart: true,
            notice: SimDuration::ZERO,
            dirty_rate_mib_s: crate::core::dist::DurationDist::Fixed {
                value: SimDuration(0),
            },
            wws_mib: None,
        }
    }
}
