//! On/off processes per host: network partitions (`[failures.partition]`) and control-plane
//! failures (`[failures.control_plane]`). Each applicable host has a keyed up-time and duration
//! stream; the next start is drawn when the previous outage ends.

use super::HostOutageProcess;
use crate::core::rng::{stream, StreamKind, StreamRng};
use crate::core::sched::Scheduler;
use crate::world::ids::HostId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Partition,
    ControlPlane,
}

#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub kind: Kind,
    pub host: HostId,
    /// The outage starts (true) or ends.
    pub starts: bool,
}

pub struct OnOff {
    kind: Kind,
    spec: Option<HostOutageProcess>,
    rng: Vec<(StreamRng, StreamRng)>,
}

impl OnOff {
    pub fn new(
        kind: Kind,
        spec: Option<&HostOutageProcess>,
        seed: u64,
        replication: u32,
        n_hosts: usize,
    ) -> Self {
        let (up, dur) = match kind {
            Kind::Partition => (StreamKind::PartitionUptime, StreamKind::PartitionDuration),
            Kind::ControlPlane => (
                StreamKind::ControlPlaneUptime,
                StreamKind::ControlPlaneDuration,
            ),
        };
        let rng = match spec {
            Some(_) => (0..n_hosts as u64)
                .map(|h| {
                    (
                        stream(seed, replication, up, h),
                        stream(seed, replication, dur, h),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        OnOff {
            kind,
            spec: spec.cloned(),
            rng,
        }
    }

    /// Queues the host's next outage start.
    pub fn schedule_next(&mut self, h: HostId, s: &mut impl Scheduler<Event>) {
        let Some(p) = &self.spec else { return };
        if !p.applies_to(h) {
            return;
        }
        let after = p.time_between.sample(&mut self.rng[h.index()].0);
        let kind = self.kind;
        s.after(
            after,
            Event {
                kind,
                host: h,
                starts: true,
            },
        );
    }

    /// The outage started: queues its end.
    pub fn schedule_end(&mut self, h: HostId, s: &mut impl Scheduler<Event>) {
        let p = self.spec.as_ref().expect("on/off process");
        let d = p.duration.sample(&mut self.rng[h.index()].1);
        let kind = self.kind;
        s.after(
            d,
            Event {
                kind,
                host: h,
                starts: false,
            },
        );
    }
}
