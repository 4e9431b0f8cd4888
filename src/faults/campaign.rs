//! Maintenance campaigns at run time: each campaign's current cycle (a queue per fault domain,
//! visited round-robin), each host's turn (draining or under work, what is left to drain, the
//! VMs queued to live-migrate off it, those that left), and each VM's part in it. The engine
//! drives the drain (`engine/maintenance.rs`); this owns the state and the campaign events.

use crate::core::time::SimTime;
use crate::world::ids::{HostId, VmId};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A campaign (re)starts its cycle.
    Start { campaign: u32 },
    /// A terminating VM's maintenance notice runs out.
    NoticeEnd { vm: VmId, host_gen: u32 },
    /// A host's maintenance work is done; it powers on.
    WorkDone { host: HostId },
    /// A host back from maintenance reports up: its departed VMs may migrate home.
    MigrateBack { host: HostId, gen: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintPhase {
    Draining,
    Working,
}

/// One campaign's current cycle.
#[derive(Clone, Debug, Default)]
pub struct CycleState {
    pub running: bool,
    pub queues: Vec<VecDeque<HostId>>,
    pub next_fd: usize,
    pub active: Vec<HostId>,
    pub active_per_fd: Vec<u32>,
    pub done: usize,
    pub started_at: SimTime,
}

/// A host's part in maintenance.
#[derive(Clone, Debug, Default)]
pub struct HostTurn {
    /// Draining or under work, and for which campaign.
    pub phase: Option<(MaintPhase, u32)>,
    /// VMs still to leave the host before its work starts (queued, migrating, under notice).
    pub drain_pending: u32,
    /// VMs waiting to live-migrate off this host.
    pub queue: VecDeque<VmId>,
    /// VMs that live-migrated away in the current drain (for `migrate_back`).
    pub departed: Vec<VmId>,
}

/// A VM's part in maintenance.
#[derive(Clone, Copy, Debug, Default)]
pub struct VmTurn {
    /// Stopped or moved by maintenance (downtime cause `maintenance`).
    pub down: bool,
    /// Live-migration attempts in the current drain.
    pub attempts: u32,
    /// A queued migration back to the host it left for maintenance.
    pub back_to: Option<HostId>,
}

pub struct Campaigns {
    pub cycles: Vec<CycleState>,
    pub hosts: Vec<HostTurn>,
    pub vms: Vec<VmTurn>,
}

impl Campaigns {
    /// Starts loading a VM's maintenance turn into the cache (see `core::prefetch`).
    pub fn prefetch_vm(&self, v: VmId) {
        crate::core::prefetch::prefetch(&self.vms[v.index()]);
    }

    pub fn new(n_campaigns: usize, n_hosts: usize, n_vms: usize) -> Self {
        Campaigns {
            cycles: vec![CycleState::default(); n_campaigns],
            hosts: vec![HostTurn::default(); n_hosts],
            vms: vec![VmTurn::default(); n_vms],
        }
    }

    pub fn phase(&self, h: HostId) -> Option<(MaintPhase, u32)> {
        self.hosts[h.index()].phase
    }

    pub fn in_maintenance(&self, h: HostId) -> bool {
        self.hosts[h.index()].phase.is_some()
    }

    pub fn draining(&self, h: HostId) -> bool {
        matches!(self.hosts[h.index()].phase, Some((MaintPhase::Draining, _)))
    }

    pub fn working(&self, h: HostId) -> bool {
        matches!(self.hosts[h.index()].phase, Some((MaintPhase::Working, _)))
    }

    pub fn any_running(&self) -> bool {
        self.cycles.iter().any(|c| c.running)
    }
}
