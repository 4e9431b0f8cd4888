//! Accounting while a replication runs: time each VM spends in each state, host downtime inside
//! each host's observed window, and how long k hosts were down at once.
//!
//! Ledgers are updated on state changes only (no per-tick work) and read once, at the horizon.

use super::samples::Durations;
use crate::core::time::SimTime;
use crate::world::ids::{HostId, VmId};

/// VM states for availability accounting (DESIGN.md §3). `Running` and `Degraded` count as
/// available; every other state is downtime, split by cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum VmState {
    Running = 0,
    Degraded,
    Blackout,
    /// Its host is down (crashed, in a domain outage, or booting after repair).
    HostFailure,
    Detection,
    Fencing,
    /// Being rebuilt or booting again.
    Recovery,
    NoCapacity,
    Maintenance,
    GuestCrash,
}

pub const VM_STATES: usize = 10;

impl VmState {
    pub const ALL: [VmState; VM_STATES] = [
        VmState::Running,
        VmState::Degraded,
        VmState::Blackout,
        VmState::HostFailure,
        VmState::Detection,
        VmState::Fencing,
        VmState::Recovery,
        VmState::NoCapacity,
        VmState::Maintenance,
        VmState::GuestCrash,
    ];

    /// Names used in CSV columns and metric names.
    pub fn name(self) -> &'static str {
        match self {
            VmState::Running => "running",
            VmState::Degraded => "degraded",
            VmState::Blackout => "blackout",
            VmState::HostFailure => "host_failure",
            VmState::Detection => "detection",
            VmState::Fencing => "fencing",
            VmState::Recovery => "recovery",
            VmState::NoCapacity => "no_capacity",
            VmState::Maintenance => "maintenance",
            VmState::GuestCrash => "guest_crash",
        }
    }

    pub fn is_available(self) -> bool {
        matches!(self, VmState::Running | VmState::Degraded)
    }
}

/// Most outage episodes kept per replication: enough for any percentile, bounded memory.
pub const MAX_EPISODES: usize = 2_000_000;

/// One VM's accounting, kept together so a state change touches one place.
#[derive(Clone, Copy, Debug)]
struct VmRecord {
    /// Time in each state so far.
    time_us: [u64; VM_STATES],
    since: SimTime,
    /// When the current outage began (meaningful while unavailable).
    outage_start: SimTime,
    state: VmState,
}

/// Time in each state per VM, and the length of every outage (available → available again).
pub struct VmLedger {
    records: Vec<VmRecord>,
    /// Completed outages, in completion order (capped at `MAX_EPISODES`).
    outage_us: Durations,
    /// VMs currently unavailable.
    pub unavailable: u32,
}

impl VmLedger {
    pub fn new(n_vms: usize) -> Self {
        VmLedger {
            records: vec![
                VmRecord {
                    time_us: [0; VM_STATES],
                    since: SimTime::ZERO,
                    outage_start: SimTime::ZERO,
                    state: VmState::Running,
                };
                n_vms
            ],
            outage_us: Durations::default(),
            unavailable: 0,
        }
    }

    pub fn state(&self, vm: VmId) -> VmState {
        self.records[vm.index()].state
    }

    pub fn set(&mut self, vm: VmId, now: SimTime, s: VmState) {
        let r = &mut self.records[vm.index()];
        let old = r.state;
        if old == s {
            return;
        }
        r.time_us[old as usize] += now.since(r.since).as_us();
        r.state = s;
        r.since = now;
        match (old.is_available(), s.is_available()) {
            (true, false) => {
                r.outage_start = now;
                self.unavailable += 1;
            }
            (false, true) => {
                self.unavailable -= 1;
                if self.outage_us.len() < MAX_EPISODES {
                    self.outage_us.push(now.since(r.outage_start).as_us());
                }
            }
            _ => {}
        }
    }

    /// The time in each state of every VM (after `finish`).
    pub fn take_times(&mut self) -> Vec<[u64; VM_STATES]> {
        self.records.iter().map(|r| r.time_us).collect()
    }

