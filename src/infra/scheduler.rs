//! Placement modelled on Nova's filter scheduler.
//!
//! Filters: RAM, vCPU and local disk with allocation ratios, and the server-group filters. Weighing
//! (highest wins): spread a workload across fault domains, then soft anti-affinity, then Nova's
//! RAMWeigher (most free RAM, `ram_weight_multiplier` 1.0 spreads), ties to the lowest host id.
//! Defaults, from `reference/production-ha.md` §1.5 and nova/conf/compute.py:
//! `initial_cpu_allocation_ratio` 4.0, `initial_ram_allocation_ratio` 1.0,
//! `initial_disk_allocation_ratio` 1.0, `reserved_host_memory_mb` 512.

use crate::world::ids::{HostId, ServerGroupId};
use crate::world::topology::Topology;
use crate::world::vms::{Flavor, GroupPolicy, ServerGroup, Storage, Vm, Workload};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// The `[nova]` options that placement reads.
#[derive(Clone, Debug)]
pub struct AllocationConfig {
    /// nova/conf/compute.py:530 `initial_cpu_allocation_ratio` = 4.0.
    pub cpu_allocation_ratio: f64,
    /// nova/conf/compute.py:546 `initial_ram_allocation_ratio` = 1.0.
    pub ram_allocation_ratio: f64,
    /// nova/conf/compute.py:562 `initial_disk_allocation_ratio` = 1.0.
    pub disk_allocation_ratio: f64,
    /// nova/conf/compute.py:392 `reserved_host_memory_mb` = 512.
    pub reserved_host_memory_mb: u64,
}

impl Default for AllocationConfig {
    fn default() -> Self {
        AllocationConfig {
            cpu_allocation_ratio: 4.0,
            ram_allocation_ratio: 1.0,
            disk_allocation_ratio: 1.0,
            reserved_host_memory_mb: 512,
        }
    }
}

/// Schedulable capacity and current usage of one host.
#[derive(Clone, Debug, Default)]
pub struct HostUsage {
    pub vcpus_cap: u64,
    pub ram_mib_cap: u64,
    pub disk_gib_cap: u64,
    pub vcpus_used: u64,
    pub ram_mib_used: u64,
    pub disk_gib_used: u64,
}

/// Resources one VM claims.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    pub vcpus: u64,
    pub ram_mib: u64,
    pub disk_gib: u64,
}

impl Claim {
    pub fn of(flavor: &Flavor, storage: Storage) -> Claim {
        Claim {
            vcpus: u64::from(flavor.vcpus),
            ram_mib: u64::from(flavor.ram_gib) * 1024,
            // Only image-backed local disks live on the host; shared and volume storage do not.
            disk_gib: if storage == Storage::Local {
                u64::from(flavor.disk_gib)
            } else {
                0
            },
        }
    }
}

impl HostUsage {
    pub fn fits(&self, c: &Claim) -> bool {
        self.vcpus_used + c.vcpus <= self.vcpus_cap
            && self.ram_mib_used + c.ram_mib <= self.ram_mib_cap
            && self.disk_gib_used + c.disk_gib <= self.disk_gib_cap
    }

    pub fn add(&mut self, c: &Claim) {
        self.vcpus_used += c.vcpus;
        self.ram_mib_used += c.ram_mib;
        self.disk_gib_used += c.disk_gib;
    }

    pub fn remove(&mut self, c: &Claim) {
        self.vcpus_used -= c.vcpus;
        self.ram_mib_used -= c.ram_mib;
        self.disk_gib_used -= c.disk_gib;
    }

    pub fn free_ram_mib(&self) -> u64 {
        self.ram_mib_cap.saturating_sub(self.ram_mib_used)
    }
}

/// Capacity of every host under the allocation ratios.
pub fn host_capacities(topo: &Topology, cfg: &AllocationConfig) -> Vec<HostUsage> {
    topo.hosts
        .iter()
        .map(|h| {
            let t = &topo.host_types[h.host_type.index()];
            let ram_mib = (u64::from(t.ram_gib) * 1024).saturating_sub(cfg.reserved_host_memory_mb);
            HostUsage {
                vcpus_cap: (f64::from(t.vcpus) * cfg.cpu_allocation_ratio).floor() as u64,
                ram_mib_cap: (ram_mib as f64 * cfg.ram_allocation_ratio).floor() as u64,
                disk_gib_cap: t
                    .disk_gib
                    .map(|d| (f64::from(d) * cfg.disk_allocation_ratio).floor() as u64)
                    .unwrap_or(0),
                ..HostUsage::default()
            }
        })
        .collect()
}

