//! The physical layout: zone ⊃ fault domain ⊃ rack ⊃ host, and the hardware of each host.
//!
//! Immutable once built by validation. Every element knows its parents, so a correlated outage
//! of any level can list its hosts without searching.

use super::ids::{FaultDomainId, HostId, HostTypeId, RackId, ZoneId};
use crate::core::time::SimDuration;

#[derive(Clone, Debug)]
pub struct HostType {
    pub name: String,
    pub vcpus: u32,
    pub ram_gib: u32,
    /// Local disk for image-backed VMs; `None` when the scenario gives none (then no workload
    /// may use `storage = "local"` on it).
    pub disk_gib: Option<u32>,
    pub nic_gbps: f64,
    /// Power-on to hypervisor ready, after a repair.
    pub boot_time: SimDuration,
}

#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct FaultDomain {
    pub name: String,
    pub zone: ZoneId,
}

#[derive(Clone, Debug)]
pub struct Rack {
    pub name: String,
    pub fault_domain: FaultDomainId,
    pub zone: ZoneId,
}

#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    pub rack: RackId,
    pub fault_domain: FaultDomainId,
    pub zone: ZoneId,
    pub host_type: HostTypeId,
}

/// Which level of the hierarchy a correlated outage takes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainLevel {
    Rack,
    FaultDomain,
    Zone,
}

impl DomainLevel {
    pub fn name(self) -> &'static str {
        match self {
            DomainLevel::Rack => "rack",
            DomainLevel::FaultDomain => "fault_domain",
            DomainLevel::Zone => "zone",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Topology {
    pub host_types: Vec<HostType>,
    pub zones: Vec<Zone>,
    pub fault_domains: Vec<FaultDomain>,
    pub racks: Vec<Rack>,
    pub hosts: Vec<Host>,
}

impl Topology {
    pub fn host(&self, h: HostId) -> &Host {
        &self.hosts[h.index()]
    }

    pub fn host_type_of(&self, h: HostId) -> &HostType {
        &self.host_types[self.host(h).host_type.index()]
    }

    pub fn host_ids(&self) -> impl Iterator<Item = HostId> {
        (0..self.hosts.len() as u32).map(HostId)
    }

    /// The hosts of every domain at `level`, in domain order; each list is in host order.
    /// The hosts of every domain at `level`, in domain order; each list is in host order.
    pub fn domains(&self, level: DomainLevel) -> Vec<(String, Vec<HostId>)> {
        let names: Vec<String> = match level {
            DomainLevel::Rack => self.racks.iter().map(|r| r.name.clone()).collect(),
            DomainLevel::FaultDomain => self.fault_domains.iter().map(|f| f.name.clone()).collect(),
            DomainLevel::Zone => self.zones.iter().map(|z| z.name.clone()).collect(),
        };
        let mut out: Vec<(String, Vec<HostId>)> =
            names.into_iter().map(|n| (n, Vec::new())).collect();
        for (i, h) in self.hosts.iter().enumerate() {
            let d = match level {
                DomainLevel::Rack => h.rack.index(),
                DomainLevel::FaultDomain => h.fault_domain.index(),
                DomainLevel::Zone => h.zone.index(),
            };
            out[d].1.push(HostId(i as u32));
        }
        out
    }
}
