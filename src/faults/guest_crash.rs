//! Guest crashes (`[failures.guest]`): each running guest's keyed crash clock, a renewal at
//! every start. Only the earliest due crash of each host is a pending event; re-arming it
//! cancels the one it replaces. Also counts hypervisor restarts of each guest (PCA restarts a
//! crashed guest up to `hypervisor_restart_attempts` times since it last started afresh).

use super::GuestFailures;
use crate::core::queue::Handle;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::sched::Scheduler;
use crate::core::time::SimTime;
use crate::world::ids::{HostId, VmId};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The earliest guest crash due on a host (valid only for its `epoch`).
    Crash { host: HostId, epoch: u32 },
}

pub struct GuestCrashes {
    spec: Option<GuestFailures>,
    rng: Vec<StreamRng>,
    /// Due crashes of each host's running guests.
    clocks: Vec<BTreeSet<(SimTime, VmId)>>,
    crash_at: Vec<Option<SimTime>>,
    epoch: Vec<u32>,
    pending: Vec<Option<Handle>>,
    /// Hypervisor restarts since the guest last started with its host or a rebuild.
    restarts: Vec<u32>,
}

impl GuestCrashes {
    pub fn new(
        spec: Option<&GuestFailures>,
        seed: u64,
        replication: u32,
        n_hosts: usize,
        n_vms: usize,
    ) -> Self {
        let on = spec.is_some();
        let per = |n: usize| if on { n } else { 0 };
        GuestCrashes {
            spec: spec.cloned(),
            rng: (0..per(n_vms) as u64)
                .map(|v| stream(seed, replication, StreamKind::GuestUptime, v))
                .collect(),
            clocks: vec![BTreeSet::new(); per(n_hosts)],
            crash_at: vec![None; per(n_vms)],
            epoch: vec![0; per(n_hosts)],
            pending: vec![None; per(n_hosts)],
            restarts: vec![0; n_vms],
        }
    }

    pub fn enabled(&self) -> bool {
        self.spec.is_some()
    }

    /// Starts a running guest's crash clock.
    pub fn arm(&mut self, v: VmId, host: HostId, s: &mut impl Scheduler<Event>) {
        let Some(g) = &self.spec else { return };
        let d = g.time_between.sample(&mut self.rng[v.index()]);
        self.disarm(v, host);
        let at = s.now() + d;
        self.crash_at[v.index()] = Some(at);
        let clocks = &mut self.clocks[host.index()];
        let earliest = clocks.first().map(|e| e.0);
        clocks.insert((at, v));
        if earliest.is_none_or(|e| at < e) {
            self.schedule_host_event(host, s);
        }
    }

    /// Stops a guest's crash clock (it stopped running, crashed or moved away from `host`).
    /// A pending event for it finds nothing due and re-arms for the next one.
    pub fn disarm(&mut self, v: VmId, host: HostId) {
        if let Some(at) = self.crash_at.get_mut(v.index()).and_then(Option::take) {
            self.clocks[host.index()].remove(&(at, v));
        }
    }

    /// The host died: every clock on it stops, and so does its pending crash event.
    pub fn clear_host(&mut self, h: HostId, residents: &[VmId], s: &mut impl Scheduler<Event>) {
        if !self.enabled() {
            return;
        }
        for v in residents {
            self.crash_at[v.index()] = None;
        }
        self.clocks[h.index()].clear();
        if let Some(old) = self.pending[h.index()].take() {
            s.cancel(old);
        }
    }

    /// Queues the host's earliest due crash, replacing the pending one.
    pub fn schedule_host_event(&mut self, h: HostId, s: &mut impl Scheduler<Event>) {
        let e = &mut self.epoch[h.index()];
        *e = e.wrapping_add(1);
        let epoch = *e;
        if let Some(old) = self.pending[h.index()].take() {
            s.cancel(old);
        }
        if let Some(&(at, _)) = self.clocks[h.index()].first() {
            self.pending[h.index()] = s.at(at.max(s.now()), Event::Crash { host: h, epoch });
        }
    }

    pub fn is_current(&self, h: HostId, epoch: u32) -> bool {
        self.epoch[h.index()] == epoch
    }

    /// The next guest of `h` whose crash is due at `now`, removed from its clock.
    pub fn take_due(&mut self, h: HostId, now: SimTime) -> Option<VmId> {
        let &(at, v) = self.clocks[h.index()].first()?;
        if at > now {
            return None;
        }
        self.clocks[h.index()].remove(&(at, v));
        self.crash_at[v.index()] = None;
        Some(v)
    }

    pub fn restarts(&self, v: VmId) -> u32 {
        self.restarts[v.index()]
    }

    pub fn count_restart(&mut self, v: VmId) {
        self.restarts[v.index()] += 1;
    }

    pub fn reset_restarts(&mut self, v: VmId) {
        self.restarts[v.index()] = 0;
    }
}
