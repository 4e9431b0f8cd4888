//! The ground floor: integer simulated time, keyed random streams, the distributions drawn from
//! them, the event queue, and a cache prefetch hint.
//!
//! Imports nothing else of the crate; everything else may import it. Single-threaded and
//! deterministic primitives only: parallelism lives in `runner`, across replications.

pub mod dist;
pub mod prefetch;
pub mod queue;
pub mod rng;
pub mod sched;
pub mod time;
