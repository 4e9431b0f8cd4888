//! hasim: a discrete-event simulator of an IaaS cloud under failures and maintenance.
//!
//! The library behind the `hasim` binary, its tests and benches. Data flows one way:
//! `scenario` (TOML → `Model`) → `runner` (replications of `engine`) → `metrics` → `report`.
//! See DESIGN.md for the three worlds (truth in `world`, observation in `infra`, decisions in
//! `policy`) and the module map.

pub mod adapters;
pub mod compare;
pub mod core;
pub mod engine;
pub mod faults;
pub mod infra;
pub mod merge;
pub mod merge_sweep;
pub mod metrics;
pub mod model_io;
pub mod policy;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod slurm;
pub mod sweep;
pub mod sweep_run;
pub mod world;
