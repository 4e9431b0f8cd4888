//! BMC faults (`[failures.bmc]`): with a probability, a host failure also takes its BMC off
//! the network for a while, so IPMI fencing and power checks fail.

use super::BmcFailures;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::sched::Scheduler;
use crate::world::ids::HostId;
use crate::world::truth::Truth;
use rand::Rng;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    Restored { host: HostId },
}

pub struct BmcFaults {
    spec: Option<BmcFailures>,
    rng: Vec<StreamRng>,
}

impl BmcFaults {
    pub fn new(spec: Option<&BmcFailures>, seed: u64, replication: u32, n_hosts: usize) -> Self {
        let rng = match spec {
            Some(_) => (0..n_hosts as u64)
                .map(|h| stream(seed, replication, StreamKind::BmcFault, h))
                .collect(),
            None => Vec::new(),
        };
        BmcFaults {
            spec: spec.cloned(),
            rng,
        }
    }

    /// A host failed: its BMC may go with it.
    pub fn on_host_failure(&mut self, h: HostId, truth: &mut Truth, s: &mut impl Scheduler<Event>) {
        let Some(b) = &self.spec else { return };
        let rng = &mut self.rng[h.index()];
        if rng.random::<f64>() < b.probability {
            let d = b.duration.sample(rng);
            truth.bmc_fault(h, true);
            s.after(d, Event::Restored { host: h });
        }
    }
}
