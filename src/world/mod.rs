//! Ground truth: the topology, the VMs and where they really run.
//!
//! Owns the physical world that the simulator changes and that policies never read. Policies see
//! the world only through `infra/` observations and `policy::api::ClusterView`.

pub mod ids;
pub mod topology;
pub mod truth;
pub mod vms;
