//! Live migrations in flight and the NIC bandwidth they share: each migration runs the
//! `migration` model; its source NIC (capped by `live_migration_bandwidth`) is split evenly
//! among the migrations leaving the host, and every change of the split books progress and
//! re-plans each migration's next phase end, cancelling the one it replaces.
//!
//! One event per phase: while a migration's share holds, its pre-copy rounds are computed in
//! closed form (`Migration::plan`) and only the end of the pre-copy is queued (or, for a plan
//! too long to compute at once, a checkpoint). A bandwidth change at instant `t` first applies
//! the rounds that ended before `t` at the old rate; a round ending exactly at `t` ends at the
//! new one.
//!
//! A migration whose source or target has died is *doomed*: as in the round-by-round model it
//! replaces, it notices at its current round's end (where the engine aborts it), so its next
//! event is that round end instead of the end of the pre-copy.
//!
//! Ties at one microsecond are settled by rule, not by the order in which round events happened
//! to be queued as in the round-by-round model: a round ending at the instant of a re-share ends
//! at the new rate; a host killed at the instant a round ends aborts the migration then; a
//! pre-copy's end event takes its place among same-instant events when it is planned. The
//! bundled scenarios and the 1k-host benchmark runs give byte-identical outputs either way;
//! a run where two such instants coincide to the microsecond may differ from the old engine.
//!
//! Also owns each VM's memory dirty rate, drawn once per replication from the VM's keyed stream
//! the first time it migrates (the stream is made then, not up front).

use super::migration::{gbps_to_bytes_per_s, Migration, Outcome, Plan};
use crate::core::queue::Handle;
use crate::core::rng::{stream, StreamKind};
use crate::core::sched::Scheduler;
use crate::core::time::{SimDuration, SimTime};
use crate::world::ids::{HostId, VmId};

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A migration's pre-copy ends, or a checkpoint of a long plan, or a doomed migration's
    /// round ends (valid only for its `version`).
    PreCopy { slot: u32, version: u64 },
    /// A migration's blackout ends: the VM runs on the target.
    Switched { slot: u32 },
}

/// A live migration in flight.
#[derive(Clone, Debug)]
pub struct LiveMigration {
    pub vm: VmId,
    pub source: HostId,
    pub target: HostId,
    pub source_gen: u32,
    pub target_gen: u32,
    pub started_at: SimTime,
    pub mig: Migration,
    pub rate: u64,
    pub version: u64,
    /// Pre-copy ended (blackout running).
    pub switching: bool,
    /// Its source or target died: it ends (aborts) at its current round's end.
    pub doomed: bool,
    pending: Option<Handle>,
    /// When the `pending` event is due.
    pending_at: SimTime,
    /// The state at the planned end of the pre-copy, computed when it was planned; the
    /// `pending` event adopts it (any re-plan replaces it).
    planned: Option<Migration>,
}

const MIB: u64 = 1 << 20;
const UNDRAWN: u64 = u64::MAX;

pub struct LiveMigrations {
    slots: Vec<Option<LiveMigration>>,
    free: Vec<u32>,
    /// Migrations leaving each host.
    outgoing: Vec<Vec<u32>>,
    /// Migrations arriving at each host.
    incoming: Vec<u32>,
    /// Versions of pre-copy events, unique across all migrations (slots are reused) and
    /// growing with every re-plan (64 bits: they never wrap).
    version: u64,
    /// Per VM: in a migration, and whether in its blackout.
    migrating: Vec<Option<bool>>,
    dirty_rate: Vec<u64>,
    seed: u64,
    replication: u32,
}

impl LiveMigrations {
    /// Starts loading a VM's migration state and dirty rate into the cache (see
    /// `core::prefetch`).
    pub fn prefetch(&self, v: VmId) {
        crate::core::prefetch::prefetch(&self.migrating[v.index()]);
        crate::core::prefetch::prefetch(&self.dirty_rate[v.index()]);
    }

    pub fn new(seed: u64, replication: u32, n_hosts: usize, n_vms: usize) -> Self {
        LiveMigrations {
            slots: Vec::new(),
            free: Vec::new(),
            outgoing: vec![Vec::new(); n_hosts],
            incoming: vec![0; n_hosts],
            version: 0,
            migrating: vec![None; n_vms],
            dirty_rate: vec![UNDRAWN; n_vms],
            seed,
            replication,
        }
    }

