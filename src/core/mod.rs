//! The ground floor: integer simulated time, keyed random streams, the distributions drawn from
//! them, and the event queue.
//!
//! Imports nothing else of the crate; everything else may import it. Single-threaded and
//! deterministic primitives only: parallelism lives in `runner`, across replications.

pub mod dist;
pub mod queue;
pub mod rng;
pub mod sched;
pub mod time;
