//! Independent host crashes (`[failures.host]`): each host's keyed crash clock and repair.
//!
//! The clock is a renewal: it starts when the host returns to service (boots) and is cancelled
//! when the host dies of anything else, so a host never has more than one pending crash and no
//! stale crash outlives its meaning in the queue.

use super::HostFailures;
use crate::core::queue::Handle;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::sched::Scheduler;
use crate::world::ids::HostId;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The host's crash clock fires (valid only for host generation `gen`).
    Crash { host: HostId, gen: u32 },
    /// The repair after a crash is done.
    Repaired { host: HostId },
}

pub struct HostCrashes {
    spec: Option<HostFailures>,
    uptime: Vec<StreamRng>,
    repair: Vec<StreamRng>,
    pending: Vec<Option<Handle>>,
}

impl HostCrashes {
    pub fn new(spec: Option<&HostFailures>, seed: u64, replication: u32, n_hosts: usize) -> Self {
        let per_host = |kind| match spec {
            Some(_) => (0..n_hosts)
                .map(|h| stream(seed, replication, kind, h as u64))
                .collect(),
            None => Vec::new(),
        };
        HostCrashes {
            spec: spec.cloned(),
            uptime: per_host(StreamKind::HostUptime),
            repair: per_host(StreamKind::HostRepair),
            pending: vec![None; if spec.is_some() { n_hosts } else { 0 }],
        }
    }

    /// Starts the host's crash clock (it just returned to service).
    pub fn arm(&mut self, h: HostId, gen: u32, s: &mut impl Scheduler<Event>) {
        let Some(f) = &self.spec else { return };
        let up = f.time_between.sample(&mut self.uptime[h.index()]);
        if let Some(old) = self.pending[h.index()].take() {
            s.cancel(old);
        }
        self.pending[h.index()] = s.after(up, Event::Crash { host: h, gen });
    }

    /// The host died: its crash clock stops.
    pub fn disarm(&mut self, h: HostId, s: &mut impl Scheduler<Event>) {
        if let Some(old) = self.pending.get_mut(h.index()).and_then(Option::take) {
            s.cancel(old);
        }
    }

    /// The crash happened: its repair starts.
    pub fn schedule_repair(&mut self, h: HostId, s: &mut impl Scheduler<Event>) {
        let f = self
            .spec
            .as_ref()
            .expect("crash clock armed only with host failures");
        let d = f.repair.sample(&mut self.repair[h.index()]);
        s.after(d, Event::Repaired { host: h });
    }
}
