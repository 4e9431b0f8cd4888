//! Failed reboots (`[failures.reboot]`): a host's boot fails with `probability` — fsck stops
//! at a prompt, nova-compute or its AMQP link does not come back — and it comes up only
//! `duration` later, when someone has fixed it. Both are what-if inputs (no source gives them,
//! so neither has a default). Drawn from the host's own keyed stream, one draw per boot, so
//! other hosts' failures do not shift.

use super::RebootFailures;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::time::SimDuration;
use crate::world::ids::HostId;
use rand::Rng;

pub struct FailedReboots {
    spec: Option<RebootFailures>,
    rng: Vec<StreamRng>,
}

impl FailedReboots {
    pub fn new(spec: Option<&RebootFailures>, seed: u64, replication: u32, n_hosts: usize) -> Self {
        let rng = match spec {
            Some(_) => (0..n_hosts as u64)
                .map(|h| stream(seed, replication, StreamKind::RebootFailure, h))
                .collect(),
            None => Vec::new(),
        };
        FailedReboots {
            spec: spec.cloned(),
            rng,
        }
    }

    /// A host starts booting: the extra time if this boot fails.
    pub fn on_boot(&mut self, h: HostId) -> Option<SimDuration> {
        let spec = self.spec.as_ref()?;
        let rng = &mut self.rng[h.index()];
        (rng.random::<f64>() < spec.probability).then(|| spec.duration.sample(rng))
    }
}
