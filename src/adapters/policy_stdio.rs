//! `hasim policy NAME`: the production adapter. It runs the very policy structs the simulator
//! runs, fed by JSON lines on stdin, answering with JSON lines on stdout.
//!
//! Input, one JSON object per line:
//! - `{"inventory": {"hosts": [...], "vms": [...], "any_evacuable_tagged": false}}` replaces
//!   the inventory the policy reads (shapes of `policy::api::HostView` / `VmView`);
//! - `{"now_us": 123, "observation": {"type": "node_offline", "host": 3}}` delivers one
//!   observation (`policy::api::Observation`, tagged by `type`).
//!
//! Output, one line per command, in order: `{"now_us": 123, "command": {"type": "evacuate",
//! "vm": 7, "placement": {"type": "any"}}}`. Timers are the caller's job: after
//! `set_timer`, send `{"type": "timer", "token": ...}` when it is due.

use super::lines::{read_line_capped, LineError};
use crate::policy::api::{Command, Inventory, InventorySnapshot, Observation};
use crate::policy::PolicyConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// One input line, told apart by its keys (not by trying shapes in turn, which could only say
/// "did not match any variant").
#[derive(Debug)]
pub enum InputLine {
    Inventory(InventorySnapshot),
    Observation {
        now_us: u64,
        observation: Observation,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryLine {
    inventory: InventorySnapshot,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationLine {
    now_us: u64,
    observation: Observation,
}

/// Parses `text` as `T`, naming the field that broke it (`inventory.vms[2].host: invalid
/// type: string "a", expected u32`).
pub fn parse_at_path<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json appends " at line L column C"; the line is the caller's to name.
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        if path == "." || path.is_empty() {
            msg
        } else {
            format!("{path}: {msg}")
        }
    })
}

