//! Scenario files: TOML text → checked, resolved `Model`.
//!
//! `tree` parses with spans and applies `--set` overrides, `read` collects problems, `build` holds
//! the schema, `model` the result. Nothing downstream ever sees a string id or an unchecked value.

pub mod build;
pub mod cost;
pub mod external;
pub mod keys;
pub mod limits;
pub mod model;
pub mod operator;
pub mod read;
pub mod schema;
pub mod tree;

use model::{Model, Provenance};
use read::Diagnostics;
use sha2::{Digest, Sha256};
use std::path::Path;
use tree::Origin;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read at all.
    Io { file: String, message: String },
    /// The file was read and has problems; every one is listed.
    Invalid(Diagnostics),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io { file, message } => write!(f, "{file}: {message}"),
            LoadError::Invalid(d) => write!(f, "{d}"),
        }
    }
}

/// One `key=value` override and the command-line option it came from, as messages name it
/// (`--set k=v`, `--policy NAME`, `--grid k=v`, `-n N`, `--seed S`).
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub label: String,
    pub text: String,
}

impl Override {
    /// A `--set key=value` override.
    pub fn set(text: &str) -> Override {
        Override {
            label: format!("--set {text}"),
            text: text.to_string(),
        }
    }
}

/// Reads, overrides and validates one scenario file. `overrides` are `--set key=value` strings.
pub fn load(path: &Path, overrides: &[String]) -> Result<Model, LoadError> {
    let labelled: Vec<Override> = overrides.iter().map(|o| Override::set(o)).collect();
    load_labelled(path, &labelled)
}

/// `load` with overrides from any option, each named by its option in messages.
pub fn load_labelled(path: &Path, overrides: &[Override]) -> Result<Model, LoadError> {
    let bytes =
        limits::read_capped(path, limits::MAX_SCENARIO_BYTES).map_err(|message| LoadError::Io {
            file: path.display().to_string(),
            message,
        })?;
    load_bytes(path, bytes, overrides)
}

/// `load_labelled` of a scenario already in memory: `path` names it in messages and is where
/// its relative files (traces, empirical distributions) are found. The fuzz harness uses it.
pub fn load_bytes(path: &Path, bytes: Vec<u8>, overrides: &[Override]) -> Result<Model, LoadError> {
    let file = path.display().to_string();
    if let Some((line, offset)) = limits::utf8_error_position(&bytes) {
        return Err(LoadError::Io {
            file: format!("{file}:{line}"),
            message: format!(
                "not UTF-8 text: invalid byte 0x{:02x} at byte offset {offset}",
                bytes[offset]
            ),
        });
    }
    let text = String::from_utf8(bytes.clone()).expect("checked above");
    let mut d = Diagnostics::new(&file, &text);
    let mut root = match tree::parse_document(&text) {
        Ok(root) => root,
        Err(errors) => {
            for e in errors {
                let origin = Origin::File(e.span.unwrap_or(0..0));
                d.push(
                    &origin,
                    "",
                    format!("TOML syntax error: {}", e.message.replace('\n', " ")),
                );
            }
            return Err(LoadError::Invalid(d));
        }
    };
    for o in overrides {
        let (origin, raw) = (Origin::Override(o.label.clone()), &o.text);
        let Some((key, value)) = raw.split_once('=') else {
            d.push(&origin, raw, "expected key=value");
            continue;
        };
        let applied = tree::parse_override_value(value, &origin)
            .and_then(|node| tree::apply_override(&mut root, key.trim(), node));
        if let Err(msg) = applied {
            d.push(&origin, key, msg);
        }
    }
    let prov = Provenance {
        file: path.to_path_buf(),
        sha256: hex(&Sha256::digest(&bytes)),
        overrides: overrides.iter().map(|o| o.text.clone()).collect(),
    };
    match build::build(&root, prov, &mut d) {
        Some(model) if d.is_empty() => Ok(model),
        _ => Err(LoadError::Invalid(d)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