    /// The VM's dirty rate in bytes/s; `draw` samples MiB/s from the VM's stream.
    pub fn dirty_rate(
        &mut self,
        v: VmId,
        draw: impl FnOnce(&mut crate::core::rng::StreamRng) -> f64,
    ) -> u64 {
        if self.dirty_rate[v.index()] == UNDRAWN {
            let mut rng = stream(
                self.seed,
                self.replication,
                StreamKind::DirtyRate,
                v.0 as u64,
            );
            self.dirty_rate[v.index()] = (draw(&mut rng) * MIB as f64) as u64;
        }
        self.dirty_rate[v.index()]
    }

    pub fn migrating(&self, v: VmId) -> Option<bool> {
        self.migrating[v.index()]
    }

    pub fn set_migrating(&mut self, v: VmId, m: Option<bool>) {
        self.migrating[v.index()] = m;
    }

    pub fn get(&self, slot: u32) -> Option<&LiveMigration> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut LiveMigration> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub fn outgoing(&self, h: HostId) -> &[u32] {
        &self.outgoing[h.index()]
    }

    /// Migrations in flight into `h`.
    pub fn incoming(&self, h: HostId) -> u32 {
        self.incoming[h.index()]
    }

    pub fn in_flight(&self) -> impl Iterator<Item = &LiveMigration> {
        self.slots.iter().flatten()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn begin(
        &mut self,
        vm: VmId,
        source: HostId,
        target: HostId,
        source_gen: u32,
        target_gen: u32,
        now: SimTime,
        mig: Migration,
    ) -> u32 {
        let lm = LiveMigration {
            vm,
            source,
            target,
            source_gen,
            target_gen,
            started_at: now,
            mig,
            rate: 0,
            version: 0,
            switching: false,
            doomed: false,
            pending: None,
            pending_at: SimTime::ZERO,
            planned: None,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(lm);
                s
            }
            None => {
                self.slots.push(Some(lm));
                (self.slots.len() - 1) as u32
            }
        };
        self.migrating[vm.index()] = Some(false);
        self.outgoing[source.index()].push(slot);
        self.incoming[target.index()] += 1;
        slot
    }

    /// Pre-copy is over: the migration no longer shares its source NIC.
    pub fn leave_nic(&mut self, slot: u32) {
        let source = self.slots[slot as usize]
            .as_ref()
            .expect("migration")
            .source;
        self.outgoing[source.index()].retain(|s| *s != slot);
    }

    /// Removes a migration (done or aborted).
    pub fn end(&mut self, slot: u32, s: &mut impl Scheduler<Event>) -> LiveMigration {
        let mut lm = self.slots[slot as usize].take().expect("migration");
        if let Some(h) = lm.pending.take() {
            s.cancel(h);
        }
        self.outgoing[lm.source.index()].retain(|x| *x != slot);
        self.incoming[lm.target.index()] -= 1;
        self.free.push(slot);
        lm
    }

    /// Link rate per migration leaving `h`: its NIC (capped by `bandwidth_mib_s`, 0 = none)
    /// shared by its outgoing migrations.
    pub fn rate(&self, h: HostId, nic_gbps: f64, bandwidth_mib_s: u64) -> u64 {
        let nic = gbps_to_bytes_per_s(nic_gbps);
        let cap = bandwidth_mib_s * MIB;
        let base = if cap > 0 { nic.min(cap) } else { nic };
        base / (self.outgoing[h.index()].len().max(1) as u64)
    }

    /// Re-shares `h`'s NIC at `rate` per migration: applies the rounds that ended before now
    /// at the old rate, books the current round's progress, re-plans at the new rate.
    pub fn rerate(&mut self, h: HostId, rate: u64, s: &mut impl Scheduler<Event>) {
        for i in 0..self.outgoing[h.index()].len() {
            let slot = self.outgoing[h.index()][i];
            self.catch_up(slot, s.now());
            let lm = self.slots[slot as usize].as_mut().expect("migration");
            lm.rate = rate;
            self.replan(slot, s);
        }
    }

