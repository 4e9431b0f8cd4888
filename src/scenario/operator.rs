//! `[operator]`: the human operator's runbook (`infra::operator`). Every key is a what-if
//! input with no source, so the two that define the operator are required and the others
//! default to "not done" (no relaunch, no re-attach step, no `on_maintenance` clean-up).

use super::read::{Diagnostics, TableReader};
use crate::core::time::SimDuration;
use crate::infra::operator::OperatorConfig;

/// Reads `[operator]`; `None` if a key is missing or invalid (each problem is reported).
pub fn read_operator(mut t: TableReader<'_>, d: &mut Diagnostics) -> Option<OperatorConfig> {
    let detection = t.duration("detection_delay", true, d);
    let action = t.duration("instance_action_time", true, d);
    let mut ok = true;
    let mut opt = |t: &mut TableReader<'_>, key: &'static str, d: &mut Diagnostics| {
        let present = t.has(key);
        let v = t.opt_duration(key, true, d);
        ok &= v.is_some() || !present;
        v
    };
    let relaunch_after = opt(&mut t, "relaunch_after", d);
    let reattach = opt(&mut t, "volume_reattach_time", d);
    let clear = opt(&mut t, "clear_maintenance_after", d);
    t.finish(d);
    if !ok {
        return None;
    }
    Some(OperatorConfig {
        detection_delay: detection?,
        instance_action_time: action?,
        relaunch_after,
        volume_reattach_time: reattach.unwrap_or(SimDuration::ZERO),
        clear_maintenance_after: clear,
    })
}
