//! Oracle PCA's compute-node monitor: a node unreachable for `fail_threshold` (5 minutes) is
//! failed; a failed node that reconnects is seen at once.

use super::config::PcaInfraConfig;
use crate::core::sched::Scheduler;
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
    cfg: &PcaInfraConfig,
    s: &mut impl Scheduler<Event>,
) {
    s.after(cfg.fail_threshold, Event::Fail { host: h, epoch });
}
