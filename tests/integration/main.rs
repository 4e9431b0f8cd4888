//! Integration tests: one binary (NeXosim's layout), one module per concern.

mod bad_input;
mod boundary;
mod cli;
mod closed_form;
mod controllers;
mod determinism;
mod experiments;
mod external;
mod failed_reboot;
mod fuzz;
mod gce;
mod ha;
mod hardening;
mod maintenance;
mod operator;
#[cfg(feature = "parquet")]
mod parquet;
mod power_state;
mod python_suite;
mod replay;
mod scenario_forms;
mod schema;
mod shards;
mod slurm;
mod snapshots;
mod support;
mod sweeps;
mod timeline;
mod zones;
