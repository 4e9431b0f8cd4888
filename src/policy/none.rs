//! The baseline: no HA controller at all.
//!
//! VMs on a failed host are down until the host is repaired and boots. Whether they then boot
//! again is Nova's `[nova] resume_guests_state_on_host_boot` (default False, production-ha.md
//! §1.2: they stay SHUTOFF until someone starts them; `[operator]` is that someone). It never
//! issues a command, whatever it observes.

use super::api::{Command, Inventory, Observation, Policy};

#[derive(Clone, Debug, Default)]
pub struct NoPolicy;

impl Policy for NoPolicy {
    fn name(&self) -> &'static str {
        "none"
    }

    fn on_observation(
        &mut self,
        _now_us: u64,
        _inv: &dyn Inventory,
        _obs: &Observation,
    ) -> Vec<Command> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::api::{HostView, VmView};

    struct Empty;
    impl Inventory for Empty {
        fn host_count(&self) -> u32 {
            0
        }
        fn vm_count(&self) -> u32 {
            0
        }
        fn host(&self, _: u32) -> HostView {
            unreachable!()
        }
        fn vms_on(&self, _: u32) -> Vec<VmView> {
            Vec::new()
        }
        fn vm(&self, _: u32) -> VmView {
            unreachable!()
        }
        fn any_evacuable_tagged(&self) -> bool {
            false
        }
    }

    #[test]
    fn never_commands() {
        let mut p = NoPolicy;
        for obs in [
            Observation::NodeOffline { host: 1 },
            Observation::Fenced { host: 1, ok: true },
        ] {
            assert!(p.on_observation(0, &Empty, &obs).is_empty());
        }
    }
}