/// What could not be placed, for the validation message.
#[derive(Clone, Debug, Default)]
pub struct Shortfall {
    /// Unplaced VMs per workload index.
    pub unplaced: BTreeMap<usize, u32>,
    pub vcpus_missing: u64,
    pub ram_gib_missing: u64,
    pub disk_gib_missing: u64,
}

/// Hosts of each fault domain ordered by the RAM weigher: most free RAM first, then lowest id.
/// Lets placement look at the few best hosts instead of scanning the fleet for every VM.
struct WeighedHosts {
    by_fd: Vec<BTreeSet<(Reverse<u64>, HostId)>>,
}

impl WeighedHosts {
    fn new(topo: &Topology, usage: &[HostUsage]) -> Self {
        let mut by_fd = vec![BTreeSet::new(); topo.fault_domains.len()];
        for h in topo.host_ids() {
            by_fd[topo.host(h).fault_domain.index()]
                .insert((Reverse(usage[h.index()].free_ram_mib()), h));
        }
        WeighedHosts { by_fd }
    }

    fn claim(&mut self, topo: &Topology, usage: &mut [HostUsage], h: HostId, c: &Claim) {
        let set = &mut self.by_fd[topo.host(h).fault_domain.index()];
        set.remove(&(Reverse(usage[h.index()].free_ram_mib()), h));
        usage[h.index()].add(c);
        set.insert((Reverse(usage[h.index()].free_ram_mib()), h));
    }
}

/// Server-group bookkeeping during placement.
#[derive(Default)]
struct GroupState {
    members: BTreeMap<(ServerGroupId, HostId), u32>,
    pinned: BTreeMap<ServerGroupId, HostId>,
}

/// The best host of one fault domain for a claim: passes the filters, then fewest soft
/// anti-affinity members, then most free RAM, then lowest id. Returns `(soft, host)`.
fn best_in_fd(
    set: &BTreeSet<(Reverse<u64>, HostId)>,
    usage: &[HostUsage],
    claim: &Claim,
    policy: Option<(ServerGroupId, GroupPolicy)>,
    groups: &GroupState,
) -> Option<(u32, Reverse<u64>, HostId)> {
    let mut best: Option<(u32, Reverse<u64>, HostId)> = None;
    for &(ram, h) in set {
        // Hosts come in weigher order: once one fits with no soft penalty, nothing later beats it.
        if !usage[h.index()].fits(claim) {
            continue;
        }
        let members = policy
            .map(|(g, _)| *groups.members.get(&(g, h)).unwrap_or(&0))
            .unwrap_or(0);
        let soft = match policy {
            Some((_, GroupPolicy::AntiAffinity)) if members > 0 => continue,
            Some((_, GroupPolicy::SoftAntiAffinity)) => members,
            _ => 0,
        };
        if best.is_none_or(|b| (soft, ram, h) < b) {
            best = Some((soft, ram, h));
        }
        if soft == 0 {
            break;
        }
    }
    best
}

