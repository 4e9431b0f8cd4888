//! Loading one scenario file under several sets of command-line options (a run, the two arms of
//! a comparison, the points of a sweep), collecting every problem of every variant.

use crate::scenario::model::Model;
use crate::scenario::{load_labelled, LoadError, Override};
use std::path::Path;

/// The command-line options that change a scenario: `--set`, a comparison arm's `--policy`, a
/// sweep point's `--grid` assignments, `-n` and `--seed`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub set: Vec<String>,
    /// `--policy NAME` of `compare`: `policy.name=NAME`.
    pub policy: Option<String>,
    /// One `key=value` per `--grid` axis of `sweep` (or `validate --grid`).
    pub grid: Vec<String>,
}

impl RunOptions {
    /// The overrides these options stand for, in the order they apply (`--set` first), each
    /// labelled with its option so a problem names the option that caused it.
    pub fn overrides(&self) -> Vec<Override> {
        let mut o: Vec<Override> = self.set.iter().map(|s| Override::set(s)).collect();
        let mut push = |label: String, text: String| o.push(Override { label, text });
        if let Some(p) = &self.policy {
            push(format!("--policy {p}"), format!("policy.name={p}"));
        }
        for g in &self.grid {
            push(format!("--grid {g}"), g.clone());
        }
        if let Some(n) = self.replications {
            push(format!("-n {n}"), format!("simulation.replications={n}"));
        }
        if let Some(s) = self.seed {
            push(format!("--seed {s}"), format!("simulation.seed={s}"));
        }
        o
    }
}

/// Loads `file` once per option set; all models, or every error of every failing variant.
pub fn load_all(file: &Path, variants: &[RunOptions]) -> Result<Vec<Model>, Vec<LoadError>> {
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for v in variants {
        match load_labelled(file, &v.overrides()) {
            Ok(m) => models.push(m),
            // The same file problem would repeat once per variant: report it once.
            Err(e) => {
                let text = e.to_string();
                if !errors.iter().any(|x: &LoadError| x.to_string() == text) {
                    errors.push(e);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(errors)
    }
}
