//! Correlated domain outages (`[[failures.domain]]`): one keyed clock per rack, fault domain or
//! zone; when it fires every host of the domain loses power together until the repair ends.

use super::DomainFailures;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::sched::Scheduler;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    Down { spec: u32, domain: u32 },
    Up { spec: u32, domain: u32 },
}

pub struct DomainOutages {
    /// (up-time, repair) streams per spec and domain.
    rng: Vec<Vec<(StreamRng, StreamRng)>>,
}

impl DomainOutages {
    pub fn new(specs: &[DomainFailures], seed: u64, replication: u32) -> Self {
        let key = |s: usize, d: usize| ((s as u64) << 32) | d as u64;
        let rng = specs
            .iter()
            .enumerate()
            .map(|(s, spec)| {
                (0..spec.domains.len())
                    .map(|d| {
                        (
                            stream(seed, replication, StreamKind::DomainUptime, key(s, d)),
                            stream(seed, replication, StreamKind::DomainRepair, key(s, d)),
                        )
                    })
                    .collect()
            })
            .collect();
        DomainOutages { rng }
    }

    pub fn schedule_next(
        &mut self,
        specs: &[DomainFailures],
        spec: usize,
        domain: usize,
        s: &mut impl Scheduler<Event>,
    ) {
        let after = specs[spec]
            .time_between
            .sample(&mut self.rng[spec][domain].0);
        let (spec, domain) = (spec as u32, domain as u32);
        s.after(after, Event::Down { spec, domain });
    }

    pub fn schedule_repair(
        &mut self,
        specs: &[DomainFailures],
        spec: usize,
        domain: usize,
        s: &mut impl Scheduler<Event>,
    ) {
        let after = specs[spec].repair.sample(&mut self.rng[spec][domain].1);
        let (spec, domain) = (spec as u32, domain as u32);
        s.after(after, Event::Up { spec, domain });
    }
}
