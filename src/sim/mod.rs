//! The engine: integer time, the event queue, keyed random streams and the event loop.
//!
//! Single-threaded and deterministic. Parallelism lives in `runner`, across replications.

pub mod engine;
pub mod queue;
pub mod rng;
pub mod time;
