//! Integration tests: one binary (NeXosim's layout), one module per concern.

mod bad_input;
mod boundary;
mod cli;
mod closed_form;
mod controllers;
mod determinism;
mod experiments;
mod external;
mod fuzz;
mod ha;
mod hardening;
mod maintenance;
mod scenario_forms;
mod snapshots;
mod support;
mod timeline;
