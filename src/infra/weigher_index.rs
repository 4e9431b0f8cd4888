//! Hosts in the RAM weigher's order (most free RAM first, lowest id on ties), for finding a
//! move's target without scanning the fleet.
//!
//! A segment tree over the hosts, eight children per node so that a node's children are 64
//! contiguous bytes (one or two cache lines) and a leaf-to-root walk touches that per level (five levels at 10k
//! hosts, six at 50k, against fourteen and sixteen for a binary tree), its leaves ordered by
//! (fault domain, host id) so that every fault domain is one contiguous leaf range. Each node
//! holds the best key of its subtree; a key
//! packs free RAM above the complement of the host id, so one integer comparison is the
//! weigher's order and ties go to the lowest id. Hosts that may take no move at all (disabled,
//! in maintenance) are removed from the tree, so a search never wades through them however
//! many there are. `best` visits candidates in weigher order, each in O(log hosts) and without
//! allocation. Hand-written: the ordered
//! containers of std and the crates we looked at re-balance on every update (a remove and an
//! insert per claim change) where this updates one leaf-to-root path in place.

use crate::world::ids::HostId;

/// No host: sorts below every real key.
const ABSENT: u64 = 0;
/// Bits of the key that hold the (complemented) host id.
const ID_BITS: u32 = 24;
const ID_MASK: u64 = (1 << ID_BITS) - 1;
/// Most free RAM a key can carry, MiB (2⁴⁰ MiB = 1 EiB).
const MAX_FREE_MIB: u64 = (1 << (64 - ID_BITS)) - 2;
/// Most hosts the index can hold.
pub const MAX_HOSTS: usize = 1 << ID_BITS;

/// What a search makes of a candidate (see `WeigherIndex::best`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Take,
    /// Not for this search: back in the tree afterwards.
    Skip,
    /// Not for this search or any later one until the caller lists it again: left out of the
    /// tree, and reported by `take_parked`.
    Park,
}

/// Children per node: eight 8-byte keys, one cache line.
const FANOUT: usize = 8;

#[derive(Clone, Debug)]
pub struct WeigherIndex {
    /// Every level, leaves first, the root (one node) last; node j of a level has children
    /// `FANOUT·j .. FANOUT·j + FANOUT` in the level below. Each level below the root holds a
    /// whole number of child blocks, padded with `ABSENT`.
    tree: Vec<u64>,
    /// Where each level starts in `tree`; the last entry is the root's level.
    level_start: Vec<usize>,
    /// Leaf position of each host.
    leaf: Vec<u32>,
    /// Leaf range `[lo, hi)` of each fault domain.
    fd_range: Vec<(u32, u32)>,
    /// Candidates taken out during a search (a reused buffer).
    rejected: Vec<(HostId, u64)>,
    /// Candidates parked by searches since the last `take_parked`.
    parked: Vec<HostId>,
}

fn key(h: HostId, free_ram_mib: u64) -> u64 {
    // Free RAM + 1 so an empty host still sorts above ABSENT.
    ((free_ram_mib.min(MAX_FREE_MIB) + 1) << ID_BITS) | (ID_MASK - u64::from(h.0))
}

/// The largest of one block of children, as a balanced tree of comparisons (no loop).
fn block_max(kids: &[u64]) -> u64 {
    let k: &[u64; FANOUT] = kids.try_into().expect("a whole block of children");
    let m = |a: u64, b: u64| a.max(b);
    m(
        m(m(k[0], k[1]), m(k[2], k[3])),
        m(m(k[4], k[5]), m(k[6], k[7])),
    )
}

fn host_of(k: u64) -> HostId {
    HostId((ID_MASK - (k & ID_MASK)) as u32)
}

