//! Availability accounting and statistics: ledgers filled while running, metrics computed per
//! replication, aggregated with confidence intervals. Consumes engine output; never drives it.

pub mod chart_file;
pub mod expect;
pub mod ledger;
pub mod names;
pub mod paired;
pub mod pooled;
pub mod replication;
pub mod samples;
pub mod stats;
pub mod summary;
