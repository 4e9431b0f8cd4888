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

/// Reads observations from `input` until it ends, writing commands to `output`.
pub fn run(
    config: &PolicyConfig,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<(), AdapterError> {
    let mut policy = config.build();
    let mut inventory = InventorySnapshot::default();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(AdapterError::Io)?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<InputLine>(&line)
            .map_err(|e| AdapterError::BadLine(i + 1, e.to_string()))?
        {
            InputLine::Inventory { inventory: inv } => inventory = inv,
            InputLine::Observation {
                now_us,
                observation,
            } => {
                for command in policy.on_observation(now_us, &inventory, &observation) {
                    let out = serde_json::to_string(&OutputLine { now_us, command })
                        .expect("commands serialise");
                    writeln!(output, "{out}").map_err(AdapterError::Io)?;
                }
            }
        }
    }
    output.flush().map_err(AdapterError::Io)
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
