//! The pending-event set: an indexed 4-ary min-heap ordered by `(time, sequence)`, with
//! cancellation.
//!
//! Equal times pop first-in first-out, because every push takes the next sequence number; that
//! makes the order of simultaneous events a property of the model, not of the heap. A push
//! returns a `Handle`; `cancel` removes the entry at once, so a timer that is re-armed or made
//! pointless (a host's crash clock when the host dies, a migration's phase end when its NIC is
//! re-shared) leaves nothing behind in the heap. Owners that prefer it may still ignore a stale
//! event on pop by a generation check; the queue never reads the payload.
//!
//! Layout, for the cache: the heap holds 16-byte nodes, one `u128` key `time << 64 | seq << 24
//! | slot`, so one integer comparison orders two entries and sifting moves little memory;
//! payloads stay put in a slot array and only the slot's heap position is updated when its node
//! moves. Comparing the key compares times, then sequence numbers (unique), so the heap order is
//! exactly `(time, seq)`. Four children per node, 64 contiguous bytes of siblings, halve the
//! depth of a binary heap; a pop walks the hole from the root down to a leaf along the smallest
//! children and sifts the last node up from there (as `std`'s `BinaryHeap::pop` does), which
//! compares less than sifting the last node down from the root. A hand-written heap rather
//! than a crate: none of the maintained priority-queue crates offers FIFO ties, cancellation by
//! handle and no allocation per push together.

use super::time::SimTime;

/// Most entries pending at once (the slot index has 24 bits).
pub const MAX_PENDING: usize = 1 << 24;
/// Most pushes in one queue's life (the sequence number has 40 bits).
pub const MAX_PUSHES: u64 = 1 << 40;
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const FREE: u32 = u32::MAX;

/// Children per heap node.
const ARITY: usize = 4;

/// A heap entry: `time << 64 | seq << SLOT_BITS | slot`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Node(u128);

impl Node {
    fn new(time: u64, seq_slot: u64) -> Self {
        Node(u128::from(time) << 64 | u128::from(seq_slot))
    }

    fn time(self) -> u64 {
        (self.0 >> 64) as u64
    }

    fn seq_slot(self) -> u64 {
        self.0 as u64
    }

    fn slot(self) -> usize {
        (self.seq_slot() & SLOT_MASK) as usize
    }
}

/// Names one pushed entry, for `cancel`. Stays harmless after the entry popped: a reused slot
/// carries another sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    seq_slot: u64,
}

