//! Mechanisms between the ground truth and a controller: the scheduler, the Nova service group,
//! and the settings of Pacemaker, IPMI fencing and the appliance monitors. Every default is a
//! production default with its source in a doc comment.

pub mod config;
pub mod migration;
pub mod scheduler;
pub mod servicegroup;
