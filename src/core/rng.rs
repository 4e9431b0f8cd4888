//! Keyed random streams.
//!
//! Every stream is derived from `(master seed, replication, stream kind, entity id)` and owned by
//! one entity, so the draws of host 17's crash clock never depend on how many other hosts exist,
//! which policy runs, or in which order events fire. That is what makes paired comparisons on
//! common random numbers exact. The generator is ChaCha8 (`rand_chacha`), portable and
//! documented; `StdRng`, `SmallRng` and `thread_rng` are banned because their algorithm may change.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator behind every stream.
pub type StreamRng = ChaCha8Rng;

/// What a stream is for. The numeric tags are part of the reproducibility contract: changing
/// one changes every result, so add new kinds at the end with new numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum StreamKind {
    /// Time until a host's next independent crash.
    HostUptime = 1,
    /// Repair time after a host crash.
    HostRepair = 2,
    /// Time until a correlated domain outage (entity = failure spec and domain index).
    DomainUptime = 3,
    /// Repair time of a domain outage.
    DomainRepair = 4,
    /// Phase of a host's nova-compute heartbeats and Pacemaker monitor.
    HeartbeatPhase = 5,
    /// Time until a host's next network partition.
    PartitionUptime = 6,
    /// Length of a partition.
    PartitionDuration = 7,
    /// Whether a host crash also takes the BMC away, and for how long.
    BmcFault = 8,
    /// Time until a host's nova-compute (or its AMQP link) next dies.
    ControlPlaneUptime = 9,
    /// How long it stays dead.
    ControlPlaneDuration = 10,
    /// Time until a running guest's next crash (entity = VM).
    GuestUptime = 11,
    /// A VM's memory dirty rate (entity = VM).
    DirtyRate = 12,
    /// Which pooled values a chart keeps once there are too many (entity = chart; replication
    /// 0: one stream for the whole run).
    ChartSample = 13,
    /// Whether a host's boot fails, and for how long (entity = host).
    RebootFailure = 14,
}

/// SplitMix64 finaliser: a bijective 64-bit mixer, so distinct keys give distinct seeds.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives the generator of one stream. Each key component is folded in turn through the
/// mixer, then expanded to ChaCha's 256-bit seed.
pub fn stream(seed: u64, replication: u32, kind: StreamKind, entity: u64) -> StreamRng {
    let mut h = mix64(seed);
    h = mix64(h ^ u64::from(replication));
    h = mix64(h ^ kind as u64);
    h = mix64(h ^ entity);
    let mut key = [0u8; 32];
    let mut x = h;
    for chunk in key.chunks_mut(8) {
        x = mix64(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    const PINNED: [u64; 3] = [
        13150127595649797092,
        9732138465036678515,
        10910796206818128615,
    ];

    fn first(seed: u64, rep: u32, kind: StreamKind, entity: u64) -> u64 {
        stream(seed, rep, kind, entity).random()
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = first(42, 0, StreamKind::HostUptime, 7);
        assert_eq!(a, first(42, 0, StreamKind::HostUptime, 7));
        assert_ne!(a, first(43, 0, StreamKind::HostUptime, 7));
        assert_ne!(a, first(42, 1, StreamKind::HostUptime, 7));
        assert_ne!(a, first(42, 0, StreamKind::HostRepair, 7));
        assert_ne!(a, first(42, 0, StreamKind::HostUptime, 8));
    }

    #[test]
    fn generator_is_pinned() {
        // Guards the reproducibility contract: if these values change, every published seed
        // reproduces different numbers. Change them only on purpose, with a note.
        let mut r = stream(42, 0, StreamKind::HostUptime, 0);
        let got: Vec<u64> = (0..3).map(|_| r.random()).collect();
        assert_eq!(
            got, PINNED,
            "keyed stream derivation or ChaCha8 output changed"
        );
    }
}
