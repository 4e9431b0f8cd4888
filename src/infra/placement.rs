//! Nova's scheduler at run time: what each host has allocated, the allocations of evacuated
//! VMs still held against their dead source, server-group membership, and the choice of a
//! move's target (ComputeFilter: enabled, out of maintenance and up; RAM/CPU/disk with the
//! held allocations counted; hard server-group rules; then the RAM weigher), kept within the
//! VM's availability zone when the request pins it (Nova's RequestSpec.availability_zone; GCE
//! "to another host in the same zone").

use super::scheduler::{Claim, HostUsage};
use super::servicegroup::ServiceState;
use super::weigher_index::{Verdict, WeigherIndex};
use crate::policy::api::Placement as Where;
use crate::world::ids::{HostId, ServerGroupId};
use crate::world::vms::GroupPolicy;
use std::collections::BTreeMap;

pub struct Placement {
    usage: Vec<HostUsage>,
    /// Allocations of evacuated VMs still counted against their old host until its
    /// nova-compute restarts (`_destroy_evacuated_instances`).
    held: Vec<Vec<Claim>>,
    members: BTreeMap<(ServerGroupId, HostId), u32>,
    /// Hosts that may take a move (enabled, out of maintenance, not parked), by free RAM.
    index: WeigherIndex,
    listed: Vec<bool>,
    /// Hosts a search found down until their service changes (`ServiceState::DownUntilChanged`):
    /// out of the index until `service_changed`, since every search would reject them. Without
    /// this a dead host that Nova still lists (most free RAM once evacuated) is rejected by
    /// every search while it is down: at 50k hosts, a fifth of the run.
    parked: Vec<bool>,
    /// Zone of each host and of each fault domain.
    zone_of_host: Vec<u32>,
    zone_of_fd: Vec<u32>,
    /// Each zone's fault domains as one contiguous range `first..=last`, or its list when the
    /// topology numbered them apart (explicit `[[racks]]`).
    zone_fds: Vec<ZoneFds>,
}

enum ZoneFds {
    Range(usize, usize),
    List(Vec<usize>),
}

/// What the scheduler needs to know of the VM being moved.
pub struct Request {
    pub claim: Claim,
    pub group: Option<(ServerGroupId, GroupPolicy)>,
    pub source: HostId,
    /// Keep the move within this zone.
    pub zone: Option<u32>,
}

impl Placement {
    /// `usage` already holds the initial placement; `members` its server-group counts. Every
    /// host starts listed unless `unlisted`.
    pub fn new(
        usage: Vec<HostUsage>,
        members: BTreeMap<(ServerGroupId, HostId), u32>,
        fault_domain: &[usize],
        zone_of_fd: &[u32],
        unlisted: &[HostId],
    ) -> Self {
        let n_fd = zone_of_fd.len();
        let n_zones = zone_of_fd
            .iter()
            .map(|z| *z as usize + 1)
            .max()
            .unwrap_or(0);
        let zone_fds = (0..n_zones)
            .map(|z| {
                let fds: Vec<usize> = (0..n_fd).filter(|f| zone_of_fd[*f] as usize == z).collect();
                match (fds.first(), fds.last()) {
                    (Some(&a), Some(&b)) if b - a + 1 == fds.len() => ZoneFds::Range(a, b),
                    _ => ZoneFds::List(fds),
                }
            })
            .collect();
        let zone_of_host = fault_domain.iter().map(|f| zone_of_fd[*f]).collect();
        let mut index = WeigherIndex::new(fault_domain, n_fd);
        let mut listed = vec![true; usage.len()];
        for h in unlisted {
            listed[h.index()] = false;
        }
        for (h, u) in usage.iter().enumerate() {
            if listed[h] {
                index.set(HostId(h as u32), Some(u.free_ram_mib()));
            }
        }
        Placement {
            held: vec![Vec::new(); usage.len()],
            parked: vec![false; usage.len()],
            usage,
            members,
            index,
            listed,
            zone_of_host,
            zone_of_fd: zone_of_fd.to_vec(),
            zone_fds,
        }
    }

    pub fn usage(&self, h: HostId) -> &HostUsage {
        &self.usage[h.index()]
    }

    pub fn held(&self, h: HostId) -> &[Claim] {
        &self.held[h.index()]
    }

    /// Whether the host may take moves at all (enabled and out of maintenance).
    pub fn set_listed(&mut self, h: HostId, listed: bool) {
        if self.listed[h.index()] != listed {
            self.listed[h.index()] = listed;
            self.reindex(h);
        }
    }

    /// The host's service record changed (reporting stopped or resumed, forced down or not):
    /// a parked host goes back into the index, to be judged by the next search.
    pub fn service_changed(&mut self, h: HostId) {
        if std::mem::replace(&mut self.parked[h.index()], false) {
            self.reindex(h);
        }
    }

