//! The baseline: no HA controller at all.
//!
//! VMs on a failed host stay down until the host is repaired and boots; then the hypervisor boots
//! them again. (Nova's own `resume_guests_state_on_host_boot` defaults to False, production-ha.md
//! §1.2; this baseline models the common operator practice of enabling it, as the foundation
//! issue specifies.) It never issues a command, whatever it observes.

use super::api::{ClusterView, Command, Observation, Policy};

#[derive(Clone, Debug, Default)]
pub struct NoPolicy;

impl Policy for NoPolicy {
    fn name(&self) -> &'static str {
        "none"
    }

    fn on_observation(
        &mut self,
        _now_us: u64,
        _view: &ClusterView,
        _obs: &Observation,
    ) -> Vec<Command> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_commands() {
        let mut p = NoPolicy;
        let view = ClusterView::default();
        for obs in [
            Observation::HostServiceDown { host: 1 },
            Observation::HostServiceUp { host: 1 },
        ] {
            assert!(p.on_observation(0, &view, &obs).is_empty());
        }
    }
}
