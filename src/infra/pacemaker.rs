//! Pacemaker on pacemaker_remote compute nodes: the remote-connection monitor that notices a
//! lost node at its next tick, stonith through fence_ipmilan, and the reconnect of a returned
//! node (TripleO's `monitor interval` 20 s and `reconnect_interval` 60 s; stonith-timeout 60 s,
//! up to 10 attempts; fence_ipmilan onoff: `power_wait` 2 s plus a 1 s status poll).
//!
//! Owns each node's fencing sequence and attempt count; the engine turns a fence's success into
//! the truth (the host is powered off) and the observation.

use super::config::{IpmiConfig, PacemakerConfig};
use crate::core::sched::Scheduler;
use crate::world::ids::HostId;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The remote-connection monitor checks a node that became unreachable.
    NodeCheck { host: HostId, epoch: u32 },
    /// A stonith attempt ends.
    FenceDone { host: HostId, seq: u32, ok: bool },
    /// Pacemaker tries to reconnect to a node that is reachable again.
    NodeRejoin { host: HostId, epoch: u32 },
}

#[derive(Clone, Debug)]
pub struct Pacemaker {
    fence_seq: Vec<u32>,
    fence_attempts: Vec<u32>,
}

impl Pacemaker {
    pub fn new(n_hosts: usize) -> Self {
        Pacemaker {
            fence_seq: vec![0; n_hosts],
            fence_attempts: vec![0; n_hosts],
        }
    }

    /// Starts a stonith attempt. An unreachable BMC never answers and Pacemaker gives up at
    /// stonith-timeout.
    pub fn start_attempt(
        &mut self,
        h: HostId,
        bmc_reachable: bool,
        cfg: &PacemakerConfig,
        ipmi: &IpmiConfig,
        s: &mut impl Scheduler<Event>,
    ) {
        let seq = &mut self.fence_seq[h.index()];
        *seq = seq.wrapping_add(1);
        let seq = *seq;
        let (after, ok) = if bmc_reachable {
            (ipmi.power_wait + ipmi.status_sleep, true)
        } else {
            (cfg.stonith_timeout, false)
        };
        s.after(after, Event::FenceDone { host: h, seq, ok });
    }

    pub fn is_current(&self, h: HostId, seq: u32) -> bool {
        self.fence_seq[h.index()] == seq
    }

    pub fn reset_attempts(&mut self, h: HostId) {
        self.fence_attempts[h.index()] = 0;
    }

    /// Counts a failed attempt; true if another one is allowed.
    pub fn failed_attempt(&mut self, h: HostId, cfg: &PacemakerConfig) -> bool {
        let a = &mut self.fence_attempts[h.index()];
        *a += 1;
        *a < cfg.stonith_max_attempts
    }
}
