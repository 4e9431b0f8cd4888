//! Mechanisms between the ground truth and a controller: today the scheduler (placement).
//!
//! Later issues add heartbeat detection, monitors, the BMC and fencing, evacuation and live
//! migration here. Every default is a production default with its source in a doc comment.

pub mod scheduler;
