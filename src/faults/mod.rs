//! Failure processes: what breaks, when, and for how long.
//!
//! Owns the validated failure model (independent host crashes, correlated domain outages, trace
//! replay, partitions, control-plane and guest failures, BMC faults, maintenance campaigns) and
//! one run-time component per process (`host_crash`, `domain_outage`, `trace_replay`,
//! `on_off`, `guest_crash`, `bmc`, `campaign`), each owning its keyed streams, its state and its
//! events. It decides nothing about recovery: that belongs to the mechanisms (`infra/`), the
//! policy, and the engine that dispatches between them (`engine/`).

pub mod bmc;
pub mod campaign;
pub mod domain_outage;
pub mod failed_reboot;
pub mod guest_crash;
pub mod host_crash;
pub mod maintenance;
pub mod on_off;
pub mod trace;
pub mod trace_replay;

pub use crate::core::dist;

use crate::world::ids::HostId;
use crate::world::topology::DomainLevel;
use dist::DurationDist;
use trace::HostTrace;

/// Independent host crashes: up-time measured from the host's return to service (after boot),
/// then a repair; the host boots for its type's `boot_time` after the repair.
#[derive(Clone, Debug)]
pub struct HostFailures {
    pub time_between: DurationDist,
    pub repair: DurationDist,
}

/// Correlated outages of every domain at one level: each domain (each rack, say) has its own
/// clock; when it fires, every host in it goes down together until the repair ends.
#[derive(Clone, Debug)]
pub struct DomainFailures {
    pub name: String,
    pub level: DomainLevel,
    pub time_between: DurationDist,
    pub repair: DurationDist,
    /// The hosts of each domain at `level`, in domain order.
    pub domains: Vec<(String, Vec<HostId>)>,
}

/// An on/off process on each host: it starts after `time_between`, lasts `duration`, and starts
/// again `time_between` after it ended. Used for network partitions (the host and its VMs keep
/// running but drop off the management and data networks; the BMC network stays up) and for
/// control-plane failures (nova-compute or its AMQP link dies while the host and its VMs keep
/// running: the service group shows it down and the scheduler skips it, but Pacemaker and the
/// data network still see a healthy node).
#[derive(Clone, Debug)]
pub struct HostOutageProcess {
    pub time_between: DurationDist,
    pub duration: DurationDist,
    /// The hosts subject to it (all when the scenario lists none).
    pub hosts: Option<Vec<HostId>>,
}

impl HostOutageProcess {
    pub fn applies_to(&self, h: HostId) -> bool {
        self.hosts.as_ref().is_none_or(|hs| hs.contains(&h))
    }
}

pub type PartitionFailures = HostOutageProcess;
pub type ControlPlaneFailures = HostOutageProcess;

/// Guest crashes: each running VM crashes after a draw of `time_between` (its clock restarts
/// whenever it starts running). What happens next depends on who restarts it: the PCA
/// hypervisor (up to 5 times), Masakari's instance-failure flow (HA_Enabled servers), or
/// nobody — Nova destroys a crashed guest and leaves it SHUTOFF until its host reboots.
#[derive(Clone, Debug)]
pub struct GuestFailures {
    pub time_between: DurationDist,
}

/// `[failures.reboot]`: with `probability` a host's boot fails and it comes up `duration`
/// later (what-if inputs, `faults::failed_reboot`).
#[derive(Clone, Debug)]
pub struct RebootFailures {
    pub probability: f64,
    pub duration: DurationDist,
}

/// An unreachable BMC: with `probability`, a host failure (crash or trace interval) also leaves
/// its BMC unreachable for a `duration` from the failure (IPMI fencing and power checks fail).
#[derive(Clone, Debug)]
pub struct BmcFailures {
    pub probability: f64,
    pub duration: DurationDist,
}

#[derive(Clone, Debug, Default)]
pub struct FailureModel {
    pub host: Option<HostFailures>,
    pub partition: Option<PartitionFailures>,
    pub control_plane: Option<ControlPlaneFailures>,
    pub guest: Option<GuestFailures>,
    pub bmc: Option<BmcFailures>,
    pub reboot: Option<RebootFailures>,
    pub domains: Vec<DomainFailures>,
    /// One entry per host when a trace is replayed, `None` for hosts without a trace node.
    pub trace: Option<Vec<Option<HostTrace>>>,
}