    /// Marks a migration doomed (its source or target died): it now ends at its current
    /// round's end. If that is the end already queued (the round is its last), the queued event
    /// stays where it is among same-instant events (see the module doc on ties).
    pub fn doom(&mut self, slot: u32, s: &mut impl Scheduler<Event>) {
        self.catch_up(slot, s.now());
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        lm.doomed = true;
        let round_end = lm.started_at + SimDuration(lm.mig.round_end(lm.rate));
        if lm.pending.is_none() || lm.pending_at != round_end {
            self.replan(slot, s);
        }
    }

    /// A doomed migration whose hosts turned out to be alive at its round's end (see
    /// `engine::maintenance`): planned by phase again from here.
    pub fn revive(&mut self, slot: u32) {
        self.slots[slot as usize]
            .as_mut()
            .expect("migration")
            .doomed = false;
    }

    /// Brings a running pre-copy's state to `now` at its current rate: the rounds that ended
    /// strictly before `now` applied, the current one's progress booked.
    fn catch_up(&mut self, slot: u32, now: SimTime) {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        debug_assert!(!lm.switching);
        let elapsed = now.since(lm.started_at).as_us();
        if elapsed > 0 {
            // The pre-copy end, if any, is at `now` or later (its event has not fired).
            let ended = lm.mig.advance_to(elapsed - 1, lm.rate);
            debug_assert!(ended.is_none(), "a pre-copy ended without its event");
        }
        lm.mig.rebandwidth(elapsed, lm.rate);
    }

    /// Replaces a migration's queued event by the next one its state and rate call for: the
    /// pre-copy's end (or a checkpoint), nothing if it never ends, or a doomed migration's
    /// round end.
    pub fn replan(&mut self, slot: u32, s: &mut impl Scheduler<Event>) {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        self.version += 1;
        lm.version = self.version;
        if let Some(old) = lm.pending.take() {
            s.cancel(old);
        }
        lm.planned = None;
        let at_us = if lm.doomed {
            Some(lm.mig.round_end(lm.rate))
        } else {
            match lm.mig.plan_ahead(lm.rate) {
                (Plan::Ends { at_us, .. }, end) => {
                    lm.planned = Some(end);
                    Some(at_us)
                }
                (Plan::Checkpoint { at_us }, _) => Some(at_us),
                (Plan::Never, _) => None,
            }
        };
        if let Some(at_us) = at_us {
            let at = lm.started_at + SimDuration(at_us);
            let version = lm.version;
            lm.pending = s.at(at, Event::PreCopy { slot, version });
            lm.pending_at = at;
        }
    }

    /// A migration's queued pre-copy event is due: brings its state to now (adopting the
    /// planned end state when there is one) and returns how the pre-copy ended, or None at a
    /// checkpoint (call `replan`).
    pub fn precopy_due(&mut self, slot: u32, now: SimTime) -> Option<(u64, Outcome)> {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        let elapsed = now.since(lm.started_at).as_us();
        if let Some(end) = lm.planned.take() {
            lm.mig = end;
            debug_assert_eq!(lm.mig.ended().map(|e| e.0), Some(elapsed));
            return lm.mig.ended();
        }
        lm.mig.advance_to(elapsed, lm.rate)
    }

    /// Slots of the pre-copies in flight from or to `h` that are not yet doomed, in the order
    /// their events were queued (`version` grows with every re-plan), so that dooming them
    /// keeps their same-instant order.
    pub fn precopies_touching(&self, h: HostId, out: &mut Vec<u32>) {
        out.clear();
        for (slot, lm) in self.slots.iter().enumerate() {
            if let Some(lm) = lm {
                if !lm.switching && !lm.doomed && (lm.source == h || lm.target == h) {
                    out.push(slot as u32);
                }
            }
        }
        let version = |slot: &u32| self.slots[*slot as usize].as_ref().map(|lm| lm.version);
        out.sort_unstable_by_key(version);
    }

    /// Queues the end of a migration's blackout.
    pub fn schedule_switch(&mut self, slot: u32, blackout_us: u64, s: &mut impl Scheduler<Event>) {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        lm.pending = s.after(SimDuration(blackout_us), Event::Switched { slot });
    }
}
