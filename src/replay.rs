//! `hasim replay`: one replication's event timeline, as readable text or JSON lines, filtered
//! by time window, VM or host. The engine records (`engine::ReplayLog`); this module runs the
//! replication, orders and filters the entries and renders them. It never changes a number: a
//! replay is replication R of the same seed, and the recorder only reads.

use crate::core::time::SimTime;
use crate::engine::{InvariantViolation, Layer, LogEntry, RecordedStep, ReplayLog, Simulation};
use crate::scenario::model::Model;
use serde_json::{json, Value};

/// What `hasim replay` shows: a time window and at most one VM or host.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub from: Option<SimTime>,
    pub to: Option<SimTime>,
    pub vm: Option<u32>,
    pub host: Option<u32>,
}

/// One replication's timeline and how it ended.
pub struct Replay {
    pub replication: u32,
    /// Entries in time order (same-time entries in the order they happened).
    pub entries: Vec<LogEntry>,
    pub truncated: bool,
    /// Every policy step, for `--policy-log`.
    pub steps: Vec<RecordedStep>,
    /// The violation that stopped the replication, if one did.
    pub violation: Option<InvariantViolation>,
}

/// Runs replication `r` of `model`, recording its timeline.
pub fn replay(model: &Model, r: u32) -> Replay {
    let (outcome, log, steps): (_, ReplayLog, _) =
        Simulation::new(model, r).with_replay_log().run_logged();
    let mut entries = log.entries;
    // Nova's service state is read off heartbeats, so its changes are stamped with the instant
    // they took effect, which can precede the event that noticed them: a stable sort puts them
    // in place and keeps the order of same-time entries.
    entries.sort_by_key(LogEntry::time);
    Replay {
        replication: r,
        entries,
        truncated: log.truncated,
        steps,
        violation: outcome.err(),
    }
}

/// `[[d]d ]hh:mm:ss.uuuuuu`: readable and exact to the microsecond.
pub fn clock(t: SimTime) -> String {
    let us = t.as_us();
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}.{frac:06}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{frac:06}")
    }
}

/// The `host` and `vm` a policy message names (serde shapes of `policy::api`).
fn named(v: &Value, key: &str) -> Option<u32> {
    v.get(key)?.as_u64().and_then(|x| u32::try_from(x).ok())
}

fn policy_value(e: &LogEntry) -> Option<Value> {
    match e {
        LogEntry::Observation { observation, .. } => serde_json::to_value(observation).ok(),
        LogEntry::Command { command, .. } => serde_json::to_value(command).ok(),
        _ => None,
    }
}

/// The entries the filter keeps, in order. A VM's view follows it from host to host: it shows
/// the VM's changes, and the host facts and policy messages of the host it is on at the time.
/// A host's view shows its facts, the VMs on it and the policy messages naming it or them.
pub fn select<'a>(model: &Model, replay: &'a Replay, f: &Filter) -> Vec<&'a LogEntry> {
    let mut where_is: Vec<u32> = model.placement.iter().map(|h| h.0).collect();
    let mut out = Vec::new();
    let mut last_observation: Option<(&LogEntry, bool)> = None;
    for e in &replay.entries {
        let t = e.time();
        // Placement is tracked before the window too, so a VM's host is right inside it.
        let keep = match (f.vm, f.host) {
            (None, None) => true,
            (Some(vm), _) => {
                let on = where_is.get(vm as usize).copied();
                match e {
                    LogEntry::Vm { vm: v, .. } => *v == vm,
                    LogEntry::Host { host, .. } => Some(*host) == on,
                    _ => policy_value(e).is_some_and(|p| {
                        named(&p, "vm") == Some(vm)
                            || (named(&p, "vm").is_none() && named(&p, "host") == on)
                    }),
                }
            }
            (None, Some(host)) => match e {
                LogEntry::Vm { vm, host: h, .. } => {
                    *h == host || where_is.get(*vm as usize) == Some(&host)
                }
                LogEntry::Host { host: h, .. } => *h == host,
                _ => policy_value(e).is_some_and(|p| {
                    named(&p, "host") == Some(host)
                        || named(&p, "vm").is_some_and(|v| where_is.get(v as usize) == Some(&host))
                }),
            },
        };
        if let LogEntry::Vm { vm, host, .. } = e {
            if let Some(w) = where_is.get_mut(*vm as usize) {
                *w = *host;
            }
        }
        let in_window = f.from.is_none_or(|a| t >= a) && f.to.is_none_or(|b| t <= b);
        if let LogEntry::Observation { .. } = e {
            last_observation = Some((e, keep && in_window));
        }
        if keep && in_window {
            // A command is shown with the observation it answered, even one naming neither
            // the VM nor the host (a timer).
            if let (LogEntry::Command { .. }, Some((o, false))) = (e, last_observation) {
                out.push(o);
                last_observation = Some((o, true));
            }
            out.push(e);
        }
    }
    out
}