    fn reindex(&mut self, h: HostId) {
        let i = h.index();
        let free = (self.listed[i] && !self.parked[i]).then(|| self.usage[i].free_ram_mib());
        self.index.set(h, free);
    }

    pub fn claim(&mut self, h: HostId, c: &Claim) {
        self.usage[h.index()].add(c);
        self.reindex(h);
    }

    pub fn release(&mut self, h: HostId, c: &Claim) {
        self.usage[h.index()].remove(c);
        self.reindex(h);
    }

    /// Keeps an evacuated VM's allocation on its source.
    pub fn hold(&mut self, source: HostId, c: Claim) {
        self.held[source.index()].push(c);
    }

    /// nova-compute starts on `h`: init_host destroys evacuated guests and frees their
    /// allocations.
    pub fn release_held(&mut self, h: HostId) {
        for c in std::mem::take(&mut self.held[h.index()]) {
            self.release(h, &c);
        }
    }

    /// A server-group member moves.
    pub fn move_member(&mut self, g: ServerGroupId, from: HostId, to: HostId) {
        if let Some(n) = self.members.get_mut(&(g, from)) {
            *n -= 1;
        }
        *self.members.entry((g, to)).or_insert(0) += 1;
    }

    /// The target Nova's scheduler picks for a move, if any host passes the filters.
    /// `service_up` is the ComputeFilter's service-group check; `fault_domain_of` maps hosts.
    pub fn pick(
        &mut self,
        req: &Request,
        wanted: &Where,
        service: impl Fn(HostId) -> ServiceState,
        n_hosts: usize,
    ) -> Option<HostId> {
        let members = &self.members;
        let usage = &self.usage;
        let ok = |h: HostId| {
            if h == req.source {
                return Verdict::Skip;
            }
            match service(h) {
                ServiceState::Up => {}
                ServiceState::DownUntilChanged => return Verdict::Park,
                ServiceState::DownForNow => return Verdict::Skip,
            }
            if !usage[h.index()].fits(&req.claim) {
                return Verdict::Skip;
            }
            let group_ok = match req.group {
                Some((g, GroupPolicy::AntiAffinity)) => {
                    members.get(&(g, h)).copied().unwrap_or(0) == 0
                }
                Some((g, GroupPolicy::Affinity)) => {
                    let elsewhere = members
                        .iter()
                        .any(|((gg, hh), n)| *gg == g && *hh != req.source && *n > 0);
                    !elsewhere || members.get(&(g, h)).copied().unwrap_or(0) > 0
                }
                _ => true,
            };
            if group_ok {
                Verdict::Take
            } else {
                Verdict::Skip
            }
        };
        let zone = req.zone;
        let found = match (wanted, zone) {
            (Where::Any, None) => self.index.best(None, ok),
            (Where::Any, Some(z)) => {
                best_in_zone(&mut self.index, &self.zone_fds[z as usize], usage, ok)
            }
            (Where::Host { host }, _) => {
                let h = HostId(*host);
                let listed = h.index() < n_hosts && self.listed[h.index()];
                let in_zone = zone.is_none_or(|z| self.zone_of_host.get(h.index()) == Some(&z));
                (listed && in_zone && !self.parked[h.index()] && ok(h) == Verdict::Take)
                    .then_some(h)
            }
            (
                Where::FaultDomain {
                    fault_domain,
                    strict,
                },
                _,
            ) => {
                let fd = *fault_domain as usize;
                let in_zone =
                    zone.is_none_or(|z| self.zone_of_fd.get(fd).is_some_and(|fz| *fz == z));
                let first = if in_zone {
                    self.index.best(Some(fd), &ok)
                } else {
                    None
                };
                match (first, zone) {
                    (Some(h), _) => Some(h),
                    (None, None) if !*strict => self.index.best(None, ok),
                    (None, Some(z)) if !*strict => {
                        best_in_zone(&mut self.index, &self.zone_fds[z as usize], usage, ok)
                    }
                    _ => None,
                }
            }
        };
        for h in self.index.take_parked() {
            self.parked[h.index()] = true;
        }
        found
    }
}

/// The best host of a zone that `ok` takes (weigher order: most free RAM, lowest id).
fn best_in_zone(
    index: &mut WeigherIndex,
    fds: &ZoneFds,
    usage: &[HostUsage],
    ok: impl Fn(HostId) -> Verdict,
) -> Option<HostId> {
    match fds {
        ZoneFds::Range(a, b) => index.best_fds(*a, *b, &ok),
        ZoneFds::List(fds) => {
            let rank = |h: HostId| (usage[h.index()].free_ram_mib(), std::cmp::Reverse(h));
            let mut best: Option<HostId> = None;
            for &f in fds {
                if let Some(h) = index.best(Some(f), &ok) {
                    if best.is_none_or(|b| rank(h) > rank(b)) {
                        best = Some(h);
                    }
                }
            }
            best
        }
    }
}
