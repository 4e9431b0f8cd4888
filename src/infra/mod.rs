//! Mechanisms between the ground truth and a controller, one component each: the Nova service
//! group (`servicegroup`), cluster membership and incidents (`membership`), Pacemaker's
//! monitor and fencing (`pacemaker`), the scheduler at run time (`placement`, over
//! `weigher_index`) and for the initial placement (`scheduler`), Nova's move tasks
//! (`nova_moves`) and the API-only fields of its server records (`nova_records`), the human
//! operator's runbook (`operator`), live migration (`migration`, the model) and the NIC
//! bandwidth it shares (`live_migration`), and their settings (`config`). Every default is a production default
//! with its source in a doc comment.

pub mod config;
pub mod live_migration;
pub mod membership;
pub mod migration;
pub mod nova_moves;
pub mod nova_records;
pub mod operator;
pub mod pacemaker;
pub mod pca_monitor;
pub mod placement;
pub mod power_check;
pub mod scheduler;
pub mod servicegroup;
pub mod weigher_index;