impl InputLine {
    /// Reads one input line: an object with the key `inventory`, or with `now_us` and
    /// `observation`.
    pub fn parse(line: &str) -> Result<InputLine, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        let Some(obj) = value.as_object() else {
            return Err("expected a JSON object".into());
        };
        if obj.contains_key("inventory") {
            let l: InventoryLine = parse_at_path(line)?;
            Ok(InputLine::Inventory(l.inventory))
        } else if obj.contains_key("observation") || obj.contains_key("now_us") {
            if let Some(o) = obj.get("observation") {
                // Tagged by `type`: serde cannot say which field inside broke it.
                Observation::deserialize(o).map_err(|e| format!("observation: {e}"))?;
            }
            let l: ObservationLine = parse_at_path(line)?;
            Ok(InputLine::Observation {
                now_us: l.now_us,
                observation: l.observation,
            })
        } else {
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            Err(format!(
                "expected {{\"inventory\": ...}} or {{\"now_us\": ..., \"observation\": ...}}, \
                 found keys [{}]",
                keys.join(", ")
            ))
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputLine {
    pub now_us: u64,
    pub command: Command,
}

/// Why the adapter stopped.
#[derive(Debug)]
pub enum AdapterError {
    /// A line that is not valid input: its 1-based number and the parser's message.
    BadLine(usize, String),
    Io(std::io::Error),
}

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterError::BadLine(n, m) => write!(f, "input line {n}: {m}"),
            AdapterError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Longest input line read: 1 GiB. An engineering limit: the inventory line of the largest
/// fleet the scenario reader accepts (10 M VMs at ~60 bytes of JSON each, 1 M hosts) is about
/// 700 MB; a longer line is refused before it is held whole, instead of growing without bound.
pub const MAX_INPUT_LINE_BYTES: usize = 1 << 30;

/// Reads observations from `input` until it ends, writing commands to `output`.
pub fn run(
    config: &PolicyConfig,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<(), AdapterError> {
    let Some(mut policy) = config.build() else {
        return Err(AdapterError::BadLine(
            0,
            "an external controller is not a built-in policy: run it directly".into(),
        ));
    };
    let mut inventory = InventorySnapshot::default();
    // Timers the policy set and the caller has not yet delivered, by token.
    let mut pending_timers: BTreeMap<u64, u32> = BTreeMap::new();
    let mut input = input;
    let mut buf = Vec::new();
    for i in 0.. {
        if !read_line_capped(&mut input, &mut buf, MAX_INPUT_LINE_BYTES).map_err(|e| match e {
            LineError::TooLong => AdapterError::BadLine(
                i + 1,
                format!(
                    "longer than {MAX_INPUT_LINE_BYTES} bytes, the limit of one input line \
                     (an inventory of 10 M VMs fits in it)"
                ),
            ),
            LineError::NotUtf8 => {
                AdapterError::BadLine(i + 1, "not valid UTF-8 (input is JSON lines)".into())
            }
            LineError::Io(e) => AdapterError::Io(e),
        })? {
            break;
        }
        let line = std::str::from_utf8(&buf).expect("checked by read_line_capped");
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: String| AdapterError::BadLine(i + 1, m);
        match InputLine::parse(line).map_err(bad)? {
            InputLine::Inventory(inv) => {
                let inv = check_inventory(inv).map_err(bad)?;
                check_nothing_dropped(&inventory, &inv).map_err(bad)?;
                inventory = inv;
            }
            InputLine::Observation {
                now_us,
                observation,
            } => {
                check_observation(&inventory, &observation, &mut pending_timers).map_err(bad)?;
                for command in policy.on_observation(now_us, &inventory, &observation) {
                    if let Command::SetTimer { token, .. } = command {
                        *pending_timers.entry(token).or_default() += 1;
                    }
                    let out = serde_json::to_string(&OutputLine { now_us, command })
                        .expect("commands serialise");
                    writeln!(output, "{out}").map_err(AdapterError::Io)?;
                }
            }
        }
    }
    output.flush().map_err(AdapterError::Io)
}

/// An inventory the policies can read: hosts and servers are looked up by id, so ids are
/// unique, and every server sits on a listed host. The simulator's inventories always are; a
/// caller's may not be, and a policy must not look up what is not there.
fn check_inventory(inv: InventorySnapshot) -> Result<InventorySnapshot, String> {
    let inv = inv.index()?;
    if let Some(v) = inv.vms.iter().find(|v| !inv.has_host(v.host)) {
        return Err(format!(
            "inventory server {} is on host {}, which is not in the inventory",
            v.id, v.host
        ));
    }
    Ok(inv)
}

/// A later inventory lists every host and server an earlier one did: the policy keeps ids it
/// has seen (a host it is recovering, a server it waits for) and reads them again later.
fn check_nothing_dropped(old: &InventorySnapshot, new: &InventorySnapshot) -> Result<(), String> {
    if let Some(h) = old.hosts.iter().find(|h| !new.has_host(h.id)) {
        return Err(format!(
            "inventory drops host {}, which an earlier inventory listed: hosts and servers \
             may be added, not removed",
            h.id
        ));
    }
    if let Some(v) = old.vms.iter().find(|v| !new.has_vm(v.id)) {
        return Err(format!(
            "inventory drops server {}, which an earlier inventory listed: hosts and servers \
             may be added, not removed",
            v.id
        ));
    }
    Ok(())
}

/// An observation about hosts and servers of the current inventory, and a timer the policy
/// set and that has not been delivered yet (each `set_timer` is answered at most once).
fn check_observation(
    inv: &InventorySnapshot,
    obs: &Observation,
    pending_timers: &mut BTreeMap<u64, u32>,
) -> Result<(), String> {
    let host_ok = |h: u32| {
        if inv.has_host(h) {
            Ok(())
        } else {
            Err(format!("host {h} is not in the inventory"))
        }
    };
    let vm_ok = |v: u32| {
        if inv.has_vm(v) {
            Ok(())
        } else {
            Err(format!("server {v} is not in the inventory"))
        }
    };
    match obs {
        Observation::NodeOffline { host }
        | Observation::NodeOnline { host }
        | Observation::Fenced { host, .. }
        | Observation::PowerStatus { host, .. }
        | Observation::NodeFailed { host }
        | Observation::MaintenanceCleared { host } => host_ok(*host),
        Observation::EvacuateResult { vm, host, .. }
        | Observation::MigrateResult { vm, host, .. } => {
            vm_ok(*vm)?;
            host.map_or(Ok(()), host_ok)
        }
        Observation::InstanceFailed { vm } => vm_ok(*vm),
        Observation::Timer { token } => match pending_timers.get_mut(token) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    pending_timers.remove(token);
                }
                Ok(())
            }
            None => Err(format!(
                "timer {token} was not set by the policy (or was already delivered)"
            )),
        },
    }
}

