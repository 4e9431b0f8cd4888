//! Masakari's instance-failure flow (masakari/engine/drivers/taskflow/instance_failure.py,
//! 22.0.0): `StopInstanceTask`, `StartInstanceTask`, `ConfirmInstanceActiveTask`, each waiting
//! by polling Nova.
//!
//! - Stop: a server that is not HA_Enabled is skipped (`process_all_instances` = False, the
//!   notification FINISHED). Unless it already reads `stopped`, `stop_server`; a server in a
//!   move (`task_state` set) answers 409 and, still not stopped, fails the flow. Then
//!   `_wait_for_power_off` every `verify_interval` (1 s) until `stopped`, at most
//!   `wait_period_after_power_off` (180 s).
//! - Start: `start_server` if it reads `stopped`, else the flow fails.
//! - Confirm: `_wait_for_active` every `verify_interval` until `active`, at most
//!   `wait_period_after_power_on` (60 s).
//!
//! Both waits are oslo.service's `FixedIntervalWithTimeoutLoopingCall`
//! (oslo_service/backend/_common/loopingcall.py): the first poll runs at once, one every
//! interval after it, and the wait times out after the first poll that finds more than the
//! timeout elapsed (so polls at 0, 1, …, 61 s for 60 s). A failed flow leaves the notification
//! in ERROR; the periodic task re-runs it once after `process_unfinished_notifications_interval`
//! and marks it FAILED if that fails too. The flow holds its host's lock from the first task to
//! the last.

use super::{Masakari, T_INSTANCE_POLL, T_INSTANCE_RETRY};
use crate::policy::api::{Command, Inventory, VmStatus};

/// What a running instance flow waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// `_wait_for_power_off`.
    Stopped,
    /// `_wait_for_active`.
    Active,
}

/// One server's running instance-failure flow.
#[derive(Clone, Copy, Debug)]
pub(super) struct InstanceFlow {
    /// The notification's source host, whose lock the flow holds.
    host: u32,
    wait: Wait,
    /// When the current wait began (its looping call's `start_time`).
    since_us: u64,
    /// Whether this run is the periodic re-run of a notification in ERROR.
    rerun: bool,
}

impl Masakari {
    /// Runs the flow of server `vm`'s notification from `host`, which holds `host`'s lock.
    pub(super) fn start_instance_flow(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        vm: u32,
        rerun: bool,
        out: &mut Vec<Command>,
    ) {
        // A second notification of a server whose flow runs from another host: Masakari would
        // run both; hasim keeps one flow per server and drops the later one.
        if self.instance_flows.contains_key(&vm) {
            return self.release(now, inv, host, out);
        }
        let view = inv.vm(vm);
        if !view.ha_enabled {
            // SkipInstanceRecoveryException: FINISHED.
            return self.release(now, inv, host, out);
        }
        let wait = match view.status {
            VmStatus::Stopped => {
                // _wait_for_power_off's first poll sees `stopped`: straight to the start.
                out.push(Command::StartServer { vm });
                Wait::Active
            }
            // stop_server in a move: 409 Conflict, and the server is not stopped.
            VmStatus::Rebuilding => {
                return self.instance_flow_failed(now, inv, host, vm, rerun, out)
            }
            VmStatus::Active | VmStatus::Error => {
                out.push(Command::StopServer { vm });
                Wait::Stopped
            }
        };
        self.instance_flows.insert(
            vm,
            InstanceFlow {
                host,
                wait,
                since_us: now,
                rerun,
            },
        );
        // The looping call's first poll runs at once, after the command has taken effect.
        poll_after(vm, 0, out);
    }

    /// One `verify_interval` poll of server `vm`'s flow.
    pub(super) fn poll_instance(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        vm: u32,
        out: &mut Vec<Command>,
    ) {
        let Some(&flow) = self.instance_flows.get(&vm) else {
            return;
        };
        let status = inv.vm(vm).status;
        let elapsed = now - flow.since_us;
        match flow.wait {
            Wait::Stopped if status == VmStatus::Stopped => {
                // StartInstanceTask, then ConfirmInstanceActiveTask's first poll at once.
                out.push(Command::StartServer { vm });
                let f = self.instance_flows.get_mut(&vm).expect("flow");
                f.wait = Wait::Active;
                f.since_us = now;
                return poll_after(vm, 0, out);
            }
            Wait::Active if status == VmStatus::Active => {
                // FINISHED.
                self.instance_flows.remove(&vm);
                return self.release(now, inv, flow.host, out);
            }
            _ => {}
        }
        let timeout = match flow.wait {
            Wait::Stopped => self.cfg.wait_period_after_power_off_us,
            Wait::Active => self.cfg.wait_period_after_power_on_us,
        };
        if elapsed > timeout {
            // LoopingCallTimeOut → InstanceRecoveryFailureException: ERROR.
            self.instance_flows.remove(&vm);
            return self.instance_flow_failed(now, inv, flow.host, vm, flow.rerun, out);
        }
        poll_after(vm, self.cfg.verify_interval_us.max(1), out);
    }

    /// The flow ended in ERROR: the periodic task re-runs it once, then it is FAILED.
    fn instance_flow_failed(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        vm: u32,
        rerun: bool,
        out: &mut Vec<Command>,
    ) {
        if !rerun {
            out.push(Command::SetTimer {
                token: T_INSTANCE_RETRY | u64::from(vm),
                after_us: self.cfg.process_unfinished_notifications_interval_us,
            });
        }
        self.release(now, inv, host, out);
    }
}

/// Server `vm`'s next poll, `after_us` from now.
fn poll_after(vm: u32, after_us: u64, out: &mut Vec<Command>) {
    out.push(Command::SetTimer {
        token: T_INSTANCE_POLL | u64::from(vm),
        after_us,
    });
}
