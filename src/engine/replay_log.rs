//! The replay recorder: the event timeline of one replication for `hasim replay`. What it
//! records, in the order it happened: changes of each host's truth (power, hardware, network,
//! fencing, BMC), of what the monitors and Nova's records say of it (cluster membership, the HA
//! incident, the nova-compute service, its disabled and forced-down flags), every observation
//! the policy got and every command it gave, and every change of a VM's accounting state.
//!
//! It is off unless asked for (`Simulation::with_replay_log`), and off it costs one `Option` test per
//! event and per VM state change: hosts are compared after each event only while recording.
//! Rendering and filtering are `crate::replay`'s job; this module only collects.

use super::Simulation;
use crate::core::time::SimTime;
use crate::infra::membership::Incident;
use crate::metrics::ledger::VmState;
use crate::policy::api::{Command, Observation};
use crate::world::ids::{HostId, VmId};

/// Most entries one trace holds; past it the trace stops growing and says so (`truncated`).
/// An engineering limit: 10 M entries is a few GB of text, far more than a person reads.
pub const MAX_LOG_ENTRIES: usize = 10_000_000;

/// What a host's truth and the monitors' view of it are at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HostLook {
    up: bool,
    hardware_failed: bool,
    partitioned: bool,
    fenced: bool,
    bmc_reachable: bool,
    compute_reporting: bool,
    cluster_member: bool,
    incident: Incident,
    service_up: bool,
    disabled: bool,
    forced_down: bool,
}

/// Who a host fact belongs to: the truth, or a view of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// What really holds (`world::truth`).
    Truth,
    /// What a monitor or Nova's records say (membership, HA pipeline, service group).
    Monitor,
}

/// One entry of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub enum LogEntry {
    /// A host fact changed: `fact` went from `from` to `to` (`"true"`, `"false"`, a state).
    Host {
        t: SimTime,
        host: u32,
        layer: Layer,
        fact: &'static str,
        from: &'static str,
        to: &'static str,
    },
    /// A VM's accounting state changed; `host` is where it is after the change.
    Vm {
        t: SimTime,
        vm: u32,
        host: u32,
        from: VmState,
        to: VmState,
    },
    /// The policy received an observation.
    Observation {
        t: SimTime,
        observation: Observation,
    },
    /// The policy gave a command, in answer to the observation before it.
    Command { t: SimTime, command: Command },
}

impl LogEntry {
    pub fn time(&self) -> SimTime {
        match self {
            LogEntry::Host { t, .. }
            | LogEntry::Vm { t, .. }
            | LogEntry::Observation { t, .. }
            | LogEntry::Command { t, .. } => *t,
        }
    }
}

/// The recorded timeline of one replication.
#[derive(Clone, Debug, Default)]
pub struct ReplayLog {
    pub entries: Vec<LogEntry>,
    /// Whether entries were dropped at `MAX_LOG_ENTRIES`.
    pub truncated: bool,
    hosts: Vec<HostLook>,
    /// Policy steps already turned into entries.
    steps_seen: usize,
}

impl ReplayLog {
    fn push(&mut self, e: LogEntry) {
        if self.entries.len() < MAX_LOG_ENTRIES {
            self.entries.push(e);
        } else {
            self.truncated = true;
        }
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn incident_name(i: Incident) -> &'static str {
    match i {
        Incident::None => "none",
        Incident::Undetected => "undetected",
        Incident::Fencing => "fencing",
        Incident::Recovering => "recovering",
    }
}

impl Simulation<'_> {
    /// Records the replay timeline of this replication (and the policy's steps, which it
    /// includes).
    pub fn with_replay_log(mut self) -> Self {
        let hosts = (0..self.truth.host_count())
            .map(|h| self.host_look(HostId(h as u32)))
            .collect();
        self.replay = Some(Box::new(ReplayLog {
            hosts,
            ..ReplayLog::default()
        }));
        self.with_recorder()
    }

    fn host_look(&self, h: HostId) -> HostLook {
        let t = self.truth.host(h);
        let node = self.membership.node(h.index());
        let nova = &self.model.infra.nova;
        HostLook {
            up: t.up(),
            hardware_failed: t.hw_outages() > 0,
            partitioned: t.partitioned(),
            fenced: t.fenced(),
            bmc_reachable: t.bmc_reachable(),
            compute_reporting: t.reporting(),
            cluster_member: node.online,
            incident: node.incident,
            service_up: self.service.is_up(h.index(), self.sched.now, nova),
            disabled: self.service.disabled(h.index()),
            forced_down: self.service.reporter(h.index()).forced_down,
        }
    }