/// Initial placement of every VM, in VM order; `Err` lists what did not fit.
pub fn place_all(
    topo: &Topology,
    flavors: &[Flavor],
    workloads: &[Workload],
    groups: &[ServerGroup],
    vms: &[Vm],
    cfg: &AllocationConfig,
    excluded: &[HostId],
) -> Result<Vec<HostId>, Shortfall> {
    let mut usage = host_capacities(topo, cfg);
    let mut weighed = WeighedHosts::new(topo, &usage);
    // Disabled hosts (reserved spares) take no initial servers.
    for h in excluded {
        weighed.by_fd[topo.host(*h).fault_domain.index()]
            .remove(&(Reverse(usage[h.index()].free_ram_mib()), *h));
    }
    let n_fd = topo.fault_domains.len();
    // Members of each workload per fault domain: the spread weigher's input.
    let mut per_fd: Vec<Vec<u32>> = vec![vec![0; n_fd]; workloads.len()];
    let mut gs = GroupState::default();
    let mut placement = Vec::with_capacity(vms.len());
    let mut shortfall = Shortfall::default();

    for vm in vms.iter() {
        let w = &workloads[vm.workload.index()];
        let claim = Claim::of(&flavors[vm.flavor.index()], w.storage);
        let policy = vm.group.map(|g| (g, groups[g.index()].policy));
        let pinned = match policy {
            Some((g, GroupPolicy::Affinity)) => gs.pinned.get(&g).copied(),
            _ => None,
        };
        let chosen = if let Some(h) = pinned {
            usage[h.index()].fits(&claim).then_some(h)
        } else {
            // Fault domains from least to most used by this workload; among equally used ones
            // the best host wins, so spreading comes first and the RAM weigher second.
            let counts = &per_fd[vm.workload.index()];
            let mut order: Vec<usize> = (0..n_fd).collect();
            order.sort_by_key(|&f| (counts[f], f));
            let mut chosen = None;
            let mut i = 0;
            while i < order.len() && chosen.is_none() {
                let level = counts[order[i]];
                let mut best: Option<(u32, Reverse<u64>, HostId)> = None;
                while i < order.len() && counts[order[i]] == level {
                    if let Some(c) =
                        best_in_fd(&weighed.by_fd[order[i]], &usage, &claim, policy, &gs)
                    {
                        if best.is_none_or(|b| c < b) {
                            best = Some(c);
                        }
                    }
                    i += 1;
                }
                chosen = best.map(|b| b.2);
            }
            chosen
        };
        match chosen {
            Some(h) => {
                weighed.claim(topo, &mut usage, h, &claim);
                per_fd[vm.workload.index()][topo.host(h).fault_domain.index()] += 1;
                if let Some((g, p)) = policy {
                    *gs.members.entry((g, h)).or_insert(0) += 1;
                    if p == GroupPolicy::Affinity {
                        gs.pinned.entry(g).or_insert(h);
                    }
                }
                placement.push(h);
            }
            None => {
                *shortfall.unplaced.entry(vm.workload.index()).or_insert(0) += 1;
                placement.push(HostId(u32::MAX));
            }
        }
    }
    if shortfall.unplaced.is_empty() {
        return Ok(placement);
    }
    // Report the aggregate gap: demand of every VM against the capacity of every host.
    let mut demand = Claim {
        vcpus: 0,
        ram_mib: 0,
        disk_gib: 0,
    };
    for vm in vms {
        let c = Claim::of(
            &flavors[vm.flavor.index()],
            workloads[vm.workload.index()].storage,
        );
        demand.vcpus += c.vcpus;
        demand.ram_mib += c.ram_mib;
        demand.disk_gib += c.disk_gib;
    }
    let cap = host_capacities(topo, cfg);
    let (cpu, ram, disk) = cap.iter().fold((0, 0, 0), |a, u| {
        (a.0 + u.vcpus_cap, a.1 + u.ram_mib_cap, a.2 + u.disk_gib_cap)
    });
    shortfall.vcpus_missing = demand.vcpus.saturating_sub(cpu);
    shortfall.ram_gib_missing = demand.ram_mib.saturating_sub(ram).div_ceil(1024);
    shortfall.disk_gib_missing = demand.disk_gib.saturating_sub(disk);
    Err(shortfall)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimDuration;
    use crate::world::ids::{FaultDomainId, FlavorId, HostTypeId, RackId, WorkloadId, ZoneId};
    use crate::world::topology::{FaultDomain, Host, HostType, Rack, Zone};

    /// `fds` fault domains of `per_fd` hosts, each 16 vCPU / 64 GiB.
    fn topo(fds: u32, per_fd: u32) -> Topology {
        let mut t = Topology {
            host_types: vec![HostType {
                name: "h".into(),
                vcpus: 16,
                ram_gib: 64,
                disk_gib: Some(100),
                nic_gbps: 10.0,
                boot_time: SimDuration::ZERO,
            }],
            zones: vec![Zone { name: "z".into() }],
            ..Topology::default()
        };
        for f in 0..fds {
            t.fault_domains.push(FaultDomain {
                name: format!("fd{f}"),
                zone: ZoneId(0),
            });
            t.racks.push(Rack {
                name: format!("r{f}"),
                fault_domain: FaultDomainId(f),
                zone: ZoneId(0),
            });
            for h in 0..per_fd {
                t.hosts.push(Host {
                    name: format!("fd{f}-h{h}"),
                    rack: RackId(f),
                    fault_domain: FaultDomainId(f),
                    zone: ZoneId(0),
                    host_type: HostTypeId(0),
                });
            }
        }
        t
    }

    fn workload(count: u32, storage: Storage) -> Workload {
        Workload {
            name: "w".into(),
            count,
            flavor: FlavorId(0),
            storage,
            boot_time: SimDuration::ZERO,
            ha: true,
            initially_stopped: false,
            pin_zone: true,
            tags: vec![],
            maintenance: Default::default(),
        }
    }

    fn flavor(vcpus: u32, ram_gib: u32, disk_gib: u32) -> Flavor {
        Flavor {
            name: "f".into(),
            vcpus,
            ram_gib,
            disk_gib,
        }
    }

    fn vms(n: u32, group: Option<u32>) -> Vec<Vm> {
        (0..n)
            .map(|i| Vm {
                name: format!("v{i}"),
                workload: WorkloadId(0),
                flavor: FlavorId(0),
                group: group.map(ServerGroupId),
            })
            .collect()
    }

    #[test]
    fn capacity_applies_ratios_and_reserved_memory() {
        let cap = host_capacities(&topo(1, 1), &AllocationConfig::default());
        assert_eq!(cap[0].vcpus_cap, 64, "16 vCPUs × cpu_allocation_ratio 4.0");
        assert_eq!(
            cap[0].ram_mib_cap,
            64 * 1024 - 512,
            "reserved_host_memory_mb 512"
        );
        assert_eq!(cap[0].disk_gib_cap, 100);
    }

    #[test]
    fn spreads_a_workload_across_fault_domains() {
        let t = topo(3, 4);
        let p = place_all(
            &t,
            &[flavor(1, 1, 0)],
            &[workload(6, Storage::Shared)],
            &[],
            &vms(6, None),
            &AllocationConfig::default(),
            &[],
        )
        .unwrap();
        let mut per_fd = [0; 3];
        for h in &p {
            per_fd[t.host(*h).fault_domain.index()] += 1;
        }
        assert_eq!(per_fd, [2, 2, 2]);
    }

    #[test]
    fn anti_affinity_puts_members_on_distinct_hosts_and_affinity_on_one() {
        let t = topo(1, 4);
        let cfg = AllocationConfig::default();
        let anti = [ServerGroup {
            policy: GroupPolicy::AntiAffinity,
            workload: WorkloadId(0),
        }];
        let p = place_all(
            &t,
            &[flavor(1, 1, 0)],
            &[workload(4, Storage::Shared)],
            &anti,
            &vms(4, Some(0)),
            &cfg,
            &[],
        )
        .unwrap();
        let mut hosts: Vec<_> = p.clone();
        hosts.dedup();
        assert_eq!(hosts.len(), 4);
        // A fifth member has nowhere to go.
        let short = place_all(
            &t,
            &[flavor(1, 1, 0)],
            &[workload(5, Storage::Shared)],
            &anti,
            &vms(5, Some(0)),
            &cfg,
            &[],
        )
        .unwrap_err();
        assert_eq!(short.unplaced[&0], 1);
        assert_eq!(
            short.vcpus_missing + short.ram_gib_missing + short.disk_gib_missing,
            0
        );

        let aff = [ServerGroup {
            policy: GroupPolicy::Affinity,
            workload: WorkloadId(0),
        }];
        let p = place_all(
            &t,
            &[flavor(1, 1, 0)],
            &[workload(4, Storage::Shared)],
            &aff,
            &vms(4, Some(0)),
            &cfg,
            &[],
        )
        .unwrap();
        assert!(p.iter().all(|h| *h == p[0]));
    }

    #[test]
    fn only_local_storage_claims_host_disk() {
        let t = topo(1, 1);
        let cfg = AllocationConfig::default();
        // 100 GiB of disk: two 60 GiB local disks do not fit, two shared ones do.
        let shared = place_all(
            &t,
            &[flavor(1, 1, 60)],
            &[workload(2, Storage::Shared)],
            &[],
            &vms(2, None),
            &cfg,
            &[],
        );
        assert!(shared.is_ok());
        let local = place_all(
            &t,
            &[flavor(1, 1, 60)],
            &[workload(2, Storage::Local)],
            &[],
            &vms(2, None),
            &cfg,
            &[],
        )
        .unwrap_err();
        assert_eq!(local.disk_gib_missing, 20);
    }
}
