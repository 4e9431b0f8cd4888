//! What one replication produced: per-VM time in each state, host downtime, HA and maintenance
//! counters and samples. The engine fills it; `metrics::summary` and `report` read it. It is
//! plain result data, so nothing downstream of the engine needs to know the engine.

use super::ledger::{Timeline, VM_STATES};
use super::samples::Durations;
use crate::core::time::SimTime;

/// HA counters of one replication.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HaCounters {
    pub split_brain_events: u64,
    pub data_loss_events: u64,
    pub evacuations: u64,
    pub evacuation_failures: u64,
    pub fencing_failures: u64,
    pub false_failovers: u64,
    /// VMs terminated by a host error under the `gce` policy (GCE's `hostError` event).
    pub host_errors: u64,
    /// Moves (evacuation, cold or live migration) whose target is in another zone.
    pub cross_zone_moves: u64,
    /// Host boots that failed and needed a fix (`[failures.reboot]`).
    pub failed_reboots: u64,
    /// Commands a stepping policy gave at the end of a step that the cloud refused.
    pub commands_refused: u64,
    /// An external controller's own history (`policy::api::ControllerStats`).
    pub controller_crashes: u64,
    pub controller_restarts: u64,
    pub controller_observations_lost: u64,
    pub controller_steps: u64,
}

/// What maintenance did in one replication.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MaintenanceStats {
    pub live_migrations: u64,
    pub live_migration_aborts: u64,
    pub cold_migrations: u64,
    pub skipped_hosts: u64,
    /// Per completed live migration: the switch-over pause.
    pub blackout_us: Durations,
    /// Per completed live migration: the pre-copy (guest slowed, still running).
    pub brownout_us: Durations,
    /// Per completed live migration: start to running on the target.
    pub duration_us: Durations,
    pub migrated_bytes: u64,
    /// Time to cycle every host of a campaign once, per completed cycle.
    pub makespans_us: Vec<u64>,
}

/// What one replication produced.
#[derive(Debug, Clone)]
pub struct ReplicationOutput {
    pub replication: u32,
    pub horizon: SimTime,
    pub vm_time_us: Vec<[u64; VM_STATES]>,
    pub host_down_us: Vec<u64>,
    pub host_observed_us: Vec<u64>,
    pub host_failures: Vec<u32>,
    pub domain_outages: u64,
    /// Time with exactly k hosts down, k = index.
    pub hosts_down_concurrency_us: Vec<u64>,
    /// Every VM outage's length, failure to running again (capped, see `MAX_EPISODES`).
    pub vm_outage_us: Durations,
    /// Hosts and VMs down over time; recorded only when asked for (one replication).
    pub timeline: Option<Timeline>,
    pub ha: HaCounters,
    pub maintenance: MaintenanceStats,
    /// Whether the scenario has maintenance campaigns (maintenance metrics are reported).
    pub model_has_maintenance: bool,
    pub events: u64,
    /// Mean size of the pending-event set, sampled at every event (for the benchmark).
    pub pending_events_mean: f64,
}

impl ReplicationOutput {
    /// Sorts the duration samples, as their order statistics need (`metrics::summary`).
    pub fn sort_samples(&mut self) {
        let m = &mut self.maintenance;
        for d in [&mut m.blackout_us, &mut m.brownout_us, &mut m.duration_us] {
            d.sort();
        }
        self.vm_outage_us.sort();
    }
}
