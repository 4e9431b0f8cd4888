//! How a component schedules its own events without knowing the engine's event type.
//!
//! Each component defines a small `Copy` event enum of its own; the engine's event type wraps
//! them all (`Event::Pacemaker(pacemaker::Event)`) and implements `Scheduler<E>` for each, so a
//! component can say "wake me in 20 s with `NodeCheck`" and nothing below the engine imports it.

use super::queue::Handle;
use super::time::{SimDuration, SimTime};

pub trait Scheduler<E> {
    /// The current instant.
    fn now(&self) -> SimTime;

    /// Queues `event` at `at` (the caller makes sure it is not in the past) unless that is at or
    /// past the horizon.
    fn at(&mut self, at: SimTime, event: E) -> Option<Handle>;

    /// Queues `event` after `after` unless that falls at or past the horizon.
    fn after(&mut self, after: SimDuration, event: E) -> Option<Handle> {
        let at = self.now() + after;
        self.at(at, event)
    }

    /// Removes a queued event (nothing if it already fired).
    fn cancel(&mut self, handle: Handle);
}
