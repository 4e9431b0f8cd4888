//! Live migrations in flight and the NIC bandwidth they share: each migration runs the
//! `migration` model; its source NIC (capped by `live_migration_bandwidth`) is split evenly
//! among the migrations leaving the host, and every change of the split books progress and
//! re-plans each migration's next phase end, cancelling the one it replaces.
//!
//! Also owns each VM's memory dirty rate, drawn once per replication from the VM's keyed stream
//! the first time it migrates (the stream is made then, not up front).

use super::migration::{gbps_to_bytes_per_s, Migration};
use crate::core::queue::Handle;
use crate::core::rng::{stream, StreamKind};
use crate::core::sched::Scheduler;
use crate::core::time::{SimDuration, SimTime};
use crate::world::ids::{HostId, VmId};

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A migration's current round ends (valid only for its `version`).
    Round { slot: u32, version: u32 },
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
    pub version: u32,
    /// Pre-copy ended (blackout running).
    pub switching: bool,
    pending: Option<Handle>,
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
    /// Versions of round events, unique across all migrations (slots are reused).
    version: u32,
    /// Per VM: in a migration, and whether in its blackout.
    migrating: Vec<Option<bool>>,
    dirty_rate: Vec<u64>,
    seed: u64,
    replication: u32,
}

impl LiveMigrations {
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
            pending: None,
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

    /// Re-shares `h`'s NIC at `rate` per migration: books progress, re-plans round ends.
    pub fn rerate(&mut self, h: HostId, rate: u64, s: &mut impl Scheduler<Event>) {
        for i in 0..self.outgoing[h.index()].len() {
            let slot = self.outgoing[h.index()][i];
            let now = s.now();
            let lm = self.slots[slot as usize]
                .as_mut()
                .expect("outgoing migration");
            let elapsed = now.since(lm.started_at).as_us();
            lm.mig.rebandwidth(elapsed, lm.rate);
            lm.rate = rate;
            self.version = self.version.wrapping_add(1);
            lm.version = self.version;
            if let Some(old) = lm.pending.take() {
                s.cancel(old);
            }
            let at = lm.started_at + SimDuration(lm.mig.round_end(rate));
            let version = lm.version;
            lm.pending = s.at(at, Event::Round { slot, version });
        }
    }

    /// Queues the next round end of a migration at its current rate.
    pub fn schedule_round(&mut self, slot: u32, s: &mut impl Scheduler<Event>) {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        let at = lm.started_at + SimDuration(lm.mig.round_end(lm.rate));
        let version = lm.version;
        lm.pending = s.at(at, Event::Round { slot, version });
    }

    /// Queues the end of a migration's blackout.
    pub fn schedule_switch(&mut self, slot: u32, blackout_us: u64, s: &mut impl Scheduler<Event>) {
        let lm = self.slots[slot as usize].as_mut().expect("migration");
        lm.pending = s.after(SimDuration(blackout_us), Event::Switched { slot });
    }
}
