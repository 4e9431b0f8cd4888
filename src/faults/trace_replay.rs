//! Trace replay (`[failures.trace]`): each host is down exactly during its trace node's
//! unavailability intervals, one pending event per host at a time.

use super::trace::HostTrace;
use crate::core::sched::Scheduler;
use crate::core::time::SimTime;
use crate::world::ids::HostId;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    Down { host: HostId },
    Up { host: HostId },
}

pub struct TraceReplay {
    /// Index of each host's next interval.
    next: Vec<usize>,
}

impl TraceReplay {
    pub fn new(n_hosts: usize) -> Self {
        TraceReplay {
            next: vec![0; n_hosts],
        }
    }

    /// Queues the start of the host's next interval.
    pub fn schedule_next_down(
        &self,
        trace: Option<&HostTrace>,
        h: HostId,
        s: &mut impl Scheduler<Event>,
    ) {
        let Some(trace) = trace else { return };
        if let Some(&(start, _)) = trace.down.get(self.next[h.index()]) {
            s.at(start.max(s.now()), Event::Down { host: h });
        }
    }

    /// The end of the interval that just began.
    pub fn current_end(&self, trace: &HostTrace, h: HostId) -> SimTime {
        trace.down[self.next[h.index()]].1
    }

    /// The interval is over.
    pub fn advance(&mut self, h: HostId) {
        self.next[h.index()] += 1;
    }
}