fn host_label(model: &Model, h: u32) -> String {
    match model.topology.hosts.get(h as usize) {
        Some(host) => format!("host {h} ({})", host.name),
        None => format!("host {h}"),
    }
}

fn vm_label(model: &Model, v: u32) -> String {
    match model.vms.get(v as usize) {
        Some(vm) => format!("vm {v} ({})", model.workloads[vm.workload.index()].name),
        None => format!("vm {v}"),
    }
}

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Truth => "truth",
        Layer::Monitor => "monitor",
    }
}

/// One entry as a line of text: the clock, what kind of entry, and what changed.
pub fn text_line(model: &Model, e: &LogEntry) -> String {
    let t = clock(e.time());
    match e {
        LogEntry::Host {
            host,
            layer,
            fact,
            from,
            to,
            ..
        } => format!(
            "{t}  {:<8} {}: {fact} {from} -> {to}",
            layer_name(*layer),
            host_label(model, *host)
        ),
        LogEntry::Vm {
            vm, host, from, to, ..
        } => format!(
            "{t}  {:<8} {} on {}: {} -> {}",
            "vm",
            vm_label(model, *vm),
            host_label(model, *host),
            from.name(),
            to.name()
        ),
        LogEntry::Observation { .. } | LogEntry::Command { .. } => {
            let arrow = match e {
                LogEntry::Observation { .. } => "<-",
                _ => "->",
            };
            let what = policy_value(e).unwrap_or(Value::Null);
            format!("{t}  {:<8} {arrow} {what}", "policy")
        }
    }
}

/// One entry as a JSON object (one line of `--json`).
pub fn json_line(e: &LogEntry) -> Value {
    let t = e.time();
    let mut v = match e {
        LogEntry::Host {
            host,
            layer,
            fact,
            from,
            to,
            ..
        } => {
            json!({ "kind": layer_name(*layer), "host": host, "fact": fact, "from": from, "to": to })
        }
        LogEntry::Vm {
            vm, host, from, to, ..
        } => json!({ "kind": "vm", "vm": vm, "host": host, "from": from.name(), "to": to.name() }),
        LogEntry::Observation { .. } => {
            json!({ "kind": "observation", "observation": policy_value(e) })
        }
        LogEntry::Command { .. } => json!({ "kind": "command", "command": policy_value(e) }),
    };
    v["t_us"] = json!(t.as_us());
    v["time"] = json!(clock(t));
    v
}

/// The whole timeline as text, with a header and, if the replication broke an invariant, the
/// violation as its last line.
pub fn text(model: &Model, replay: &Replay, f: &Filter) -> String {
    let shown = select(model, replay, f);
    let mut s = format!(
        "{}: replication {} of seed {}, policy {}: {} entries, {} shown\n",
        model.name,
        replay.replication,
        model.simulation.seed,
        model.policy.name(),
        replay.entries.len(),
        shown.len()
    );
    for e in shown {
        s.push_str(&text_line(model, e));
        s.push('\n');
    }
    if replay.truncated {
        s.push_str(&format!(
            "(timeline truncated at {} entries)\n",
            crate::engine::MAX_LOG_ENTRIES
        ));
    }
    if let Some(v) = &replay.violation {
        s.push_str(&format!(
            "{}  INVARIANT VIOLATED: {}\n",
            clock(v.time),
            v.message
        ));
    }
    s
}
