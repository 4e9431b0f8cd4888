//! `chart_data.bin`: what a shard (`run --replications A..B`) keeps of its replications for the
//! charts, so that `merge` draws the whole run's charts and `report.html` byte for byte.
//!
//! The pooled chart inputs (`ChartData`) are made mergeable: per-VM unavailability lists are
//! kept in replication order (shards concatenate), state and horizon sums are integers (shards
//! add up exactly), the replication-0 timeline lives in the shard that ran replication 0, and
//! the pooled outage and blackout samples keep every value up to `POOLED_SAMPLE_CAP`, so
//! replaying the shards' values in replication order through a fresh sample gives the whole
//! run's sample. A shard whose own sample already overflowed the cap kept only a sample: the
//! merged charts are then drawn from a sample of samples, and `merge` says so.
//!
//! Format (little-endian, hand-written: a dozen fields do not need a serialization crate, and
//! floats must survive bit for bit): magic `HASIMCD1`; u32 workloads W and u32 VM states S;
//! per workload a u64 count and that many f64 unavailabilities; per workload S u128 state sums
//! and one u128 observed sum; u32 replications; u8 timeline flag, then (u64 horizon, u8
//! truncated, u64 count, count × (u64 time, u32 hosts, u32 VMs)); two samples (outages,
//! blackouts), each u64 seen, u64 count, count × u64. Every count is checked against the bytes
//! left before anything is allocated.

use super::ledger::{Timeline, VM_STATES};
use super::pooled::ChartData;
use super::samples::PooledSample;
use crate::core::time::SimTime;
use crate::scenario::model::Model;

/// The file a shard writes beside its summary.
pub const CHART_FILE: &str = "chart_data.bin";
const MAGIC: &[u8; 8] = b"HASIMCD1";

/// Encodes a shard's chart inputs.
pub fn encode(c: &ChartData) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(MAGIC);
    put_u32(&mut b, c.unavailability.len() as u32);
    put_u32(&mut b, VM_STATES as u32);
    for w in &c.unavailability {
        put_u64(&mut b, w.len() as u64);
        for u in w {
            b.extend_from_slice(&u.to_le_bytes());
        }
    }
    for (states, observed) in c.state_us.iter().zip(&c.observed_us) {
        for s in states {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b.extend_from_slice(&observed.to_le_bytes());
    }
    put_u32(&mut b, c.replications);
    match &c.timeline {
        None => b.push(0),
        Some((tl, horizon)) => {
            b.push(1);
            put_u64(&mut b, horizon.as_us());
            b.push(u8::from(tl.truncated));
            put_u64(&mut b, tl.points.len() as u64);
            for (t, h, v) in &tl.points {
                put_u64(&mut b, t.as_us());
                put_u32(&mut b, *h);
                put_u32(&mut b, *v);
            }
        }
    }
    for s in [&c.vm_outage_us, &c.blackout_us] {
        put_u64(&mut b, s.seen());
        put_u64(&mut b, s.kept().len() as u64);
        for v in s.kept() {
            put_u64(&mut b, *v);
        }
    }
    b
}

/// One shard's decoded chart inputs.
#[derive(Debug)]
pub struct ShardCharts {
    unavailability: Vec<Vec<f64>>,
    state_us: Vec<[u128; VM_STATES]>,
    observed_us: Vec<u128>,
    replications: u32,
    timeline: Option<(Timeline, SimTime)>,
    /// (seen, kept) of the outage and blackout samples.
    samples: [(u64, Vec<u64>); 2],
}

