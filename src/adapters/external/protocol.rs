//! The lines of the external-controller protocol, version 1 (README, "Your controller in the
//! loop"): what hasim writes to a controller's stdin and what it reads from its stdout, one
//! JSON object per line, each tagged by `type`. Observations, commands and inventory views
//! are `policy::api`'s own serde types. Anything else a controller writes — an unknown type or
//! field, a missing one — is a protocol error naming the field.

use crate::policy::api::{Command, HostView, InventorySnapshot, Observation, VmView};
use serde::{Deserialize, Serialize};

/// The protocol version `hello` announces. A change that an old controller could misread
/// bumps it.
pub const PROTOCOL_VERSION: u32 = 1;

/// hasim → controller.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToController<'a> {
    /// First line to every process; answered by `ready`.
    Hello {
        protocol: u32,
        scenario: &'a str,
        seed: u64,
        replication: u32,
        now_us: u64,
        /// Times the controller was restarted before this process in this replication.
        restart: u32,
        /// This replication's directory for the controller's own files.
        out_dir: &'a str,
        config: &'a serde_json::Value,
    },
    /// Every observation of one instant; answered by queries and commands, then `done`.
    Step {
        now_us: u64,
        observations: &'a [Observation],
    },
    /// The answer to a query.
    Answer(Answer),
    /// A query about something that does not exist.
    Error { code: u16, message: String },
    /// The answer to a `command` line: accepted, or refused as Nova's API would refuse it.
    Result {
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The replication is over: the controller exits.
    End { now_us: u64 },
}

/// What a query returns (one key per kind of query).
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Hosts(Vec<HostView>),
    Host(HostView),
    Vms(Vec<VmView>),
    Vm(VmView),
    Snapshot(InventorySnapshot),
}

/// controller → hasim.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum FromController {
    /// The answer to `hello`, with commands to run at once (typically timers).
    Ready {
        #[serde(default)]
        commands: Vec<Command>,
    },
    /// A read of the inventory, answered at the same virtual instant.
    Query { query: Query },
    /// A command run at once and answered by `result`.
    Command { command: Command },
    /// The end of a step, with commands to run in order.
    Done {
        #[serde(default)]
        commands: Vec<Command>,
    },
}

/// An inventory read: Nova's os-hypervisors / os-services, servers by host, one server, or
/// everything at once.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Query {
    Hosts,
    Host { host: u32 },
    VmsOn { host: u32 },
    Vm { vm: u32 },
    Snapshot,
}

impl FromController {
    /// The line's `type`, as the controller wrote it.
    pub fn wire_name(&self) -> &'static str {
        match self {
            FromController::Ready { .. } => "ready",
            FromController::Query { .. } => "query",
            FromController::Command { .. } => "command",
            FromController::Done { .. } => "done",
        }
    }

    /// Parses one controller line, naming the part that broke it: `commands[2]: unknown
    /// field "x"`. (Observations and commands are tagged by `type`; serde reads such a value
    /// whole before choosing its variant, so the field path is found here, element by element.)
    pub fn parse(line: &str) -> Result<FromController, String> {
        use serde::de::Deserialize;
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        FromController::deserialize(&v).map_err(|e| {
            if let Some(list) = v.get("commands").and_then(|c| c.as_array()) {
                for (i, c) in list.iter().enumerate() {
                    if let Err(e) = Command::deserialize(c) {
                        return format!("commands[{i}]: {e}");
                    }
                }
            }
            if let Some(c) = v.get("command") {
                if let Err(e) = Command::deserialize(c) {
                    return format!("command: {e}");
                }
            }
            if let Some(q) = v.get("query") {
                if let Err(e) = Query::deserialize(q) {
                    return format!("query: {e}");
                }
            }
            e.to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_lines_parse_and_unknown_fields_are_named() {
        let done: FromController =
            FromController::parse(r#"{"type":"done","commands":[{"type":"lock_server","vm":3}]}"#)
                .unwrap();
        assert!(matches!(done, FromController::Done { commands } if commands.len() == 1));
        let q: FromController =
            FromController::parse(r#"{"type":"query","query":{"type":"vms_on","host":2}}"#)
                .unwrap();
        assert!(matches!(
            q,
            FromController::Query {
                query: Query::VmsOn { host: 2 }
            }
        ));
        let e = FromController::parse(
            r#"{"type":"done","commands":[{"type":"evacuate","vm":1,"placement":{"type":"any"},"x":1}]}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("commands[0]") && e.contains("unknown field `x`"),
            "{e}"
        );
        let e = FromController::parse(r#"{"type":"finished"}"#).unwrap_err();
        assert!(e.contains("unknown variant `finished`"), "{e}");
    }

    #[test]
    fn hasim_lines_serialise_as_documented() {
        let obs = [Observation::NodeOffline { host: 3 }];
        let step = ToController::Step {
            now_us: 5,
            observations: &obs,
        };
        assert_eq!(
            serde_json::to_string(&step).unwrap(),
            r#"{"type":"step","now_us":5,"observations":[{"type":"node_offline","host":3}]}"#
        );
        let ok = ToController::Result {
            ok: true,
            code: None,
            reason: None,
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"type":"result","ok":true}"#
        );
    }
}
