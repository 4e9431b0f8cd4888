//! Red Hat Instance HA (Pacemaker + fence agents), production-ha.md §3.1–3.3 (fence-agents @
//! 0804740, openstack-resource-agents NovaEvacuate, puppet-tripleo instance_ha.pp).
//!
//! Pacemaker fences a lost compute node with the IPMI device first (infra). When that succeeds,
//! the `fence-nova` device does second-layer fencing (fence_compute): `force_down`, disable
//! nova-compute and set the node attribute `evacuate=yes`. The `nova-evacuate` resource's
//! monitor (every 10 s) evacuates the servers of every node marked `yes` — only those whose
//! flavor or image is tagged `evacuable`, or all of them if nothing in the cloud is tagged —
//! fire-and-forget (only the API answer is checked), then sets `evacuate=no`; a rejected call
//! leaves `yes` for the next monitor. When the node comes back, unfencing (fence_compute `on`)
//! waits until `evacuate` is `no`, then clears `force_down` and enables the service.
//! Nothing is evacuated unless fencing succeeded (`requires=fencing`).

use super::api::{Command, Inventory, Observation, Placement, Policy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceHaConfig {
    /// NovaEvacuate `op monitor interval=10`.
    pub monitor_interval_us: u64,
    /// fence_compute `instance_filtering` = True: evacuate only `evacuable`-tagged servers
    /// (all of them when nothing is tagged).
    pub instance_filtering: bool,
}

impl Default for InstanceHaConfig {
    fn default() -> Self {
        InstanceHaConfig {
            monitor_interval_us: 10_000_000,
            instance_filtering: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attr {
    /// `evacuate=yes`: waiting for NovaEvacuate.
    Yes,
    /// `evacuate=no`: evacuations issued.
    No,
}

const T_MONITOR: u64 = 1;

#[derive(Clone, Debug, Default)]
pub struct InstanceHa {
    cfg: InstanceHaConfig,
    evacuate: BTreeMap<u32, Attr>,
    monitor_armed: bool,
    /// Nodes back online whose unfencing waits for `evacuate=no`.
    unfence_pending: BTreeSet<u32>,
    /// Server → host it was evacuated from, for API rejections that put `yes` back.
    issued: BTreeMap<u32, u32>,
}

impl InstanceHa {
    pub fn new(cfg: InstanceHaConfig) -> Self {
        InstanceHa {
            cfg,
            ..Default::default()
        }
    }

    fn arm_monitor(&mut self, now: u64, out: &mut Vec<Command>) {
        if !self.monitor_armed {
            self.monitor_armed = true;
            let i = self.cfg.monitor_interval_us.max(1);
            out.push(Command::SetTimer {
                token: T_MONITOR,
                after_us: (now / i + 1) * i - now,
            });
        }
    }

    fn try_unfence(&mut self, host: u32, out: &mut Vec<Command>) {
        if self.unfence_pending.contains(&host) && self.evacuate.get(&host) != Some(&Attr::Yes) {
            self.unfence_pending.remove(&host);
            self.evacuate.remove(&host);
            out.push(Command::ForceDown { host, down: false });
            out.push(Command::EnableService { host });
        }
    }
}

impl Policy for InstanceHa {
    fn name(&self) -> &'static str {
        "instance-ha"
    }

    fn on_observation(
        &mut self,
        now_us: u64,
        inv: &dyn Inventory,
        obs: &Observation,
    ) -> Vec<Command> {
        let mut out = Vec::new();
        match obs {
            Observation::Fenced { host, ok: true } => {
                // fence_compute off: force_down + disable, then attrd evacuate=yes.
                out.push(Command::ForceDown {
                    host: *host,
                    down: true,
                });
                out.push(Command::DisableService { host: *host });
                self.evacuate.insert(*host, Attr::Yes);
                self.arm_monitor(now_us, &mut out);
            }
            Observation::Timer { token: T_MONITOR } => {
                self.monitor_armed = false;
                let hosts: Vec<u32> = self
                    .evacuate
                    .iter()
                    .filter(|(_, a)| **a == Attr::Yes)
                    .map(|(h, _)| *h)
                    .collect();
                for host in hosts {
                    let vms = inv.vms_on(host);
                    let filter = self.cfg.instance_filtering && inv.any_evacuable_tagged();
                    for vm in vms.iter().filter(|v| !filter || v.evacuable) {
                        self.issued.insert(vm.id, host);
                        out.push(Command::Evacuate {
                            vm: vm.id,
                            placement: Placement::Any,
                        });
                    }
                    self.evacuate.insert(host, Attr::No);
                    self.try_unfence(host, &mut out);
                }
            }
            Observation::EvacuateResult { vm, ok, reason, .. } => {
                let host = self.issued.remove(vm);
                // Fire-and-forget: only an API rejection (the call itself failing) is noticed.
                if let (Some(host), false, Some("ComputeServiceInUse")) =
                    (host, *ok, reason.as_deref())
                {
                    self.evacuate.insert(host, Attr::Yes);
                    self.arm_monitor(now_us, &mut out);
                }
            }
            Observation::NodeOnline { host } if self.evacuate.contains_key(host) => {
                self.unfence_pending.insert(*host);
                self.try_unfence(*host, &mut out);
            }
            _ => {}
        }
        out
    }
}
