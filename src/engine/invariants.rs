//! What must hold in every run, checked at the start and at the horizon by recounting from
//! scratch rather than trusting the incremental state: capacity never exceeded, allocations
//! equal to what the residents, held claims and incoming migrations add up to, the kept
//! available-host count, and every VM recorded on exactly one host.

use super::{claim_of, Simulation};
use crate::infra::scheduler::host_capacities;
use crate::world::ids::HostId;

impl Simulation<'_> {
    pub(super) fn check_invariants(&self) -> Result<(), String> {
        let model = self.model;
        let mut usage = host_capacities(&model.topology, &model.allocation);
        let mut seen = vec![0u8; model.vms.len()];
        for h in model.topology.host_ids() {
            let u = &mut usage[h.index()];
            for v in self.truth.residents(h) {
                u.add(&claim_of(model, *v));
                seen[v.index()] = seen[v.index()].saturating_add(1);
                if self.truth.vm(*v).host() != h {
                    return Err(format!(
                        "VM {} is listed on the wrong host",
                        model.vms[v.index()].name
                    ));
                }
            }
            for c in self.placement.held(h) {
                u.add(c);
            }
        }
        // A live migration holds its destination's claim until it switches over.
        for m in self.migrations.in_flight() {
            usage[m.target.index()].add(&claim_of(model, m.vm));
        }
        for (h, u) in usage.iter().enumerate() {
            if u.vcpus_used > u.vcpus_cap
                || u.ram_mib_used > u.ram_mib_cap
                || u.disk_gib_used > u.disk_gib_cap
            {
                return Err(format!(
                    "host {} over capacity: {u:?}",
                    model.topology.hosts[h].name
                ));
            }
            let s = self.placement.usage(HostId(h as u32));
            if (s.vcpus_used, s.ram_mib_used, s.disk_gib_used)
                != (u.vcpus_used, u.ram_mib_used, u.disk_gib_used)
            {
                return Err(format!(
                    "host {} allocation drifted: {s:?} vs {u:?}",
                    model.topology.hosts[h].name
                ));
            }
        }
        let recount = model
            .topology
            .host_ids()
            .filter(|h| self.is_available(*h))
            .count() as u32;
        if recount != self.available {
            return Err(format!(
                "available-host count drifted: {} kept, {recount} counted",
                self.available
            ));
        }
        if let Some(v) = seen.iter().position(|&n| n != 1) {
            return Err(format!(
                "VM {} is recorded on {} hosts",
                model.vms[v].name, seen[v]
            ));
        }
        Ok(())
    }
}
