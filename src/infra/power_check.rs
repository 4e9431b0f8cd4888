//! masakari-monitors' IPMI power check (`ipmitool power status`): a responsive BMC answers in
//! about a second; an unreachable one is given up on after the retries (≈ 50 s), as UNKNOWN.

use super::config::PowerCheckConfig;
use crate::core::sched::Scheduler;
use crate::policy::api::PowerState;
use crate::world::ids::HostId;
use crate::world::truth::HostTruth;

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The answer to a power check.
    Reply { host: HostId },
}

pub fn start(
    h: HostId,
    bmc_reachable: bool,
    cfg: &PowerCheckConfig,
    s: &mut impl Scheduler<Event>,
) {
    let after = if bmc_reachable {
        cfg.answer_time
    } else {
        cfg.give_up_after()
    };
    s.after(after, Event::Reply { host: h });
}

/// What the BMC reads when the answer comes.
pub fn reading(t: &HostTruth) -> PowerState {
    if !t.bmc_reachable() {
        PowerState::Unknown
    } else if t.fenced() {
        PowerState::Off
    } else {
        PowerState::On
    }
}
