//! Nova's service group (the `db` driver): is nova-compute up?
//!
//! A host reports every `report_interval` at a fixed phase of its own; the service counts as
//! down once the last report is older than `service_down_time`, or at once when forced down.
//! Reports are not events: the state is computed when someone asks, from when reporting stopped
//! or resumed, so a healthy fleet costs nothing.

use super::config::NovaServiceConfig;
use crate::core::time::{SimDuration, SimTime};

/// The reporting history one host needs for the up/down question.
#[derive(Clone, Debug)]
pub struct Reporter {
    /// Reports happen at `phase + k · report_interval`.
    pub phase: SimDuration,
    /// While not reporting: when reporting stopped.
    pub stopped_at: Option<SimTime>,
    /// When reporting last resumed (None: reporting since the start).
    pub resumed_at: Option<SimTime>,
    pub forced_down: bool,
}

impl Reporter {
    pub fn new(phase: SimDuration) -> Self {
        Reporter {
            phase,
            stopped_at: None,
            resumed_at: None,
            forced_down: false,
        }
    }

    pub fn stop(&mut self, now: SimTime) {
        if self.stopped_at.is_none() {
            self.stopped_at = Some(now);
        }
    }

    pub fn resume(&mut self, now: SimTime) {
        if self.stopped_at.take().is_some() {
            self.resumed_at = Some(now);
        }
    }

    /// The last report at or before `t`.
    fn last_tick(&self, t: SimTime, cfg: &NovaServiceConfig) -> Option<SimTime> {
        let (p, i) = (self.phase.as_us(), cfg.report_interval.as_us().max(1));
        if t.as_us() < p {
            return None;
        }
        Some(SimTime(p + (t.as_us() - p) / i * i))
    }

    /// The first report at or after `t`.
    fn next_tick(&self, t: SimTime, cfg: &NovaServiceConfig) -> SimTime {
        let (p, i) = (self.phase.as_us(), cfg.report_interval.as_us().max(1));
        if t.as_us() <= p {
            return SimTime(p);
        }
        SimTime(p + (t.as_us() - p).div_ceil(i) * i)
    }

    /// `servicegroup_api.service_is_up` at `now`.
    pub fn is_up(&self, now: SimTime, cfg: &NovaServiceConfig) -> bool {
        if self.forced_down {
            return false;
        }
        match self.stopped_at {
            None => match self.resumed_at {
                // Back since `resumed_at`: up from its first report on.
                Some(r) => now >= self.next_tick(r, cfg),
                None => true,
            },
            Some(_) => self.down_at(cfg).is_some_and(|d| now < d),
        }
    }

    /// When a service that resumed reporting first counts as up (its first report).
    pub fn up_at(&self, cfg: &NovaServiceConfig) -> Option<SimTime> {
        match (self.stopped_at, self.resumed_at) {
            (None, Some(r)) => Some(self.next_tick(r, cfg)),
            _ => None,
        }
    }

    /// When the service will count as down, if reporting stopped and nothing changes.
    /// A service counts as up while its last report is not older than `service_down_time`; the
    /// record written at the start counts as a report at time 0. Stopping again before the
    /// first report after a resume means it never reported up: down at once.
    pub fn down_at(&self, cfg: &NovaServiceConfig) -> Option<SimTime> {
        let stop = self.stopped_at?;
        let last = self.last_tick(stop, cfg).unwrap_or(SimTime::ZERO);
        if let Some(r) = self.resumed_at {
            if last < self.next_tick(r, cfg) {
                return Some(SimTime::ZERO);
            }
        }
        Some(last + cfg.service_down_time + SimDuration(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    #[test]
    fn down_sixty_seconds_after_the_last_report() {
        let cfg = NovaServiceConfig::default();
        let mut r = Reporter::new(SimDuration::from_secs(3));
        assert!(r.is_up(s(100), &cfg));
        // Reports at 3, 13, …, 93, 103: reporting stops at 100 s, last report 93 s.
        r.stop(s(100));
        assert!(r.is_up(s(153), &cfg));
        assert!(!r.is_up(SimTime(s(153).as_us() + 1), &cfg));
        assert_eq!(r.down_at(&cfg), Some(SimTime(s(153).as_us() + 1)));
        // Back at 200 s: up from the next report, 203 s.
        r.resume(s(200));
        assert!(!r.is_up(s(202), &cfg));
        assert!(r.is_up(s(203), &cfg));
        r.forced_down = true;
        assert!(!r.is_up(s(300), &cfg));
    }
}
