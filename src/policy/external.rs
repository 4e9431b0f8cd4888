//! The configuration of an external controller (`[policy] name = "external"`): the process to
//! run and how hasim treats it. Plain data; the process itself is driven by
//! `adapters::external`, which implements `api::Policy` for it.

use std::path::PathBuf;

/// What a controller that exits or breaks the protocol means for the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCrash {
    /// The run stops with exit 1 and the controller's failure.
    Fail,
    /// A modelled controller outage for the rest of the replication: observations are lost,
    /// as for a dead masakari-engine, and nothing recovers what it left half done.
    Outage,
    /// As `Outage`, then a new process after `restart_delay` (virtual time), its in-memory
    /// state and timers gone.
    Restart,
}

impl OnCrash {
    pub const NAMES: &'static [&'static str] = &["fail", "outage", "restart"];

    pub fn parse(s: &str) -> Option<OnCrash> {
        match s {
            "fail" => Some(OnCrash::Fail),
            "outage" => Some(OnCrash::Outage),
            "restart" => Some(OnCrash::Restart),
            _ => None,
        }
    }
}

/// Longest wall-clock wait for one answer, unless `step_timeout` says otherwise: 60 s. An
/// engineering guard, not a model input: it never changes a result, it only stops a run whose
/// controller hangs (upstream Masakari's slowest step here takes milliseconds).
pub const DEFAULT_STEP_TIMEOUT_MS: u64 = 60_000;

#[derive(Clone, Debug, PartialEq)]
pub struct ExternalConfig {
    /// The program and its arguments, run in `dir`.
    pub command: Vec<String>,
    /// The scenario file's directory: the controller's working directory, so paths in
    /// `command` are relative to the scenario.
    pub dir: PathBuf,
    /// Extra environment variables, in key order.
    pub env: Vec<(String, String)>,
    /// `[policy.config]` as JSON text, handed over in `hello`.
    pub config_json: String,
    /// Wall-clock guard per answer, in milliseconds.
    pub step_timeout_ms: u64,
    pub on_crash: OnCrash,
    /// Virtual time from a crash to the restarted process's `hello`.
    pub restart_delay_us: u64,
    /// Whether the controller calls Nova as an admin (locked servers refuse non-admins).
    pub admin: bool,
    /// Where each replication's controller directory is made (`rep-NNNN/` below it): set by
    /// the command that runs the scenario, inside its staged output set. `None`: a private
    /// temporary directory per replication, removed afterwards.
    pub out_root: Option<PathBuf>,
}
