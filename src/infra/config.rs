//! Settings of the mechanisms between truth and controller, keyed by the production option
//! names of each component and defaulting to production defaults (production-ha.md).

use crate::core::time::SimDuration;

/// Nova service group (`nova/conf/service.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct NovaServiceConfig {
    /// `report_interval` = 10 s: nova-compute heartbeat period (service.py:24).
    pub report_interval: SimDuration,
    /// `service_down_time` = 60 s: a service is down once its last heartbeat is older (service.py:40).
    pub service_down_time: SimDuration,
}

impl Default for NovaServiceConfig {
    fn default() -> Self {
        NovaServiceConfig {
            report_interval: SimDuration::from_secs(10),
            service_down_time: SimDuration::from_secs(60),
        }
    }
}

/// What stonith does to a node (`stonith-action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StonithAction {
    /// Power off, then on again (Pacemaker's default).
    Reboot,
    /// Power off; the host stays off until what took it down is over (repaired, reconnected).
    Off,
}

/// Pacemaker cluster (`lib/common/options.c`, puppet-tripleo base/pacemaker.pp).
#[derive(Clone, Debug, PartialEq)]
pub struct PacemakerConfig {
    /// `stonith-enabled` = true.
    pub stonith_enabled: bool,
    /// `stonith-timeout` = 60 s: an attempt against an unreachable BMC fails after this.
    pub stonith_timeout: SimDuration,
    /// `stonith-max-attempts` = 10.
    pub stonith_max_attempts: u32,
    /// `stonith-action` = reboot.
    pub stonith_action: StonithAction,
    /// Remote connection `monitor interval` = 20 s (TripleO): how often a pacemaker_remote node
    /// is checked, so node loss is noticed at the next check.
    pub remote_monitor_interval: SimDuration,
    /// Remote node `reconnect_interval` = 60 s (TripleO): a returned node rejoins at the next try.
    pub reconnect_interval: SimDuration,
}

impl Default for PacemakerConfig {
    fn default() -> Self {
        PacemakerConfig {
            stonith_enabled: true,
            stonith_timeout: SimDuration::from_secs(60),
            stonith_max_attempts: 10,
            stonith_action: StonithAction::Reboot,
            remote_monitor_interval: SimDuration::from_secs(20),
            reconnect_interval: SimDuration::from_secs(60),
        }
    }
}

/// fence_ipmilan (`fence-agents: agents/ipmilan/fence_ipmilan.py`, `lib/fencing.py.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct IpmiConfig {
    /// `power_wait` = 2 s: sleep after `power off` before polling status.
    pub power_wait: SimDuration,
    /// `stonith_status_sleep` = 1 s between status polls; the first poll reads "off".
    pub status_sleep: SimDuration,
}

impl Default for IpmiConfig {
    fn default() -> Self {
        IpmiConfig {
            power_wait: SimDuration::from_secs(2),
            status_sleep: SimDuration::from_secs(1),
        }
    }
}

/// masakari-monitors' IPMI power check (`masakarimonitors/conf/host.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct PowerCheckConfig {
    /// Answer time of a responsive BMC: "~1 s (ipmitool: Power is off)", production-ha.md §2.6.
    pub answer_time: SimDuration,
    /// `ipmi_timeout` = 5 s per attempt.
    pub ipmi_timeout: SimDuration,
    /// `ipmi_retry_max` = 3 retries.
    pub ipmi_retry_max: u32,
    /// `ipmi_retry_interval` = 10 s between attempts.
    pub ipmi_retry_interval: SimDuration,
}

impl Default for PowerCheckConfig {
    fn default() -> Self {
        PowerCheckConfig {
            answer_time: SimDuration::from_secs(1),
            ipmi_timeout: SimDuration::from_secs(5),
            ipmi_retry_max: 3,
            ipmi_retry_interval: SimDuration::from_secs(10),
        }
    }
}

impl PowerCheckConfig {
    /// How long an unreachable BMC takes to be given up on: (retries + 1) timeouts plus the
    /// waits between them, ≈ 50 s with the defaults.
    pub fn give_up_after(&self) -> SimDuration {
        SimDuration(
            self.ipmi_timeout.as_us() * u64::from(self.ipmi_retry_max + 1)
                + self.ipmi_retry_interval.as_us() * u64::from(self.ipmi_retry_max),
        )
    }
}

/// Oracle PCA compute HA (docs.oracle.com PCA admin-instance-availability).
#[derive(Clone, Debug, PartialEq)]
pub struct PcaInfraConfig {
    /// A node disconnected or powered off for "about 5 minutes" is failed.
    pub fail_threshold: SimDuration,
    /// Crashed instances: "the hypervisor attempts to restart them up to 5 times".
    pub hypervisor_restart_attempts: u32,
}

impl Default for PcaInfraConfig {
    fn default() -> Self {
        PcaInfraConfig {
            fail_threshold: SimDuration::from_secs(300),
            hypervisor_restart_attempts: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct InfraConfig {
    /// `[libvirt]` live-migration options.
    pub libvirt: super::migration::LibvirtConfig,
    /// `[nova] max_concurrent_live_migrations` = 1 outgoing per host (nova/conf/compute.py:704).
    pub max_concurrent_live_migrations: u32,
    /// `[nova] resume_guests_state_on_host_boot` = False (nova/conf/compute.py:639,
    /// production-ha.md §1.2): after an unplanned host reboot with no evacuation, guests that
    /// were running stay SHUTOFF until someone starts them (the OpenStack Operations Guide,
    /// "After a Compute Node Reboots": none of the node's instances are running). True resumes
    /// them with the host. Oracle PCA restarts them itself whatever this says (§6.1).
    pub resume_guests_state_on_host_boot: bool,
    /// `[qemu] switchover_time`: device state and announce after the final copy. The reference
    /// only says "tens of ms" (production-ha.md §7.4), so the default is 0 (blackout = final
    /// copy) and scenarios that want it set it explicitly.
    pub switchover: SimDuration,
    pub nova: NovaServiceConfig,
    pub pacemaker: PacemakerConfig,
    pub ipmi: IpmiConfig,
    pub power_check: PowerCheckConfig,
    pub pca: PcaInfraConfig,
    /// `[gce] host_error_detection`: from a host's failure to GCE's control plane declaring a
    /// host error. GCE publishes no figure (production-ha.md §4), so it is a what-if input that
    /// the `gce` policy requires; zero until set.
    pub gce_host_error_detection: SimDuration,
    /// `[operator]`: the manual runbook, if the scenario has an operator (what-if inputs).
    pub operator: Option<super::operator::OperatorConfig>,
}

impl Default for InfraConfig {
    fn default() -> Self {
        InfraConfig {
            libvirt: Default::default(),
            max_concurrent_live_migrations: 1,
            resume_guests_state_on_host_boot: false,
            switchover: SimDuration::ZERO,
            nova: Default::default(),
            pacemaker: Default::default(),
            ipmi: Default::default(),
            power_check: Default::default(),
            pca: Default::default(),
            gce_host_error_detection: SimDuration::ZERO,
            operator: None,
        }
    }
}
