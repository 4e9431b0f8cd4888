//! Simulated time: integer microseconds in `u64` newtypes.
//!
//! Owns `SimTime` (an instant since the start of a replication) and `SimDuration`, plus the
//! parser for the human duration strings scenarios use (`"90s"`, `"5m"`, `"2h30m"`, `"365d"`).
//! Floats never carry time inside the engine; they appear only when a distribution is sampled
//! (and are rounded to whole microseconds right there) or when a report divides.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds per unit, for the units a scenario may use.
pub const US_PER_MS: u64 = 1_000;
pub const US_PER_S: u64 = 1_000_000;
pub const US_PER_MIN: u64 = 60 * US_PER_S;
pub const US_PER_H: u64 = 60 * US_PER_MIN;
pub const US_PER_D: u64 = 24 * US_PER_H;
/// A year is 365 days: availability figures in the industry use the 8,760-hour year.
pub const US_PER_Y: u64 = 365 * US_PER_D;

/// An instant of simulated time, in microseconds since the replication started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn as_us(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / US_PER_S as f64
    }

    /// Time elapsed since `earlier`; zero if `earlier` is later (never underflows).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_secs(s: u64) -> Self {
        SimDuration(s * US_PER_S)
    }

    pub fn as_us(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / US_PER_S as f64
    }

    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / US_PER_H as f64
    }

    /// Rounds a non-negative number of seconds to the nearest microsecond. Samples of continuous
    /// distributions enter integer time only through here.
    pub fn from_secs_f64_round(s: f64) -> Self {
        if !s.is_finite() || s <= 0.0 {
            return SimDuration::ZERO;
        }
        let us = (s * US_PER_S as f64).round();
        if us >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(us as u64)
        }
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl fmt::Display for SimDuration {
    /// Largest-unit-first rendering that `parse_duration` reads back (`"2h30m"`, `"45s"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0s");
        }
        let mut rest = self.0;
        for (unit, size) in [
            ("d", US_PER_D),
            ("h", US_PER_H),
            ("m", US_PER_MIN),
            ("s", US_PER_S),
            ("ms", US_PER_MS),
            ("us", 1),
        ] {
            if rest >= size {
                write!(f, "{}{}", rest / size, unit)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

/// Parses a human duration: one or more `<number><unit>` parts, units `us ms s m h d y`.
/// Numbers may have a fraction (`"1.5h"`); the total is rounded to whole microseconds.
/// A bare number without a unit is rejected, because `"60"` could mean seconds or minutes.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write a number with a unit, e.g. \"90s\"".into());
    }
    if s.starts_with('-') {
        return Err(format!("duration \"{text}\" is negative"));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total_us: f64 = 0.0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_')
        {
            i += 1;
        }
        let number = &s[start..i];
        if number.is_empty() {
            return Err(format!(
                "duration \"{text}\" is not <number><unit> (units: us ms s m h d y)"
            ));
        }
        // "60 s" reads like "60s"; the space is allowed, the unit is not optional.
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let per = match unit {
            "us" => 1,
            "ms" => US_PER_MS,
            "s" => US_PER_S,
            "m" => US_PER_MIN,
            "h" => US_PER_H,
            "d" => US_PER_D,
            "y" => US_PER_Y,
            "" => {
                return Err(format!(
                    "duration \"{text}\" has no unit (units: us ms s m h d y)"
                ))
            }
            other => {
                return Err(format!(
                    "duration \"{text}\" has unknown unit \"{other}\" (units: us ms s m h d y)"
                ))
            }
        };
        let value: f64 = number
            .replace('_', "")
            .parse()
            .map_err(|_| format!("duration \"{text}\": \"{number}\" is not a number"))?;
        total_us += value * per as f64;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
    }
    if !total_us.is_finite() || total_us >= u64::MAX as f64 {
        return Err(format!("duration \"{text}\" is too large"));
    }
    Ok(SimDuration(total_us.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration("90s").unwrap(), SimDuration(90 * US_PER_S));
        assert_eq!(parse_duration("5m").unwrap(), SimDuration(300 * US_PER_S));
        assert_eq!(
            parse_duration("2h30m").unwrap(),
            SimDuration(2 * US_PER_H + 30 * US_PER_MIN)
        );
        assert_eq!(parse_duration("365d").unwrap(), SimDuration(US_PER_Y));
        assert_eq!(parse_duration("1y").unwrap(), SimDuration(US_PER_Y));
        assert_eq!(
            parse_duration("1.5h").unwrap(),
            SimDuration(90 * US_PER_MIN)
        );
        assert_eq!(parse_duration("250us").unwrap(), SimDuration(250));
        assert_eq!(parse_duration("8760h").unwrap(), SimDuration(US_PER_Y));
        assert_eq!(
            parse_duration("2h 30m").unwrap(),
            parse_duration("2h30m").unwrap()
        );
        assert_eq!(parse_duration("60 s").unwrap(), SimDuration(60 * US_PER_S));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "60",
            "5x",
            "-5s",
            "h",
            "5 parsecs",
            "1..2s",
            "60 seconds",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_round_trips() {
        for us in [
            0,
            1,
            999,
            45 * US_PER_S,
            2 * US_PER_H + 30 * US_PER_MIN + 7,
            US_PER_Y + 5,
        ] {
            let d = SimDuration(us);
            assert_eq!(parse_duration(&d.to_string()).unwrap(), d);
        }
    }
}
