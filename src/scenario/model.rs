//! The resolved, immutable scenario the simulator runs: typed ids only, every name resolved,
//! every default applied, initial placement done.

use crate::core::time::SimDuration;
use crate::faults::FailureModel;
use crate::infra::config::InfraConfig;
use crate::infra::scheduler::AllocationConfig;
use crate::metrics::expect::Expectation;
use crate::policy::PolicyConfig;
use crate::world::ids::HostId;
use crate::world::topology::Topology;
use crate::world::vms::{Flavor, ServerGroup, Vm, Workload};
use std::path::PathBuf;

/// Where the scenario came from, for reports and reproduction.
#[derive(Clone, Debug)]
pub struct Provenance {
    pub file: PathBuf,
    /// sha256 of the scenario file's bytes, before overrides.
    pub sha256: String,
    /// The `--set key=value` overrides applied, in command-line order.
    pub overrides: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SimulationConfig {
    pub horizon: SimDuration,
    pub replications: u32,
    pub seed: u64,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub description: String,
    pub provenance: Provenance,
    pub simulation: SimulationConfig,
    pub topology: Topology,
    pub flavors: Vec<Flavor>,
    pub workloads: Vec<Workload>,
    pub groups: Vec<ServerGroup>,
    pub vms: Vec<Vm>,
    /// Initial host of each VM, by `VmId` index.
    pub placement: Vec<HostId>,
    pub failures: FailureModel,
    /// The HA policy and its configuration (`[policy] name` plus its component table).
    pub policy: PolicyConfig,
    pub allocation: AllocationConfig,
    /// Timers and options of the mechanisms (Nova service group, Pacemaker, IPMI, PCA).
    pub infra: InfraConfig,
    /// Masakari reserved hosts: nova-compute disabled and empty until a recovery uses them.
    pub reserved_hosts: Vec<HostId>,
    /// Planned maintenance campaigns.
    pub maintenance: Vec<crate::faults::maintenance::Campaign>,
    /// `[expect]` checks, in file order.
    pub expectations: Vec<Expectation>,
}
