//! Fields of Nova's server records that only the API changes: the `locked` flag
//! (`lock_server` / `unlock_server`) and a `vm_state` written by `os-resetState`. Neither
//! touches a hypervisor; they change what a controller reads and, for `locked`, which
//! non-admin actions Nova accepts (`check_instance_lock`, nova/compute/api.py).

use crate::world::ids::VmId;

/// One bit set per server: locked, and `vm_state` reset to `error`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags(u8);

const LOCKED: u8 = 1;
const ERROR: u8 = 2;

pub struct NovaRecords {
    flags: Vec<Flags>,
}

impl NovaRecords {
    pub fn new(n_vms: usize) -> Self {
        NovaRecords {
            flags: vec![Flags::default(); n_vms],
        }
    }

    pub fn locked(&self, v: VmId) -> bool {
        self.flags[v.index()].0 & LOCKED != 0
    }

    pub fn set_locked(&mut self, v: VmId, locked: bool) {
        self.set(v, LOCKED, locked);
    }

    /// `vm_state` is `error` because `os-resetState` wrote it.
    pub fn error(&self, v: VmId) -> bool {
        self.flags[v.index()].0 & ERROR != 0
    }

    /// `os-resetState` to `error` (true) or `active` (false); a finished rebuild, which sets
    /// `vm_state` to `active` in `_do_rebuild_instance`, clears it too.
    pub fn set_error(&mut self, v: VmId, error: bool) {
        self.set(v, ERROR, error);
    }

    fn set(&mut self, v: VmId, bit: u8, on: bool) {
        let f = &mut self.flags[v.index()].0;
        if on {
            *f |= bit;
        } else {
            *f &= !bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_independent() {
        let mut r = NovaRecords::new(2);
        r.set_locked(VmId(1), true);
        r.set_error(VmId(1), true);
        r.set_locked(VmId(1), false);
        assert!(!r.locked(VmId(1)) && r.error(VmId(1)));
        assert!(!r.locked(VmId(0)) && !r.error(VmId(0)));
    }
}