/// Min-queue of events by `(time, insertion order)`, with cancellation.
pub struct EventQueue<E> {
    heap: Vec<Node>,
    /// Per slot: the position of its node in `heap` (`FREE` when unused) and its payload.
    pos: Vec<u32>,
    payload: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    overflowed: bool,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::new(),
            pos: Vec::new(),
            payload: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            overflowed: false,
        }
    }

    /// Queues `event` at `time`. Past `MAX_PENDING` entries or `MAX_PUSHES` pushes the event is
    /// dropped and `overflowed` turns true (the engine reports it as an invariant failure).
    pub fn push(&mut self, time: SimTime, event: E) -> Handle {
        if self.heap.len() >= MAX_PENDING || self.next_seq >= MAX_PUSHES {
            self.overflowed = true;
            return Handle { seq_slot: u64::MAX };
        }
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                self.pos.push(FREE);
                self.payload.push(None);
                self.pos.len() - 1
            }
        };
        let seq_slot = (self.next_seq << SLOT_BITS) | slot as u64;
        self.next_seq += 1;
        self.payload[slot] = Some(event);
        let i = self.heap.len();
        self.heap.push(Node::new(time.as_us(), seq_slot));
        self.sift_up(i);
        Handle { seq_slot }
    }

    /// The earliest entry (first pushed among equal times).
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let top = *self.heap.first()?;
        let last = self.heap.pop().expect("non-empty heap");
        if !self.heap.is_empty() {
            // The hole at the root moves down to a leaf along the smallest children, then the
            // last node fills it and rises to its place.
            let hole = self.hole_to_bottom(0);
            self.heap[hole] = last;
            self.sift_up(hole);
        }
        let event = self.release(top.slot());
        Some((SimTime(top.time()), event))
    }

    /// The time of the earliest entry, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|n| SimTime(n.time()))
    }

    /// Removes the entry `h` names, if it is still pending.
    pub fn cancel(&mut self, h: Handle) {
        let slot = (h.seq_slot & SLOT_MASK) as usize;
        let Some(&p) = self.pos.get(slot) else {
            return;
        };
        if p == FREE || self.heap[p as usize].seq_slot() != h.seq_slot {
            return;
        }
        self.remove_at(p as usize);
        self.release(slot);
    }

    /// Whether a push was dropped because a limit was reached.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn release(&mut self, slot: usize) -> E {
        self.pos[slot] = FREE;
        self.free.push(slot as u32);
        self.payload[slot]
            .take()
            .expect("a pending slot holds its event")
    }

    fn remove_at(&mut self, i: usize) {
        let last = self.heap.pop().expect("non-empty heap");
        if i < self.heap.len() {
            self.heap[i] = last;
            self.sift_down(i);
            self.sift_up(i);
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        let node = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let p = self.heap[parent];
            if p <= node {
                break;
            }
            self.heap[i] = p;
            self.pos[p.slot()] = i as u32;
            i = parent;
        }
        self.heap[i] = node;
        self.pos[node.slot()] = i as u32;
    }

    /// The smallest child of `i` and its node, if it has any.
    #[inline]
    fn min_child(&self, i: usize) -> Option<(usize, Node)> {
        let first = ARITY * i + 1;
        let n = self.heap.len();
        if first + ARITY <= n {
            // All four children: a fixed-size array the compiler unrolls, one bounds check.
            let kids: &[Node; ARITY] = self.heap[first..first + ARITY]
                .try_into()
                .expect("four children");
            let (a, b) = if kids[1] < kids[0] {
                (1, kids[1])
            } else {
                (0, kids[0])
            };
            let (c, d) = if kids[3] < kids[2] {
                (3, kids[3])
            } else {
                (2, kids[2])
            };
            return Some(if d < b {
                (first + c, d)
            } else {
                (first + a, b)
            });
        }
        let kids = self.heap.get(first..)?;
        let mut best = (first, *kids.first()?);
        for (j, &k) in kids.iter().enumerate().skip(1) {
            if k < best.1 {
                best = (first + j, k);
            }
        }
        Some(best)
    }

    fn sift_down(&mut self, mut i: usize) {
        let node = self.heap[i];
        while let Some((c, child)) = self.min_child(i) {
            if node <= child {
                break;
            }
            self.heap[i] = child;
            self.pos[child.slot()] = i as u32;
            i = c;
        }
        self.heap[i] = node;
        self.pos[node.slot()] = i as u32;
    }

    /// Moves the hole at `i` down to a leaf, each step lifting the smallest child into it;
    /// returns the hole's final position.
    fn hole_to_bottom(&mut self, mut i: usize) -> usize {
        while let Some((c, child)) = self.min_child(i) {
            self.heap[i] = child;
            self.pos[child.slot()] = i as u32;
            i = c;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn pops_in_time_order_and_fifo_on_ties() {
        let mut q = EventQueue::new();
        q.push(SimTime(30), "c");
        q.push(SimTime(10), "a1");
        q.push(SimTime(20), "b");
        q.push(SimTime(10), "a2");
        q.push(SimTime(10), "a3");
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(q.peek_time(), None);
        assert_eq!(order, vec!["a1", "a2", "a3", "b", "c"]);
    }

    #[test]
    fn cancelled_entries_never_pop_and_stale_handles_are_harmless() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(5), 'a');
        let b = q.push(SimTime(1), 'b');
        q.push(SimTime(3), 'c');
        q.cancel(a);
        q.cancel(a); // twice: nothing
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some((SimTime(1), 'b')));
        // b's slot is reused by d; cancelling the old handle must not remove d.
        q.push(SimTime(2), 'd');
        q.cancel(b);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!['d', 'c']);
    }

    /// Against an independent model (a sorted list of (time, seq)), with random pushes,
    /// pops and cancels.
    #[test]
    fn matches_a_sorted_list_under_random_operations() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut q = EventQueue::new();
        let mut model: Vec<(u64, u64, u32)> = Vec::new();
        let mut handles: Vec<(Handle, u64, u64)> = Vec::new();
        let mut seq = 0u64;
        for step in 0..40_000u32 {
            // The first half mostly pushes, so the heap is several levels deep.
            let op = if step < 20_000 && step % 2 == 0 {
                0
            } else {
                rng.random_range(0..10)
            };
            match op {
                0..=4 => {
                    let t = rng.random_range(0..5_000u64);
                    let h = q.push(SimTime(t), step);
                    model.push((t, seq, step));
                    handles.push((h, t, seq));
                    seq += 1;
                }
                5..=7 => {
                    model.sort_unstable();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    let got = q.pop();
                    assert_eq!(got.map(|(t, e)| (t.0, e)), want.map(|(t, _, e)| (t, e)));
                }
                _ => {
                    if !handles.is_empty() {
                        let i = rng.random_range(0..handles.len());
                        let (h, t, s) = handles.swap_remove(i);
                        q.cancel(h);
                        model.retain(|&(mt, ms, _)| (mt, ms) != (t, s));
                    }
                }
            }
            assert_eq!(q.len(), model.len());
        }
    }
}
