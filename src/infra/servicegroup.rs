//! Nova's service group (the `db` driver): is nova-compute up?
//!
//! A host reports every `report_interval` at a fixed phase of its own; the service counts as
//! down once the last report is older than `service_down_time`, or at once when forced down.
//! Reports are not events: the state is computed when someone asks, from when reporting stopped
//! or resumed, so a healthy fleet costs nothing. `ServiceGroup` holds every host's record.

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

/// What the service group says of a host's nova-compute, for the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceState {
    Up,
    /// Down, and it stays down until `ServiceGroup::set_reporting` or `set_forced_down` is
    /// called for the host.
    DownUntilChanged,
    /// Down, but it may count as up again by itself (its first report after resuming).
    DownForNow,
}

/// The Nova service records of every compute host: heartbeat history, the forced-down flag and
/// the `disabled` flag operators and controllers set.
#[derive(Clone, Debug)]
pub struct ServiceGroup {
    reporters: Vec<Reporter>,
    disabled: Vec<bool>,
}

impl ServiceGroup {
    /// One reporter per host with its heartbeat phase; `disabled` hosts start disabled.
    pub fn new(phases: Vec<SimDuration>, disabled: Vec<bool>) -> Self {
        ServiceGroup {
            reporters: phases.into_iter().map(Reporter::new).collect(),
            disabled,
        }
    }

    pub fn reporter(&self, h: usize) -> &Reporter {
        &self.reporters[h]
    }

    /// Starts or stops a host's heartbeat to match whether it can report. The caller tells
    /// `Placement::service_changed` too (the scheduler parks hosts by this record).
    pub fn set_reporting(&mut self, h: usize, reporting: bool, now: SimTime) {
        let r = &mut self.reporters[h];
        if reporting {
            r.resume(now);
        } else {
            r.stop(now);
        }
    }

    pub fn is_up(&self, h: usize, now: SimTime, cfg: &NovaServiceConfig) -> bool {
        self.reporters[h].is_up(now, cfg)
    }

    /// `is_up`, telling apart a service that is down until its reporting or forced-down flag
    /// changes (`set_reporting`, `set_forced_down`) from one down for now only (it resumed
    /// reporting and its first report is still to come).
    pub fn state(&self, h: usize, now: SimTime, cfg: &NovaServiceConfig) -> ServiceState {
        let r = &self.reporters[h];
        if r.is_up(now, cfg) {
            ServiceState::Up
        } else if r.forced_down || r.stopped_at.is_some() {
            // Stopped and past its down time: no report can come before it resumes.
            ServiceState::DownUntilChanged
        } else {
            ServiceState::DownForNow
        }
    }

    pub fn disabled(&self, h: usize) -> bool {
        self.disabled[h]
    }

    pub fn set_disabled(&mut self, h: usize, disabled: bool) {
        self.disabled[h] = disabled;
    }

    /// Nova's `forced_down`. The caller tells `Placement::service_changed` too.
    pub fn set_forced_down(&mut self, h: usize, down: bool) {
        self.reporters[h].forced_down = down;
    }

    /// Time until the next tick of a periodic check with `interval`, phased like the host's
    /// heartbeats, strictly after `now`.
    pub fn next_tick(&self, h: usize, interval: SimDuration, now: SimTime) -> SimDuration {
        let i = interval.as_us().max(1);
        let p = self.reporters[h].phase.as_us() % i;
        let now = now.as_us();
        let next = if now < p {
            p
        } else {
            p + ((now - p) / i + 1) * i
        };
        SimDuration(next - now)
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
