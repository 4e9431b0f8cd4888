//! Google Compute Engine's handling of unplanned host failures (production-ha.md §4).
//!
//! "If the host fails completely, the VM terminates, restarts automatically (hostError)": when
//! the platform declares a host failed (`Observation::NodeFailed`, after the what-if
//! `[gce] host_error_detection`), every VM on it that should run is terminated; those with
//! `scheduling.automaticRestart` (the default; it "restarts a VM that Compute Engine
//! terminated") are restarted on another host (in the same zone: the engine pins every move to
//! its zone, §4 "to another host in the same zone"); the others — Preemptible and Spot VMs,
//! for which automatic restart cannot be set — stay TERMINATED until their user restarts them,
//! also after the host is back. The control plane knows the host is gone, so it marks the
//! service down before restarting (no 60 s heartbeat wait). A VM that found no room is started
//! on its host when the host returns (automatic restart keeps trying).
//!
//! Not modelled: the best-effort predictive live migration before a failure (the engine has no
//! warning signal yet), GPU VMs' "up to one hour to terminate after host errors".

use super::api::{Command, Inventory, Observation, Placement, Policy, VmStatus};
use serde::{Deserialize, Serialize};

/// The `gce` policy has no options of its own (its detection time is an infra setting).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GceConfig {}

#[derive(Clone, Debug, Default)]
pub struct Gce;

impl Gce {
    pub fn new(_cfg: GceConfig) -> Self {
        Gce
    }
}

impl Policy for Gce {
    fn name(&self) -> &'static str {
        "gce"
    }

    fn on_observation(
        &mut self,
        _now_us: u64,
        inv: &dyn Inventory,
        obs: &Observation,
    ) -> Vec<Command> {
        match obs {
            Observation::NodeFailed { host } => {
                let mut out = vec![Command::ForceDown {
                    host: *host,
                    down: true,
                }];
                out.extend(
                    inv.vms_on(*host)
                        .into_iter()
                        .filter(|vm| vm.automatic_restart && vm.status != VmStatus::Stopped)
                        .map(|vm| Command::Evacuate {
                            vm: vm.id,
                            placement: Placement::Any,
                        }),
                );
                out
            }
            Observation::NodeOnline { host } => {
                let mut out = vec![Command::ForceDown {
                    host: *host,
                    down: false,
                }];
                // Automatic restart of the VMs that found no room elsewhere.
                out.extend(
                    inv.vms_on(*host)
                        .into_iter()
                        .filter(|vm| vm.automatic_restart && vm.status == VmStatus::Stopped)
                        .map(|vm| Command::StartServer { vm: vm.id }),
                );
                out
            }
            _ => Vec::new(),
        }
    }
}
