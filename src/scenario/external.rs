//! The `[policy]` keys of an external controller: `command`, `env`, `config`, `step_timeout`,
//! `on_crash`, `restart_delay`, `admin`. They are read whichever policy the scenario names, so
//! `--set policy.name=...` and `compare --policy external --policy masakari` can switch
//! between them; `command` is required only when the policy is `external`.

use super::read::{Diagnostics, TableReader};
use super::tree::{Node, Value};
use crate::policy::external::{ExternalConfig, OnCrash, DEFAULT_STEP_TIMEOUT_MS};
use std::path::Path;

/// Most arguments in `command` and entries in `env`: 256 each. An engineering limit, far above
/// any real command line.
pub const MAX_COMMAND_ARGS: usize = 256;

/// Longest `step_timeout`: one hour of wall-clock time per answer.
const MAX_STEP_TIMEOUT_MS: u64 = 3_600_000;

/// Reads the external controller's keys of `[policy]`; `Some(None)` when the policy is not
/// external (keys checked, nothing built), `None` after a problem.
pub fn read_external(
    t: &mut TableReader<'_>,
    is_external: bool,
    base_dir: &Path,
    d: &mut Diagnostics,
) -> Option<Option<ExternalConfig>> {
    let before = d.items.len();
    let command_origin = t.origin_of("command");
    let command: Option<Vec<String>> = t
        .opt_str_list("command", d)
        .map(|c| c.into_iter().map(str::to_string).collect());
    match &command {
        Some(c) if c.first().is_some_and(|p| p.is_empty()) => d.push(
            &command_origin,
            &t.key_path("command"),
            "the program (the first string) is empty",
        ),
        Some(c) if c.iter().any(|a| a.contains('\0')) => d.push(
            &command_origin,
            &t.key_path("command"),
            "an argument holds a NUL character, which no process can receive",
        ),
        Some(c) if c.is_empty() || c.len() > MAX_COMMAND_ARGS => d.push(
            &command_origin,
            &t.key_path("command"),
            format!("needs 1 to {MAX_COMMAND_ARGS} strings: the program, then its arguments"),
        ),
        None if is_external && !t.has("command") => d.push(
            &command_origin,
            &t.key_path("command"),
            "missing required key (name = \"external\" runs this program, e.g. \
             command = [\"python3\", \"controller.py\"])",
        ),
        _ => {}
    }
    let mut env = Vec::new();
    if let Some(e) = t.opt_table("env", d) {
        let path = t.key_path("env");
        let entries = e.entries();
        if entries.len() > MAX_COMMAND_ARGS {
            d.push(
                &t.origin_of("env"),
                &t.key_path("env"),
                format!("more than {MAX_COMMAND_ARGS} variables"),
            );
        }
        for (k, _, node) in entries {
            match &node.value {
                Value::Str(_) if k.is_empty() || k.contains(['=', '\0']) => d.push(
                    &node.origin,
                    &format!("{path}.{k}"),
                    "an environment variable's name must be non-empty, without '=' or NUL",
                ),
                Value::Str(v) if v.contains('\0') => d.push(
                    &node.origin,
                    &format!("{path}.{k}"),
                    "the value holds a NUL character, which no process can receive",
                ),
                Value::Str(v) => env.push((k.to_string(), v.clone())),
                other => d.push(
                    &node.origin,
                    &format!("{path}.{k}"),
                    format!("expected a string, found {}", other.a_type_name()),
                ),
            }
        }
    }
    let config_json = match t.node("config") {
        None => "{}".to_string(),
        Some(
            node @ Node {
                value: Value::Table(_),
                ..
            },
        ) => match to_json(node) {
            Ok(v) => v.to_string(),
            Err(m) => {
                d.push(&node.origin, &t.key_path("config"), m);
                String::new()
            }
        },
        Some(node) => {
            d.push(
                &node.origin,
                &t.key_path("config"),
                format!("expected a table, found {}", node.value.a_type_name()),
            );
            String::new()
        }
    };
    let timeout_origin = t.origin_of("step_timeout");
    let step_timeout_ms = match t.opt_duration("step_timeout", false, d) {
        Some(v) => {
            let ms = v.as_us().div_ceil(1000);
            if ms > MAX_STEP_TIMEOUT_MS {
                d.push(
                    &timeout_origin,
                    &t.key_path("step_timeout"),
                    "at most 1h (a wall-clock guard per answer)",
                );
            }
            ms
        }
        None => DEFAULT_STEP_TIMEOUT_MS,
    };
    let on_crash = t
        .opt_choice("on_crash", OnCrash::NAMES, d)
        .and_then(OnCrash::parse)
        .unwrap_or(OnCrash::Fail);
    let delay_origin = t.origin_of("restart_delay");
    // Zero would restart a controller that dies at start-up forever at one instant.
    let restart_delay = t.opt_duration("restart_delay", false, d);
    if on_crash == OnCrash::Restart && restart_delay.is_none() && !t.has("restart_delay") {
        d.push(
            &delay_origin,
            &t.key_path("restart_delay"),
            "missing required key: on_crash = \"restart\" needs the time a restart takes \
             (a what-if input: e.g. systemd's RestartSec plus the service's start-up)",
        );
    }
    let mut admin = true;
    if let Some(a) = t.opt_bool("admin", d) {
        admin = a;
    }
    if d.items.len() > before {
        return None;
    }
    if !is_external {
        return Some(None);
    }
    Some(Some(ExternalConfig {
        command: command.unwrap_or_default(),
        // A scenario named without a directory (`hasim run s.toml`) is in ".".
        dir: if base_dir.as_os_str().is_empty() {
            Path::new(".").to_path_buf()
        } else {
            base_dir.to_path_buf()
        },
        env,
        config_json,
        step_timeout_ms,
        on_crash,
        restart_delay_us: restart_delay.map_or(0, |v| v.as_us()),
        admin,
        out_root: None,
    }))
}

/// A TOML value as JSON: datetimes become strings; a float JSON cannot hold is an error.
fn to_json(node: &Node) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match &node.value {
        Value::Str(s) | Value::Datetime(s) => J::String(s.clone()),
        Value::Int(n) => J::from(*n),
        Value::Float(x) => serde_json::Number::from_f64(*x)
            .map(J::Number)
            .ok_or_else(|| format!("{x} cannot be passed as JSON"))?,
        Value::Bool(b) => J::Bool(*b),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Table(t) => J::Object(
            t.entries
                .iter()
                .map(|(k, (_, n))| Ok((k.clone(), to_json(n)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}
