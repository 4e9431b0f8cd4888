//! The contract between a controller and the cloud it controls: what it observes, what it can
//! read from the inventory, and the commands it can issue.
//!
//! A policy sees only this: never the simulator's ground truth. The simulator is one adapter that
//! produces `Observation`s and executes `Command`s; `hasim policy` (JSON lines) will be the
//! production one. Ids are plain integers here so that this module depends on nothing else in
//! the crate.

/// A compute host as the inventory API shows it (os-services / os-hypervisors).
#[derive(Clone, Debug, PartialEq)]
pub struct HostView {
    pub id: u32,
    pub name: String,
    pub fault_domain: u32,
    /// nova-compute reported as up (heartbeat younger than `service_down_time`).
    pub service_up: bool,
    /// Service administratively disabled.
    pub disabled: bool,
}

/// A server as the inventory API shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct VmView {
    pub id: u32,
    pub host: u32,
    pub ha_enabled: bool,
    pub tags: Vec<String>,
}

/// The inventory a controller can read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterView {
    pub hosts: Vec<HostView>,
    pub vms: Vec<VmView>,
}

/// Something a controller is told or notices.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// The nova-compute service of a host is reported down by the service group.
    HostServiceDown { host: u32 },
    /// The service reports up again.
    HostServiceUp { host: u32 },
    /// A timer the policy asked for fired.
    Timer { token: u64 },
}

/// What a controller may ask the cloud to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    DisableService {
        host: u32,
    },
    EnableService {
        host: u32,
    },
    /// Power-fence a host through its BMC.
    Fence {
        host: u32,
    },
    /// Rebuild a VM on another host (Nova evacuate); `target` None lets the scheduler choose.
    Evacuate {
        vm: u32,
        target: Option<u32>,
    },
    /// Ask for an `Observation::Timer` after `after_us` microseconds.
    SetTimer {
        token: u64,
        after_us: u64,
    },
}

/// An HA controller: a plain state machine driven by observations.
pub trait Policy: Send {
    /// The registered name (`none`, …).
    fn name(&self) -> &'static str;

    /// Reacts to one observation at `now_us` with zero or more commands.
    fn on_observation(
        &mut self,
        now_us: u64,
        view: &ClusterView,
        obs: &Observation,
    ) -> Vec<Command>;
}