/// Reads a policy's configuration from a JSON file of its options (microsecond timers, as in
/// the config structs), or the defaults without one.
pub fn load_config(name: &str, file: Option<&std::path::Path>) -> Result<PolicyConfig, String> {
    use crate::scenario::limits::{quote, read_capped, utf8_error_position};
    if name == "external" {
        return Err(
            "\"external\" is a controller process of your own, not a built-in policy: \
             `hasim policy` runs the built-in ones (none, masakari, instance-ha, pca)"
                .into(),
        );
    }
    let default = PolicyConfig::default_for(name).ok_or_else(|| {
        let hint = crate::scenario::read::closest(name, crate::policy::POLICY_NAMES)
            .map(|s| format!("did you mean \"{s}\"? "))
            .unwrap_or_default();
        format!(
            "unknown policy {} ({hint}one of {})",
            quote(name),
            crate::policy::POLICY_NAMES.join(", ")
        )
    })?;
    let Some(path) = file else { return Ok(default) };
    let bytes = read_capped(path, crate::scenario::limits::MAX_POLICY_CONFIG_BYTES)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some((line, offset)) = utf8_error_position(&bytes) {
        return Err(format!(
            "{}:{line}: not UTF-8 text: invalid byte at byte offset {offset}",
            path.display()
        ));
    }
    let text = String::from_utf8(bytes).expect("checked above");
    let err = |e: serde_json::Error| format!("{}:{}: {e}", path.display(), e.line());
    Ok(match default {
        PolicyConfig::None => PolicyConfig::None,
        PolicyConfig::Masakari(_) => {
            PolicyConfig::Masakari(serde_json::from_str(&text).map_err(err)?)
        }
        PolicyConfig::InstanceHa(_) => {
            PolicyConfig::InstanceHa(serde_json::from_str(&text).map_err(err)?)
        }
        PolicyConfig::Pca(_) => PolicyConfig::Pca(serde_json::from_str(&text).map_err(err)?),
        PolicyConfig::Gce(_) => PolicyConfig::Gce(serde_json::from_str(&text).map_err(err)?),
        PolicyConfig::External(_) => unreachable!("refused above"),
    })
}

/// A built-in policy's configuration as the JSON `hasim policy NAME --config FILE` reads
/// (`None` for `none`, which has no options, and for an external controller).
pub fn config_json(config: &PolicyConfig) -> Option<String> {
    let text = match config {
        PolicyConfig::Masakari(c) => serde_json::to_string_pretty(c),
        PolicyConfig::InstanceHa(c) => serde_json::to_string_pretty(c),
        PolicyConfig::Pca(c) => serde_json::to_string_pretty(c),
        PolicyConfig::Gce(c) => serde_json::to_string_pretty(c),
        PolicyConfig::None | PolicyConfig::External(_) => return None,
    };
    Some(text.expect("policy configurations serialise") + "\n")
}

/// Writes recorded simulator steps as adapter input: an inventory line before each observation.
pub fn input_lines(steps: &[crate::engine::RecordedStep]) -> String {
    let mut s = String::new();
    for step in steps {
        s.push_str(&serde_json::json!({ "inventory": step.inventory }).to_string());
        s.push('\n');
        s.push_str(
            &serde_json::json!({ "now_us": step.now_us, "observation": step.observation })
                .to_string(),
        );
        s.push('\n');
    }
    s
}

/// The commands the simulator's policy answered, as adapter output lines.
pub fn output_lines(steps: &[crate::engine::RecordedStep]) -> String {
    let mut s = String::new();
    for step in steps {
        for c in &step.commands {
            s.push_str(
                &serde_json::to_string(&OutputLine {
                    now_us: step.now_us,
                    command: c.clone(),
                })
                .expect("serialise"),
            );
            s.push('\n');
        }
    }
    s
}
