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

use crate::policy::api::{Command, InventorySnapshot, Observation};
use crate::policy::PolicyConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum InputLine {
    Inventory {
        inventory: InventorySnapshot,
    },
    Observation {
        now_us: u64,
        observation: Observation,
    },
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

enum LineError {
    TooLong,
    NotUtf8,
    Io(std::io::Error),
}

/// Reads one line (without its `\n`) into `buf`, refusing one longer than `limit` bytes without
/// reading past the limit. Returns false at the end of the input.
fn read_line_capped(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> Result<bool, LineError> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LineError::Io(e)),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(n) => (n, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > limit {
            return Err(LineError::TooLong);
        }
        buf.extend_from_slice(&chunk[..take]);
        input.consume(take + usize::from(done));
        if done {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if std::str::from_utf8(buf).is_err() {
        return Err(LineError::NotUtf8);
    }
    Ok(any)
}

/// Reads observations from `input` until it ends, writing commands to `output`.
pub fn run(
    config: &PolicyConfig,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<(), AdapterError> {
    let mut policy = config.build();
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
        match serde_json::from_str::<InputLine>(line).map_err(|e| bad(e.to_string()))? {
            InputLine::Inventory { inventory: inv } => {
                check_inventory(&inv).map_err(bad)?;
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

/// An inventory the policies can read: host `i` has id `i` (policies look hosts up by id) and
/// every server sits on a listed host. The simulator's inventories always are; a caller's
/// may not be, and a policy must not index past the end of it.
fn check_inventory(inv: &InventorySnapshot) -> Result<(), String> {
    if let Some((i, h)) = inv
        .hosts
        .iter()
        .enumerate()
        .find(|(i, h)| h.id as usize != *i)
    {
        return Err(format!(
            "inventory host {i} has id {}: host ids must be 0, 1, 2, ... in order",
            h.id
        ));
    }
    if let Some(v) = inv.vms.iter().find(|v| v.host as usize >= inv.hosts.len()) {
        return Err(format!(
            "inventory server {} is on host {}, which is not in the inventory ({} hosts)",
            v.id,
            v.host,
            inv.hosts.len()
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
        if (h as usize) < inv.hosts.len() {
            Ok(())
        } else {
            Err(format!(
                "host {h} is not in the inventory ({} hosts)",
                inv.hosts.len()
            ))
        }
    };
    let vm_ok = |v: u32| {
        if inv.vms.iter().any(|x| x.id == v) {
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
        | Observation::NodeFailed { host } => host_ok(*host),
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
    })
}

/// A policy's options as the JSON `--config` reads (the inverse of `load_config`).
pub fn config_json(cfg: &PolicyConfig) -> serde_json::Value {
    let v = match cfg {
        PolicyConfig::None => Ok(serde_json::json!({})),
        PolicyConfig::Masakari(c) => serde_json::to_value(c),
        PolicyConfig::InstanceHa(c) => serde_json::to_value(c),
        PolicyConfig::Pca(c) => serde_json::to_value(c),
    };
    v.expect("config structs serialise")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Result<Vec<String>, &'static str> {
        let mut r = std::io::BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line_capped(&mut r, &mut buf, limit) {
                Ok(true) => out.push(String::from_utf8(buf.clone()).unwrap()),
                Ok(false) => return Ok(out),
                Err(LineError::TooLong) => return Err("too long"),
                Err(LineError::NotUtf8) => return Err("not utf-8"),
                Err(LineError::Io(_)) => return Err("io"),
            }
        }
    }

    /// Lines split as `BufRead::lines` splits them (LF, CRLF, a last line without LF), across
    /// buffer refills; a line over the limit is refused, one at the limit is not.
    #[test]
    fn capped_lines_split_like_lines_and_refuse_long_ones() {
        let input = b"{\"a\":1}\r\nsecond line\n\nlast";
        let want: Vec<String> = input.lines().map(|l| l.unwrap()).collect();
        assert_eq!(lines(input, 100), Ok(want));
        assert_eq!(lines(b"0123456789\n", 10), Ok(vec!["0123456789".into()]));
        assert_eq!(lines(b"0123456789A\n", 10), Err("too long"));
        assert_eq!(lines(b"ok\n\xff\xfe\n", 10), Err("not utf-8"));
        assert_eq!(lines(b"", 10), Ok(vec![]));
    }
}