    /// Every recorded outage length, leaving the ledger without them.
    pub fn take_outages(&mut self) -> Durations {
        std::mem::take(&mut self.outage_us)
    }

    /// Closes every open interval at `end`.
    pub fn finish(&mut self, end: SimTime) {
        for r in &mut self.records {
            r.time_us[r.state as usize] += end.since(r.since).as_us();
            r.since = end;
        }
    }
}

/// Host downtime (failure to back in service), clipped to each host's observed window.
pub struct HostLedger {
    down_since: Vec<Option<SimTime>>,
    window: Vec<(SimTime, SimTime)>,
    pub down_us: Vec<u64>,
    pub failures: Vec<u32>,
    down_now: usize,
    last_change: SimTime,
    /// `concurrency_us[k]`: time with exactly k hosts down.
    pub concurrency_us: Vec<u64>,
}

impl HostLedger {
    pub fn new(window: Vec<(SimTime, SimTime)>) -> Self {
        let n = window.len();
        HostLedger {
            down_since: vec![None; n],
            window,
            down_us: vec![0; n],
            failures: vec![0; n],
            down_now: 0,
            last_change: SimTime::ZERO,
            concurrency_us: vec![0],
        }
    }

    fn tick(&mut self, now: SimTime) {
        if self.concurrency_us.len() <= self.down_now {
            self.concurrency_us.resize(self.down_now + 1, 0);
        }
        self.concurrency_us[self.down_now] += now.since(self.last_change).as_us();
        self.last_change = now;
    }

    pub fn hosts_down(&self) -> usize {
        self.down_now
    }

    /// A host stops serving. `counts_as_failure` is false for outages that are not failures.
    pub fn down(&mut self, h: HostId, now: SimTime, counts_as_failure: bool) {
        self.tick(now);
        self.down_now += 1;
        self.down_since[h.index()] = Some(now);
        if counts_as_failure {
            self.failures[h.index()] += 1;
        }
    }

    pub fn up(&mut self, h: HostId, now: SimTime) {
        self.tick(now);
        self.down_now -= 1;
        if let Some(since) = self.down_since[h.index()].take() {
            self.down_us[h.index()] += self.clipped(h, since, now);
        }
    }

    fn clipped(&self, h: HostId, a: SimTime, b: SimTime) -> u64 {
        let (ws, we) = self.window[h.index()];
        let (lo, hi) = (a.max(ws), b.min(we));
        hi.since(lo).as_us()
    }

    pub fn finish(&mut self, end: SimTime) {
        self.tick(end);
        for i in 0..self.down_since.len() {
            if let Some(since) = self.down_since[i].take() {
                self.down_us[i] += self.clipped(HostId(i as u32), since, end);
            }
        }
    }

    /// Observed time of each host inside `[0, end]`.
    pub fn observed_us(&self, end: SimTime) -> Vec<u64> {
        self.window
            .iter()
            .map(|&(ws, we)| we.min(end).since(ws).as_us())
            .collect()
    }
}

/// How many hosts and VMs were down over time, for the timeline plot of one replication.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// `(time, hosts down, VMs unavailable)` at every change, in time order.
    pub points: Vec<(SimTime, u32, u32)>,
    /// True when the cap cut the recording short.
    pub truncated: bool,
}

/// Most timeline points recorded: a plot cannot show more, and memory stays bounded.
pub const MAX_TIMELINE_POINTS: usize = 500_000;

impl Timeline {
    pub fn record(&mut self, now: SimTime, hosts_down: u32, vms_down: u32) {
        if let Some(last) = self.points.last_mut() {
            if (last.1, last.2) == (hosts_down, vms_down) {
                return;
            }
            if last.0 == now {
                *last = (now, hosts_down, vms_down);
                return;
            }
        }
        if self.points.len() >= MAX_TIMELINE_POINTS {
            self.truncated = true;
            return;
        }
        self.points.push((now, hosts_down, vms_down));
    }
}
