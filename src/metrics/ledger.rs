//! Accounting while a replication runs: time each VM spends in each state, host downtime inside
//! each host's observed window, and how long k hosts were down at once.
//!
//! Ledgers are updated on state changes only (no per-tick work) and read once, at the horizon.

use super::samples::Durations;
use crate::core::time::SimTime;
use crate::world::ids::{HostId, VmId};

/// VM states for availability accounting (DESIGN.md §3). `Running` and `Degraded` count as
/// available; `Stopped` (its user stopped it) counts neither way: availability is over the time
/// a VM should run. Every other state is downtime, split by cause.
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
    /// Off (Nova SHUTOFF) though its user wants it running: its host rebooted with
    /// `resume_guests_state_on_host_boot = False`, or a policy powered it off; until started.
    ShutOff,
    /// Stopped by its user: not meant to run, so neither up nor down.
    Stopped,
}

pub const VM_STATES: usize = 12;

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
        VmState::ShutOff,
        VmState::Stopped,
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
            VmState::ShutOff => "shutoff",
            VmState::Stopped => "stopped",
        }
    }

    pub fn is_available(self) -> bool {
        matches!(self, VmState::Running | VmState::Degraded)
    }

    /// Counts toward a VM's lifetime: every state but `Stopped`.
    pub fn should_run(self) -> bool {
        self != VmState::Stopped
    }

    /// Part of an outage: should run and is not available.
    pub fn is_outage(self) -> bool {
        self.should_run() && !self.is_available()
    }
}

/// Most outage episodes kept per replication: enough for any percentile, bounded memory.
pub const MAX_EPISODES: usize = 2_000_000;

/// A VM's current state and since when.
#[derive(Clone, Copy, Debug)]
struct Current {
    since: SimTime,
    state: VmState,
}

/// A VM's time so far in each state but `Running` (which is the rest of the horizon, worked
/// out at the end), and when its current outage began (meaningful while unavailable).
#[derive(Clone, Copy, Debug)]
struct Past {
    time_us: [u64; VM_STATES - 1],
    outage_start: SimTime,
}

/// Time in each state per VM, and the length of every outage (available → available again).
///
/// Laid out for the cache: a state change reads the VM's `Current` (16 bytes a VM, 3.2 MB at
/// 200k VMs) and touches its `Past` record only when the state it leaves is not `Running`
/// or the change starts an outage. A live migration's start (running → degraded), the most
/// common change, touches `Current` alone.
pub struct VmLedger {
    current: Vec<Current>,
    past: Vec<Past>,
    /// Set by `finish`: every VM is accounted from 0 to here.
    end: Option<SimTime>,
    /// Completed outages, in completion order (capped at `MAX_EPISODES`).
    outage_us: Durations,
    /// VMs currently unavailable.
    pub unavailable: u32,
}

impl VmLedger {
    /// Starts loading a VM's accounting into the cache (see `core::prefetch`).
    pub fn prefetch(&self, vm: VmId) {
        crate::core::prefetch::prefetch(&self.current[vm.index()]);
        crate::core::prefetch::prefetch(&self.past[vm.index()]);
    }

    pub fn new(n_vms: usize) -> Self {
        VmLedger {
            current: vec![
                Current {
                    since: SimTime::ZERO,
                    state: VmState::Running
                };
                n_vms
            ],
            past: vec![
                Past {
                    time_us: [0; VM_STATES - 1],
                    outage_start: SimTime::ZERO,
                };
                n_vms
            ],
            end: None,
            outage_us: Durations::default(),
            unavailable: 0,
        }
    }

    pub fn state(&self, vm: VmId) -> VmState {
        self.current[vm.index()].state
    }

    pub fn set(&mut self, vm: VmId, now: SimTime, s: VmState) {
        let cur = self.current[vm.index()];
        let old = cur.state;
        if old == s {
            return;
        }
        self.current[vm.index()] = Current {
            since: now,
            state: s,
        };
        if old != VmState::Running {
            self.past[vm.index()].time_us[old as usize - 1] += now.since(cur.since).as_us();
        }
        match (old.is_outage(), s.is_outage()) {
            (false, true) => {
                self.past[vm.index()].outage_start = now;
                self.unavailable += 1;
            }
            (true, false) => {
                self.unavailable -= 1;
                if self.outage_us.len() < MAX_EPISODES {
                    let start = self.past[vm.index()].outage_start;
                    self.outage_us.push(now.since(start).as_us());
                }
            }
            _ => {}
        }
    }

    /// The time in each state of every VM (after `finish`).
    pub fn take_times(&mut self) -> Vec<[u64; VM_STATES]> {
        let end = self.end.expect("take_times after finish").as_us();
        self.past
            .iter()
            .map(|p| {
                let mut t = [0; VM_STATES];
                t[1..].copy_from_slice(&p.time_us);
                t[0] = end - p.time_us.iter().sum::<u64>();
                t
            })
            .collect()
    }

    /// Every recorded outage length, leaving the ledger without them.
    pub fn take_outages(&mut self) -> Durations {
        std::mem::take(&mut self.outage_us)
    }

    /// Closes every open interval at `end`.
    pub fn finish(&mut self, end: SimTime) {
        for (c, p) in self.current.iter_mut().zip(&mut self.past) {
            let state = c.state;
            if state != VmState::Running {
                p.time_us[state as usize - 1] += end.since(c.since).as_us();
            }
            *c = Current { since: end, state };
        }
        self.end = Some(end);
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
