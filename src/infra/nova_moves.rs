//! Nova's move tasks: an evacuation (rebuild on another host) or a cold migration in flight
//! for each VM, and whether its last evacuation found no valid host. The engine executes the
//! moves (`engine/moves.rs`); this owns their bookkeeping and their one event, the rebuild's
//! end.

use crate::core::sched::Scheduler;
use crate::core::time::SimDuration;
use crate::world::ids::{HostId, VmId};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A moved VM finished rebuilding or booting on its new host.
    RebuildDone { vm: VmId, seq: u32 },
}

/// A move in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub seq: u32,
    /// The target's generation when the move began: a target that died since fails it.
    pub target_gen: u32,
    /// A cold migration rather than an evacuation.
    pub cold: bool,
    /// The host the move leaves: Nova's record still names it until the move ends
    /// (`rt.finish_evacuation` sets `instance.host` after the guest is spawned,
    /// nova/compute/manager.py `rebuild_instance`; a cold migration's `finish_resize` likewise).
    pub source: HostId,
}

pub struct NovaMoves {
    task: Vec<Option<Task>>,
    no_capacity: Vec<bool>,
    seq: u32,
    /// `(source host, vm)` of every move in flight, for "servers on host" as Nova lists them.
    away: BTreeSet<(u32, u32)>,
}

impl NovaMoves {
    /// Starts loading a VM's move task into the cache (see `core::prefetch`).
    pub fn prefetch(&self, v: VmId) {
        crate::core::prefetch::prefetch(&self.task[v.index()]);
    }

    pub fn new(n_vms: usize) -> Self {
        NovaMoves {
            task: vec![None; n_vms],
            no_capacity: vec![false; n_vms],
            seq: 0,
            away: BTreeSet::new(),
        }
    }

    pub fn task(&self, v: VmId) -> Option<Task> {
        self.task[v.index()]
    }

    pub fn busy(&self, v: VmId) -> bool {
        self.task[v.index()].is_some()
    }

    pub fn no_capacity(&self, v: VmId) -> bool {
        self.no_capacity[v.index()]
    }

    pub fn set_no_capacity(&mut self, v: VmId, no: bool) {
        self.no_capacity[v.index()] = no;
    }

    /// Starts a move that ends after `boot`.
    pub fn begin(
        &mut self,
        v: VmId,
        source: HostId,
        target_gen: u32,
        cold: bool,
        boot: SimDuration,
        s: &mut impl Scheduler<Event>,
    ) {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.task[v.index()] = Some(Task {
            seq,
            target_gen,
            cold,
            source,
        });
        self.away.insert((source.0, v.0));
        s.after(boot, Event::RebuildDone { vm: v, seq });
    }

    /// The move's end: its task if `seq` is still the current one.
    pub fn finish(&mut self, v: VmId, seq: u32) -> Option<Task> {
        match self.task[v.index()] {
            Some(t) if t.seq == seq => {
                self.away.remove(&(t.source.0, v.0));
                self.task[v.index()].take()
            }
            _ => None,
        }
    }

    /// Servers moving away from `host`, in id order: Nova still lists them there.
    pub fn leaving(&self, host: HostId) -> impl Iterator<Item = VmId> + '_ {
        self.away
            .range((host.0, 0)..=(host.0, u32::MAX))
            .map(|&(_, v)| VmId(v))
    }
}
