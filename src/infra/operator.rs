//! The human operator (`[operator]`): the OpenStack Operations Guide's manual runbook for a
//! failed compute node ("Compute Node Failures and Maintenance",
//! openstack-manuals doc/ops-guide/source/ops-maintenance-compute.rst), beside whatever HA
//! policy runs or none.
//!
//! The runbook, as modelled: the operator notices a failed host `detection_delay` after it
//! dies (their monitoring, or users reporting their servers down). If the host is back by then,
//! or when it comes back, they start each of its servers left SHUTOFF ("none of the instances
//! are running" after a reboot; `nova start` / `reboot --hard` each). If it is still down
//! `relaunch_after` after they noticed ("decide the node won't be fixed within N"), they
//! relaunch its servers elsewhere — only those whose disks survive the host
//! (`/var/lib/nova/instances` on shared storage, or a boot volume) — one by one, re-attaching
//! each boot volume (`volume_reattach_time`; the guide detaches and re-attaches volumes once the
//! guest is at its login prompt; here the step is done before the rebuild, which gives the
//! same sum for each server). A crashed guest is noticed and started the same way. Once a
//! host Masakari left `on_maintenance` is back, they clear the flag after
//! `clear_maintenance_after`.
//!
//! One operator does one action at a time (`instance_action_time` each, a FIFO queue). Every
//! number is a what-if input: the guide gives none, so there are no defaults.
//!
//! This component owns the queue and the timers; the engine (`engine::operator`) reads the
//! truth and carries the actions out through Nova's API like any other client.

use crate::core::sched::Scheduler;
use crate::core::time::SimDuration;
use crate::world::ids::{HostId, VmId};
use std::collections::VecDeque;

/// `[operator]`: every key is a what-if input (no source gives these numbers).
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorConfig {
    /// From a host's failure (or a guest's crash) to the operator knowing of it.
    pub detection_delay: SimDuration,
    /// Hands-on time of one instance action (start, relaunch), one at a time.
    pub instance_action_time: SimDuration,
    /// Relaunch a host's servers elsewhere once it has been down this long after it was
    /// noticed; `None`: always wait for the repair.
    pub relaunch_after: Option<SimDuration>,
    /// Extra hands-on time per relaunched boot-from-volume server (detach and re-attach).
    pub volume_reattach_time: SimDuration,
    /// Clear Masakari's `on_maintenance` this long after the host is back; `None`: never.
    pub clear_maintenance_after: Option<SimDuration>,
}

/// One hands-on action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start a server left off (SHUTOFF or crashed) on its host.
    Start { vm: VmId },
    /// Relaunch a server of a dead host elsewhere (Nova evacuate).
    Relaunch { vm: VmId, from: HostId },
}

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The operator learns that a host died (valid for host generation `gen`).
    HostNoticed { host: HostId, gen: u32 },
    /// "Won't be fixed within N": relaunch its servers if it is still down.
    Decide { host: HostId, gen: u32 },
    /// A crashed guest is reported.
    VmNoticed { vm: VmId },
    /// Clear Masakari's `on_maintenance` of a returned host.
    ClearMaintenance { host: HostId, gen: u32 },
    /// The action in hand is done.
    ActionDone,
}

/// The operator's state: what they know, their queue, the action in hand.
pub struct Operator {
    cfg: Option<OperatorConfig>,
    /// The generation of each host's failure the operator knows of and has not yet dealt with.
    noticed: Vec<Option<u32>>,
    queue: VecDeque<Action>,
    current: Option<Action>,
}

impl Operator {
    pub fn new(cfg: Option<&OperatorConfig>, n_hosts: usize) -> Self {
        let n = if cfg.is_some() { n_hosts } else { 0 };
        Operator {
            cfg: cfg.cloned(),
            noticed: vec![None; n],
            queue: VecDeque::new(),
            current: None,
        }
    }

    pub fn config(&self) -> Option<&OperatorConfig> {
        self.cfg.as_ref()
    }

    /// A host died unplanned: the operator will know after the detection delay.
    pub fn host_failed(&mut self, h: HostId, gen: u32, s: &mut impl Scheduler<Event>) {
        if let Some(c) = &self.cfg {
            s.after(c.detection_delay, Event::HostNoticed { host: h, gen });
        }
    }

    /// A guest crashed: reported after the detection delay.
    pub fn vm_crashed(&mut self, v: VmId, s: &mut impl Scheduler<Event>) {
        if let Some(c) = &self.cfg {
            s.after(c.detection_delay, Event::VmNoticed { vm: v });
        }
    }

    /// The operator knows the host is down: they watch it and, if set, decide on a relaunch.
    pub fn watch(&mut self, h: HostId, gen: u32, s: &mut impl Scheduler<Event>) {
        let Some(c) = &self.cfg else { return };
        self.noticed[h.index()] = Some(gen);
        if let Some(after) = c.relaunch_after {
            s.after(after, Event::Decide { host: h, gen });
        }
    }

    /// Whether the operator is watching this failure of the host; forgets it (it is back).
    pub fn take_watch(&mut self, h: HostId, gen: u32) -> bool {
        match self.noticed.get_mut(h.index()) {
            Some(n) if *n == Some(gen) => {
                *n = None;
                true
            }
            _ => false,
        }
    }

    pub fn watching(&self, h: HostId, gen: u32) -> bool {
        self.noticed.get(h.index()) == Some(&Some(gen))
    }

    /// Schedules the `on_maintenance` clean-up of a returned host, if the operator does it.
    pub fn host_returned(&mut self, h: HostId, gen: u32, s: &mut impl Scheduler<Event>) {
        if let Some(after) = self.cfg.as_ref().and_then(|c| c.clear_maintenance_after) {
            s.after(after, Event::ClearMaintenance { host: h, gen });
        }
    }

    /// Queues an action; starts it if the operator's hands are free.
    pub fn enqueue(&mut self, a: Action, hands_on: SimDuration, s: &mut impl Scheduler<Event>) {
        if self.current.is_none() {
            self.current = Some(a);
            s.after(hands_on, Event::ActionDone);
        } else {
            self.queue.push_back(a);
        }
    }

    /// The action in hand is done: returns it and the next one, which is now in hand.
    pub fn finish(&mut self) -> (Option<Action>, Option<Action>) {
        let done = self.current.take();
        self.current = self.queue.pop_front();
        (done, self.current)
    }
}
