//! Loading one scenario file under several sets of command-line options (a run, the two arms of
//! a comparison, the points of a sweep), collecting every problem of every variant.

use crate::scenario::model::Model;
use crate::scenario::{load, LoadError};
use std::path::Path;

/// The command-line options that change a scenario: `-n`, `--seed` and `--set`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub set: Vec<String>,
}

impl RunOptions {
    /// The overrides these options stand for, `--set` first.
    pub fn overrides(&self) -> Vec<String> {
        let mut o = self.set.clone();
        if let Some(n) = self.replications {
            o.push(format!("simulation.replications={n}"));
        }
        if let Some(s) = self.seed {
            o.push(format!("simulation.seed={s}"));
        }
        o
    }
}

/// Loads `file` once per option set; all models, or every error of every failing variant.
pub fn load_all(file: &Path, variants: &[RunOptions]) -> Result<Vec<Model>, Vec<LoadError>> {
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for v in variants {
        match load(file, &v.overrides()) {
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
