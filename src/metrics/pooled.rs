//! What a run keeps of each replication once that replication's rows are written: its counters
//! (`ReplicationStats`) and the reduced inputs of the charts (`ChartData`). A
//! `ReplicationOutput` holds ten counters per VM; these hold at most one number per VM, so a
//! run's memory no longer grows with its full outputs times the replication count.
//!
//! `ChartData::add` must see the outputs in replication order: its sums are then made in the
//! same order as a pass over all outputs would make them, so every chart is bit-identical to
//! one drawn from the full outputs.

use super::ledger::{Timeline, VM_STATES};
use super::replication::{HaCounters, ReplicationOutput};
use super::samples::PooledSample;
use super::summary::vm_figures;
use crate::core::time::SimTime;
use crate::scenario::model::Model;

/// The maintenance counters of one replication (its samples are pooled in `ChartData` or
/// reduced to percentiles in the per-replication metrics).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MaintenanceCounters {
    pub live_migrations: u64,
    pub live_migration_aborts: u64,
    pub cold_migrations: u64,
    pub skipped_hosts: u64,
    pub migrated_bytes: u64,
}

/// The counters of one replication, kept after its output is dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationStats {
    pub replication: u32,
    /// Events the engine processed.
    pub events: u64,
    pub ha: HaCounters,
    pub maintenance: MaintenanceCounters,
}

impl ReplicationStats {
    pub fn of(out: &ReplicationOutput) -> Self {
        let m = &out.maintenance;
        ReplicationStats {
            replication: out.replication,
            events: out.events,
            ha: out.ha.clone(),
            maintenance: MaintenanceCounters {
                live_migrations: m.live_migrations,
                live_migration_aborts: m.live_migration_aborts,
                cold_migrations: m.cold_migrations,
                skipped_hosts: m.skipped_hosts,
                migrated_bytes: m.migrated_bytes,
            },
        }
    }
}

/// What the charts of a run need, pooled over its replications (see `report::figures`).
#[derive(Clone, Debug)]
pub struct ChartData {
    /// 1 − availability of every VM in every replication, per workload, in replication order
    /// then VM order.
    pub unavailability: Vec<Vec<f64>>,
    /// Microseconds spent in each VM state, per workload, summed over VMs and replications
    /// (integers, so shards' sums add up to the whole run's exactly).
    pub state_us: Vec<[u128; VM_STATES]>,
    /// VM-microseconds observed per workload (each VM's horizon, summed).
    pub observed_us: Vec<u128>,
    /// The first replication's hosts/VMs-down timeline, with that replication's horizon.
    pub timeline: Option<(Timeline, SimTime)>,
    /// VM outage lengths pooled over replications (all, or a bounded sample).
    pub vm_outage_us: PooledSample,
    /// Live-migration blackouts pooled over replications (all, or a bounded sample).
    pub blackout_us: PooledSample,
    /// Replications added so far.
    pub replications: u32,
}

impl ChartData {
    pub fn new(model: &Model) -> Self {
        let w = model.workloads.len();
        ChartData {
            unavailability: vec![Vec::new(); w],
            state_us: vec![[0; VM_STATES]; w],
            observed_us: vec![0; w],
            timeline: None,
            vm_outage_us: PooledSample::new(model.simulation.seed, 0),
            blackout_us: PooledSample::new(model.simulation.seed, 1),
            replications: 0,
        }
    }

    /// No chart data at all: for results rebuilt from per-replication values (a merge, a
    /// resumed sweep point), whose charts are not drawn from it.
    pub fn empty() -> Self {
        ChartData {
            unavailability: Vec::new(),
            state_us: Vec::new(),
            observed_us: Vec::new(),
            timeline: None,
            vm_outage_us: PooledSample::new(0, 0),
            blackout_us: PooledSample::new(0, 1),
            replications: 0,
        }
    }

    /// Adds the next replication, in replication order. Takes the output by value only to move
    /// its timeline out rather than copy it.
    pub fn add(&mut self, model: &Model, mut out: ReplicationOutput) {
        for (i, f) in vm_figures(&out).iter().enumerate() {
            self.unavailability[model.vms[i].workload.index()].push(1.0 - f.availability);
        }
        let horizon = u128::from(out.horizon.as_us());
        for (i, t) in out.vm_time_us.iter().enumerate() {
            let w = model.vms[i].workload.index();
            self.observed_us[w] += horizon;
            for (sum, us) in self.state_us[w].iter_mut().zip(t) {
                *sum += u128::from(*us);
            }
        }
        if self.replications == 0 {
            self.timeline = out.timeline.take().map(|tl| (tl, out.horizon));
        }
        self.vm_outage_us.add(out.vm_outage_us.iter());
        self.blackout_us.add(out.maintenance.blackout_us.iter());
        self.replications += 1;
    }
}
