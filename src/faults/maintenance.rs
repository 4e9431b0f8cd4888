//! Planned maintenance campaigns (`[[maintenance]]`): which hosts, how often, how many at once,
//! and what to do with their VMs. The runbook follows OpenStack's: disable the service,
//! live-migrate every VM away (block migration without shared storage), do the work, enable.
//! VMs that cannot live-migrate (GPU, spot: `on_host_maintenance = "terminate"`, GCE semantics)
//! get their notice, are stopped, and restart elsewhere with `automatic_restart` or when their
//! host is back.

use crate::core::time::SimDuration;
use crate::world::ids::HostId;

/// What the campaign does with a VM whose live migration aborted (it stays on its source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnAbort {
    /// Try the live migration again, up to `migration_retries` times, then cold-migrate.
    ColdMigrate,
    /// Leave the VM running on the host and skip the host's work this cycle.
    SkipHost,
}

#[derive(Clone, Debug)]
pub struct Campaign {
    pub name: String,
    /// The hosts the campaign cycles through, in order.
    pub hosts: Vec<HostId>,
    pub start: SimDuration,
    /// Repeat period (None: once).
    pub every: Option<SimDuration>,
    /// The work itself, host powered down (reboot included), after its VMs left.
    pub host_duration: SimDuration,
    pub max_concurrent_hosts: u32,
    pub max_concurrent_per_fault_domain: Option<u32>,
    /// Only take a host when at least this many hosts stay up, enabled and out of maintenance.
    pub min_available_hosts: u32,
    pub on_abort: OnAbort,
    pub migration_retries: u32,
    /// After the work, live-migrate the VMs that left back to their host (runbook's last step).
    pub migrate_back: bool,
}

pub use crate::world::vms::WorkloadMaintenance;
