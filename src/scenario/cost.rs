//! The cost of a run, estimated before it starts: expected disruptions from the failure rates,
//! the maintenance campaigns, the horizon and the fleet, turned into engine events.
//!
//! A renewal process with mean up time U and mean down time D renews about horizon / (U + D)
//! times. Each host disruption (a crash, a domain outage on each of its hosts, a partition, a
//! control-plane outage, a trace interval, a maintenance drain) costs a few host-level events,
//! and every VM it moves or restarts (an evacuation under an HA policy, a live migration, a
//! guest crash) a few more; without an HA policy the VMs of a failed host ride on its events. The two per-disruption costs are measured, not modelled: on the bundled scenarios
//! and the 1k–50k host benchmark (`benches/BASELINE.md`) a host disruption costs about 4 events
//! (`quickstart`: 412 events per replication for 103 crashes) and a moved VM about 2.5–3.6
//! (`masakari`, `openstack_runbook`, `openstack_runbook_local`, the benchmark's 2.5 per live
//! migration, measured before the engine computed pre-copy rounds in closed form; since then a
//! live migration costs about 2.1 events). So the estimate is an order of magnitude, not a
//! prediction: 0.2–1.1 times the measured events on every bundled scenario (a test checks the
//! factor of 10). Pre-copy that does not converge (`hot_database`) used to cost about 2,000
//! events per migration, one per round until Nova's completion timeout; it is now one event
//! per phase like any other.

use super::model::Model;
use crate::core::dist::DurationDist;

/// Engine events per host disruption, measured (see the module documentation).
pub const EVENTS_PER_HOST_DISRUPTION: f64 = 4.0;
/// Engine events per VM moved or restarted, measured (the upper end of 2.5–3.6).
pub const EVENTS_PER_VM_MOVE: f64 = 4.0;

/// The default budget of `run`, `compare` and `sweep`: 10^10 estimated events. At the
/// 0.5–1.1 µs per event measured by the benchmark that is 1.4–3 CPU-hours, past which a run is
/// more likely a typo (a rate in the wrong unit) than an intention; `--max-estimated-events`
/// raises it.
pub const DEFAULT_MAX_EVENTS: f64 = 1e10;

/// The estimate for all replications of `model`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub host_disruptions: f64,
    pub vm_moves: f64,
    pub events: f64,
}

/// Expected renewals of an up/down process over `horizon_s`. A distribution whose mean is not
/// finite (a Weibull shape near 0, a huge lognormal sigma) has no renewal rate to go by: its
/// draws can be as short as the clock's 1 µs, and the estimate takes that worst case, so such
/// a scenario is refused unless the budget is raised (the fuzz harness found one that ran
/// 200,000 events where a mean-based estimate said none).
fn renewals(horizon_s: f64, up: &DurationDist, down: Option<&DurationDist>) -> f64 {
    let cycle = up.mean_s() + down.map_or(0.0, DurationDist::mean_s);
    if cycle.is_finite() && cycle > 0.0 {
        horizon_s / cycle
    } else {
        horizon_s / 1e-6
    }
}

pub fn estimate(model: &Model) -> Estimate {
    let horizon_s = model.simulation.horizon.as_secs_f64();
    let hosts = model.topology.hosts.len() as f64;
    let vms_per_host = model.vms.len() as f64 / hosts.max(1.0);
    let f = &model.failures;
    let mut host_disruptions = 0.0;
    if let Some(h) = &f.host {
        host_disruptions += hosts * renewals(horizon_s, &h.time_between, Some(&h.repair));
    }
    for d in &f.domains {
        let members: usize = d.domains.iter().map(|(_, hs)| hs.len()).sum();
        host_disruptions += members as f64 * renewals(horizon_s, &d.time_between, Some(&d.repair));
    }
    for p in [&f.partition, &f.control_plane].into_iter().flatten() {
        let n = p.hosts.as_ref().map_or(hosts, |hs| hs.len() as f64);
        host_disruptions += n * renewals(horizon_s, &p.time_between, Some(&p.duration));
    }
    if let Some(t) = &f.trace {
        host_disruptions += t.iter().flatten().map(|h| h.down.len() as f64).sum::<f64>();
    }
    let mut drains = 0.0;
    for c in &model.maintenance {
        let left = model
            .simulation
            .horizon
            .as_us()
            .saturating_sub(c.start.as_us());
        if left == 0 {
            continue;
        }
        let cycles = c
            .every
            .map_or(1.0, |e| (left as f64 / e.as_us().max(1) as f64).ceil());
        drains += c.hosts.len() as f64 * cycles;
    }
    // Without an HA policy a failed host's VMs wait for it and boot with it: host events carry
    // them (`quickstart`). With one, each is evacuated; a drain live-migrates each. Control-
    // plane outages move no VM; counting them keeps the estimate on the high side.
    let moved_by_failures = if model.policy.name() == "none" {
        0.0
    } else {
        host_disruptions
    };
    let mut vm_moves = (moved_by_failures + drains) * vms_per_host;
    host_disruptions += drains;
    if let Some(g) = &f.guest {
        vm_moves += model.vms.len() as f64 * renewals(horizon_s, &g.time_between, None);
    }
    let reps = f64::from(model.simulation.replications);
    let (host_disruptions, vm_moves) = (host_disruptions * reps, vm_moves * reps);
    Estimate {
        host_disruptions,
        vm_moves,
        events: EVENTS_PER_HOST_DISRUPTION * host_disruptions + EVENTS_PER_VM_MOVE * vm_moves,
    }
}

/// A count for people: `8.2e3`, `1.4e11`.
pub fn approx(x: f64) -> String {
    format!("{x:.1e}")
}