    /// Turns the policy steps recorded since the last call into entries.
    fn log_steps(&mut self) {
        let Some(tr) = self.replay.as_deref_mut() else {
            return;
        };
        let steps = self.boundary.recorded();
        for s in &steps[tr.steps_seen..] {
            let t = SimTime(s.now_us);
            tr.push(LogEntry::Observation {
                t,
                observation: s.observation.clone(),
            });
            for c in &s.commands {
                tr.push(LogEntry::Command {
                    t,
                    command: c.clone(),
                });
            }
        }
        tr.steps_seen = steps.len();
    }

    /// Records a VM's state change (called only when the state changed and a trace is on).
    pub(super) fn log_vm(&mut self, v: VmId, from: VmState, to: VmState) {
        self.log_steps();
        let (t, host) = (self.sched.now, self.truth.vm(v).host().0);
        if let Some(tr) = self.replay.as_deref_mut() {
            tr.push(LogEntry::Vm {
                t,
                vm: v.0,
                host,
                from,
                to,
            });
        }
    }

    /// After an event: the policy's steps, then every host fact that changed. Truth and
    /// membership changes of the event go before what it made the policy do (`mark`: the
    /// entries when the event began); Nova's records, which commands change, after.
    pub(super) fn log_event(&mut self, mark: usize) {
        self.log_steps();
        let Some(mut tr) = self.replay.take() else {
            return;
        };
        let nova = &self.model.infra.nova;
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for h in 0..tr.hosts.len() {
            let now = self.host_look(HostId(h as u32));
            let old = tr.hosts[h];
            if now == old {
                continue;
            }
            let host = h as u32;
            let t = self.sched.now;
            let fact = |list: &mut Vec<LogEntry>, t, layer, fact, from, to| {
                list.push(LogEntry::Host {
                    t,
                    host,
                    layer,
                    fact,
                    from,
                    to,
                })
            };
            for (name, a, b) in [
                ("hardware_failed", old.hardware_failed, now.hardware_failed),
                ("bmc_reachable", old.bmc_reachable, now.bmc_reachable),
                ("partitioned", old.partitioned, now.partitioned),
                ("fenced", old.fenced, now.fenced),
                ("up", old.up, now.up),
                (
                    "compute_reporting",
                    old.compute_reporting,
                    now.compute_reporting,
                ),
            ] {
                if a != b {
                    fact(&mut before, t, Layer::Truth, name, flag(a), flag(b));
                }
            }
            if old.cluster_member != now.cluster_member {
                let (a, b) = (flag(old.cluster_member), flag(now.cluster_member));
                fact(&mut before, t, Layer::Monitor, "cluster_member", a, b);
            }
            if old.incident != now.incident {
                let (a, b) = (incident_name(old.incident), incident_name(now.incident));
                fact(&mut before, t, Layer::Monitor, "ha_incident", a, b);
            }
            if old.service_up != now.service_up {
                // The service group is asked, not told: its state changed when the last report
                // grew too old (or the first after a resume came), at or before now.
                let r = self.service.reporter(h);
                let when = if now.forced_down != old.forced_down {
                    t
                } else if now.service_up {
                    r.up_at(nova).unwrap_or(t)
                } else {
                    r.down_at(nova).unwrap_or(t)
                };
                let (a, b) = (flag(old.service_up), flag(now.service_up));
                fact(
                    &mut after,
                    when.min(t),
                    Layer::Monitor,
                    "nova_service_up",
                    a,
                    b,
                );
            }
            for (name, a, b) in [
                ("nova_disabled", old.disabled, now.disabled),
                ("nova_forced_down", old.forced_down, now.forced_down),
            ] {
                if a != b {
                    fact(&mut after, t, Layer::Monitor, name, flag(a), flag(b));
                }
            }
            tr.hosts[h] = now;
        }
        let mark = mark.min(tr.entries.len());
        if tr.entries.len() + before.len() + after.len() <= MAX_LOG_ENTRIES {
            tr.entries.splice(mark..mark, before);
            tr.entries.extend(after);
        } else {
            tr.truncated = true;
        }
        self.replay = Some(tr);
    }

    /// Entries recorded so far (the mark `trace_event` takes).
    pub(super) fn log_len(&self) -> usize {
        self.replay.as_ref().map_or(0, |t| t.entries.len())
    }
}