/// Decodes a shard's `chart_data.bin`; `workloads` is the model's count.
pub fn decode(bytes: &[u8], workloads: usize) -> Result<ShardCharts, String> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return Err("not a hasim chart file (bad magic)".into());
    }
    let w = r.u32()? as usize;
    let states = r.u32()? as usize;
    if w != workloads || states != VM_STATES {
        return Err(format!(
            "written for {w} workloads and {states} VM states, the scenario has {workloads} and {VM_STATES}"
        ));
    }
    let mut unavailability = Vec::with_capacity(w);
    for _ in 0..w {
        let n = r.count(8)?;
        unavailability.push((0..n).map(|_| r.f64()).collect::<Result<_, _>>()?);
    }
    let mut state_us = Vec::with_capacity(w);
    let mut observed_us = Vec::with_capacity(w);
    for _ in 0..w {
        let mut s = [0u128; VM_STATES];
        for x in &mut s {
            *x = r.u128()?;
        }
        state_us.push(s);
        observed_us.push(r.u128()?);
    }
    let replications = r.u32()?;
    let timeline = match r.take(1)?[0] {
        0 => None,
        1 => {
            let horizon = SimTime(r.u64()?);
            let truncated = r.take(1)?[0] != 0;
            let n = r.count(16)?;
            let mut points = Vec::with_capacity(n);
            for _ in 0..n {
                points.push((SimTime(r.u64()?), r.u32()?, r.u32()?));
            }
            Some((Timeline { points, truncated }, horizon))
        }
        f => return Err(format!("bad timeline flag {f}")),
    };
    let mut sample = || -> Result<(u64, Vec<u64>), String> {
        let seen = r.u64()?;
        let n = r.count(8)?;
        let kept = (0..n).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        if (kept.len() as u64) > seen {
            return Err("a sample keeps more values than it saw".into());
        }
        Ok((seen, kept))
    };
    let samples = [sample()?, sample()?];
    if r.at != bytes.len() {
        return Err(format!("{} bytes after the end", bytes.len() - r.at));
    }
    Ok(ShardCharts {
        unavailability,
        state_us,
        observed_us,
        replications,
        timeline,
        samples,
    })
}

/// The whole run's chart inputs from its shards, in replication order; also whether any
/// shard's sample had overflowed (then the pooled CDFs are drawn from a sample of samples).
pub fn merge(model: &Model, shards: Vec<ShardCharts>) -> (ChartData, bool) {
    let mut c = ChartData::new(model);
    let mut resampled = false;
    for s in shards {
        for (all, part) in c.unavailability.iter_mut().zip(s.unavailability) {
            all.extend(part);
        }
        for (all, part) in c.state_us.iter_mut().zip(&s.state_us) {
            for (a, p) in all.iter_mut().zip(part) {
                *a += p;
            }
        }
        for (all, part) in c.observed_us.iter_mut().zip(&s.observed_us) {
            *all += part;
        }
        if c.timeline.is_none() {
            c.timeline = s.timeline;
        }
        c.replications += s.replications;
        let [(seen_o, outages), (seen_b, blackouts)] = s.samples;
        resampled |= seen_o > outages.len() as u64 || seen_b > blackouts.len() as u64;
        add_all(&mut c.vm_outage_us, &outages);
        add_all(&mut c.blackout_us, &blackouts);
    }
    (c, resampled)
}

fn add_all(sample: &mut PooledSample, values: &[u64]) {
    sample.add(values.iter().copied());
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// A count of items of `size` bytes each, refused if the bytes left cannot hold them.
    fn count(&mut self, size: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let left = (self.b.len() - self.at) as u64;
        if n.checked_mul(size as u64).is_none_or(|need| need > left) {
            return Err(format!(
                "a count of {n} at byte {} overruns the file",
                self.at
            ));
        }
        Ok(n as usize)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn u128(&mut self) -> Result<u128, String> {
        Ok(u128::from_le_bytes(
            self.take(16)?.try_into().expect("16 bytes"),
        ))
    }

    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_corrupt_files_are_errors_not_panics() {
        let mut c = ChartData::empty();
        c.unavailability = vec![vec![0.5, 0.25]];
        c.state_us = vec![[7; VM_STATES]];
        c.observed_us = vec![9];
        c.replications = 2;
        let bytes = encode(&c);
        let d = decode(&bytes, 1).unwrap();
        assert_eq!(d.unavailability, c.unavailability);
        assert_eq!(d.state_us, c.state_us);
        assert_eq!(d.replications, 2);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 1).is_err(), "cut at {cut}");
        }
        assert!(decode(&bytes, 2).is_err());
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge, 1).unwrap_err().contains("overruns"));
    }
}
