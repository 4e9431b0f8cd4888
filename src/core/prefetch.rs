//! A hint to the CPU to start loading a value's cache lines now, because they will be read
//! soon.
//!
//! At 200k VMs and more, a VM's records (truth, ledger, campaign turn, move task, dirty rate)
//! are cold by the time the VM next changes state, and the simulation waits on memory more than
//! it computes. The engine knows which VM a drain migrates next, seconds of simulated time (and
//! a few events) ahead, and asks the components to prefetch that VM's records meanwhile.
//!
//! Hand-written rather than a crate: it is one intrinsic, and the prefetch crates on the
//! registry are unmaintained one-liners. A no-op off x86_64.

const LINE: usize = 64;

/// Starts loading every cache line `value` spans into every cache level. Never changes what
/// the program computes.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    let first = (value as *const T).cast::<u8>();
    let size = std::mem::size_of::<T>().max(1);
    let mut offset = 0;
    while offset < size {
        hint(first.wrapping_add(offset));
        offset += LINE;
    }
    // The last byte's line, when the value straddles one more line than its size suggests.
    hint(first.wrapping_add(size - 1));
}

#[inline(always)]
fn hint(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 only hints the cache hierarchy: it cannot fault (whatever the
    // address), has no architectural effect, and here points into a live reference. SSE, its
    // target feature, is part of the x86_64 baseline, so every x86_64 CPU has it.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