impl WeigherIndex {
    /// `fault_domain[h]` is host h's fault domain index; every host starts absent.
    pub fn new(fault_domain: &[usize], n_fd: usize) -> Self {
        assert!(
            fault_domain.len() <= MAX_HOSTS,
            "host count checked by the reader"
        );
        let n = fault_domain.len();
        let mut level_start = vec![0];
        let mut len = n.max(1);
        let mut total = 0;
        while len > 1 {
            let padded = len.div_ceil(FANOUT) * FANOUT;
            total += padded;
            level_start.push(total);
            len = padded / FANOUT;
        }
        total += 1;
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&h| (fault_domain[h as usize], h));
        let mut leaf = vec![0u32; n];
        let mut fd_range = vec![(0u32, 0u32); n_fd];
        for (pos, &h) in order.iter().enumerate() {
            leaf[h as usize] = pos as u32;
        }
        let mut pos = 0u32;
        for (fd, range) in fd_range.iter_mut().enumerate() {
            let count = fault_domain.iter().filter(|&&f| f == fd).count() as u32;
            *range = (pos, pos + count);
            pos += count;
        }
        WeigherIndex {
            tree: vec![ABSENT; total],
            level_start,
            leaf,
            fd_range,
            rejected: Vec::new(),
            parked: Vec::new(),
        }
    }

    /// Lists `h` with `free_ram_mib`, or removes it (`None`).
    pub fn set(&mut self, h: HostId, free_ram_mib: Option<u64>) {
        self.put(h, free_ram_mib.map_or(ABSENT, |f| key(h, f)));
    }

    /// The first listed host in weigher order, within fault domain `fd` if given, that
    /// `accept` takes. A skipped host is taken out of the tree for the rest of the search (one
    /// leaf-to-root update) and put back before returning, so each candidate costs O(log hosts)
    /// and the best of the whole fleet is just the root. A parked host stays out, so hosts
    /// that no search can take (a dead host Nova still lists) cost one search, not every one.
    pub fn best(
        &mut self,
        fd: Option<usize>,
        accept: impl FnMut(HostId) -> Verdict,
    ) -> Option<HostId> {
        let (lo, hi) = match fd {
            Some(f) => self.fd_range.get(f).copied().unwrap_or((0, 0)),
            None => (0, self.leaf.len() as u32),
        };
        self.best_in(lo, hi, accept)
    }

    /// `best` within the fault domains `first..=last` (one contiguous leaf range).
    pub fn best_fds(
        &mut self,
        first: usize,
        last: usize,
        accept: impl FnMut(HostId) -> Verdict,
    ) -> Option<HostId> {
        let lo = self.fd_range.get(first).map_or(0, |r| r.0);
        let hi = self.fd_range.get(last).map_or(0, |r| r.1);
        self.best_in(lo, hi.max(lo), accept)
    }

    fn best_in(
        &mut self,
        lo: u32,
        hi: u32,
        mut accept: impl FnMut(HostId) -> Verdict,
    ) -> Option<HostId> {
        let mut rejected = std::mem::take(&mut self.rejected);
        rejected.clear();
        let mut found = None;
        loop {
            let k = self.range_max(lo as usize, hi as usize);
            if k == ABSENT {
                break;
            }
            let h = host_of(k);
            match accept(h) {
                Verdict::Take => {
                    found = Some(h);
                    break;
                }
                Verdict::Skip => rejected.push((h, k)),
                Verdict::Park => self.parked.push(h),
            }
            self.put(h, ABSENT);
        }
        for &(h, k) in &rejected {
            self.put(h, k);
        }
        self.rejected = rejected;
        found
    }

    /// The hosts parked since the last call (each now out of the tree).
    pub fn take_parked(&mut self) -> std::vec::Drain<'_, HostId> {
        self.parked.drain(..)
    }

    fn put(&mut self, h: HostId, k: u64) {
        let mut i = self.leaf[h.index()] as usize;
        self.tree[i] = k;
        for level in 1..self.level_start.len() {
            let below = self.level_start[level - 1];
            let block = i / FANOUT * FANOUT;
            let m = block_max(&self.tree[below + block..below + block + FANOUT]);
            i /= FANOUT;
            let node = &mut self.tree[self.level_start[level] + i];
            if *node == m {
                // Nothing above changes either.
                break;
            }
            *node = m;
        }
    }

    /// The best key among leaves `[lo, hi)`: at each level the partial blocks at both ends,
    /// then the whole blocks between them one level up.
    fn range_max(&self, lo: usize, hi: usize) -> u64 {
        let top = self.level_start.len() - 1;
        if lo == 0 && hi >= self.leaf.len() {
            return self.tree[self.level_start[top]];
        }
        let max_of = |level: usize, a: usize, b: usize| {
            let s = self.level_start[level];
            self.tree[s + a..s + b]
                .iter()
                .copied()
                .fold(ABSENT, u64::max)
        };
        let (mut l, mut r) = (lo, hi);
        let mut best = ABSENT;
        for level in 0..=top {
            if l >= r {
                break;
            }
            let (lb, rb) = (l / FANOUT, (r - 1) / FANOUT);
            if lb == rb || level == top {
                best = best.max(max_of(level, l, r));
                break;
            }
            if l % FANOUT != 0 {
                best = best.max(max_of(level, l, (lb + 1) * FANOUT));
                l = lb + 1;
            } else {
                l = lb;
            }
            if r % FANOUT != 0 {
                best = best.max(max_of(level, rb * FANOUT, r));
                r = rb;
            } else {
                r = rb + 1;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A parked host is left out of every later search, and reported once, until it is set
    /// again; a skipped one is back for the next search.
    #[test]
    fn parked_hosts_stay_out_until_set_again() {
        let mut idx = WeigherIndex::new(&[0, 0, 0], 1);
        for (h, free) in [(0, 30), (1, 20), (2, 10)] {
            idx.set(HostId(h), Some(free));
        }
        let verdict = |h: HostId| match h.0 {
            0 => Verdict::Park,
            1 => Verdict::Skip,
            _ => Verdict::Take,
        };
        assert_eq!(idx.best(None, verdict), Some(HostId(2)));
        assert_eq!(idx.take_parked().collect::<Vec<_>>(), vec![HostId(0)]);
        let mut seen = Vec::new();
        let got = idx.best(None, |h| {
            seen.push(h.0);
            Verdict::Take
        });
        assert_eq!((got, seen), (Some(HostId(1)), vec![1]));
        assert_eq!(idx.take_parked().count(), 0);
        idx.set(HostId(0), Some(30));
        assert_eq!(idx.best(None, |_| Verdict::Take), Some(HostId(0)));
    }

    /// Against the weigher's definition: sort listed hosts by (free RAM desc, id asc).
    #[test]
    fn visits_hosts_in_weigher_order_within_a_fault_domain() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in [1usize, 2, 3, 7, 8, 9, 64, 65, 100, 600] {
            let fds: Vec<usize> = (0..n).map(|_| rng.random_range(0..3)).collect();
            let mut idx = WeigherIndex::new(&fds, 3);
            let mut free: Vec<Option<u64>> = vec![None; n];
            for _ in 0..300 {
                let h = rng.random_range(0..n);
                let f = (rng.random_range(0..4) > 0).then(|| rng.random_range(0..5u64) * 1024);
                free[h] = f;
                idx.set(HostId(h as u32), f);
                let fd = (rng.random_range(0..2) == 0).then(|| rng.random_range(0..3usize));
                let skip = rng.random_range(0..3usize);
                let mut want: Vec<(std::cmp::Reverse<u64>, u32)> = (0..n)
                    .filter(|&i| free[i].is_some() && fd.is_none_or(|f| fds[i] == f))
                    .map(|i| (std::cmp::Reverse(free[i].unwrap()), i as u32))
                    .collect();
                want.sort();
                // Accept the (skip+1)-th candidate: checks the visiting order, not just the best.
                let mut seen = Vec::new();
                let got = idx.best(fd, |h| {
                    seen.push(h.0);
                    if seen.len() > skip {
                        Verdict::Take
                    } else {
                        Verdict::Skip
                    }
                });
                let expect: Vec<u32> = want.iter().take(skip + 1).map(|w| w.1).collect();
                assert_eq!(seen, expect);
                assert_eq!(got.map(|h| h.0), want.get(skip).map(|w| w.1));
            }
        }
    }
}
