//! The platform's compute-node monitor: a node unreachable for a threshold is failed — Oracle
//! PCA's `fail_threshold` (5 minutes), or GCE's `[gce] host_error_detection` (a what-if input);
//! a failed node that reconnects is seen at once.

use crate::core::sched::Scheduler;
use crate::core::time::SimDuration;
use crate::world::ids::HostId;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The failure threshold of an unreachable node passes (valid for its reachability epoch).
    Fail { host: HostId, epoch: u32 },
}

/// The node dropped off the network: start its threshold.
pub fn node_unreachable(
    h: HostId,
    epoch: u32,
    threshold: SimDuration,
    s: &mut impl Scheduler<Event>,
) {
    s.after(threshold, Event::Fail { host: h, epoch });
}
