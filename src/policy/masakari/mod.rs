//! OpenStack Masakari: masakari-monitors' host monitor plus the Masakari engine's host-failure
//! flow, as production-ha.md §2 describes them (masakari @ ae98f25, masakari-monitors @ 249cf19).
//!
//! Host monitor: polls Pacemaker's node states every `monitoring_interval` (60 s); on an
//! online→offline change it checks IPMI power status and notifies only on "Power is off"
//! (host_status NORMAL); any other answer is UNKNOWN and the engine ignores it, to avoid split
//! brain. Engine: the host goes `on_maintenance`, nova-compute is disabled, then a fixed
//! `wait_period_after_service_update` (180 s) sleep; servers are evacuated HA_Enabled first,
//! `host_failure_recovery_threads` (3) at a time, each confirmed within
//! `wait_period_after_evacuation` (90 s). Any failure puts the notification in ERROR; it is
//! re-run after `process_unfinished_notifications_interval` (120 s) and becomes FAILED if the
//! re-run fails too. The host stays `on_maintenance` until an operator clears it. A crashed
//! HA_Enabled guest is stopped and started again on its host (instance-failure flow,
//! [`instance_flow`]).
//!
//! The engine processes the notifications of one host one at a time: `_process_notification`
//! is `@utils.synchronized(notification.source_host_uuid, blocking=True)`
//! (masakari/engine/manager.py:273-274), so a notification whose host is busy waits, in
//! arrival order, until the flow before it ends (`Masakari::locks`).

mod instance_flow;

use super::api::{Command, Inventory, Observation, Placement, Policy, PowerState, VmView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Masakari's recovery methods (`masakari/objects/fields.py:46`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryMethod {
    /// Evacuate with `target=None`: the Nova scheduler chooses.
    Auto,
    /// Try each reserved host in turn for all instances.
    ReservedHost,
    /// Auto, then reserved_host on any failure.
    AutoPriority,
    /// Reserved_host, then auto on any failure.
    RhPriority,
}

impl RecoveryMethod {
    pub const NAMES: &'static [&'static str] =
        &["auto", "reserved_host", "auto_priority", "rh_priority"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "reserved_host" => Some(Self::ReservedHost),
            "auto_priority" => Some(Self::AutoPriority),
            "rh_priority" => Some(Self::RhPriority),
            _ => None,
        }
    }

    /// The flows tried in order (auto = false, reserved = true).
    fn attempts(self) -> &'static [bool] {
        match self {
            Self::Auto => &[false],
            Self::ReservedHost => &[true],
            Self::AutoPriority => &[false, true],
            Self::RhPriority => &[true, false],
        }
    }
}

/// Options, named as in masakari.conf / masakarimonitors.conf, with their production defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MasakariConfig {
    /// masakari-monitors `[host] monitoring_interval` = 60 s.
    pub monitoring_interval_us: u64,
    /// masakari-monitors `[host] disable_ipmi_check` = False.
    pub disable_ipmi_check: bool,
    /// masakari-monitors `[host] restrict_to_remotes` = False: read only pacemaker_remote
    /// nodes, from `crm_mon -X`. In 22.0.0 that path never parses the CIB, and the IPMI check
    /// (`_is_poweroff`) looks the node's IPMI parameters up in it: a TypeError on every poll,
    /// caught by `monitor_hosts`, so with the IPMI check on the monitor never notifies
    /// (masakarimonitors/hostmonitor/host_handler/handle_host.py; reproduced with the real
    /// hostmonitor against simulated `crm_mon -X` output, tests/integration/controllers.rs).
    #[serde(default)]
    pub restrict_to_remotes: bool,
    /// masakari/conf/engine.py:71 `wait_period_after_service_update` = 180 s.
    pub wait_period_after_service_update_us: u64,
    /// engine.py:75 `wait_period_after_evacuation` = 90 s.
    pub wait_period_after_evacuation_us: u64,
    /// engine.py:107 `host_failure_recovery_threads` = 3.
    pub host_failure_recovery_threads: u32,
    /// engine.py:87 `process_unfinished_notifications_interval` = 120 s.
    pub process_unfinished_notifications_interval_us: u64,
    /// Failover segment `recovery_method` (auto).
    pub recovery_method: RecoveryMethod,
    /// `[host_failure] evacuate_all_instances` = True.
    pub evacuate_all_instances: bool,
    /// Not a Masakari option: models an operator who clears `on_maintenance` (and re-enables
    /// nova-compute) as soon as the host is back online. Production default: false.
    pub clear_maintenance_on_host_return: bool,
    /// engine.py:78 `verify_interval` = 1 s: the instance flow's polling interval.
    pub verify_interval_us: u64,
    /// engine.py:81 `wait_period_after_power_off` = 180 s: the instance flow's wait for
    /// `stopped` after `stop_server`.
    pub wait_period_after_power_off_us: u64,
    /// engine.py:84 `wait_period_after_power_on` = 60 s: the instance flow's wait for `active`
    /// after `start_server`.
    pub wait_period_after_power_on_us: u64,
}

impl Default for MasakariConfig {
    fn default() -> Self {
        MasakariConfig {
            monitoring_interval_us: 60_000_000,
            disable_ipmi_check: false,
            restrict_to_remotes: false,
            wait_period_after_service_update_us: 180_000_000,
            wait_period_after_evacuation_us: 90_000_000,
            host_failure_recovery_threads: 3,
            process_unfinished_notifications_interval_us: 120_000_000,
            recovery_method: RecoveryMethod::Auto,
            evacuate_all_instances: true,
            clear_maintenance_on_host_return: false,
            verify_interval_us: 1_000_000,
            wait_period_after_power_off_us: 180_000_000,
            wait_period_after_power_on_us: 60_000_000,
        }
    }
}

/// Timer tokens: kind in the top byte, the host or server id below.
const T_POLL: u64 = 1 << 56;
const T_WAIT: u64 = 2 << 56;
const T_CONFIRM: u64 = 3 << 56;
const T_RETRY: u64 = 4 << 56;
/// The instance flow's next `verify_interval` poll of one server.
const T_INSTANCE_POLL: u64 = 5 << 56;
/// The periodic re-run of one server's instance notification in ERROR.
const T_INSTANCE_RETRY: u64 = 6 << 56;
const ID_MASK: u64 = (1 << 56) - 1;
/// Evacuation sequence numbers live in bits 32..56 of a confirmation token.
const SEQ_MASK: u64 = (1 << 24) - 1;

/// One host-failure notification being processed.
#[derive(Clone, Debug)]
struct Recovery {
    /// Index into `recovery_method.attempts()`.
    attempt: usize,
    /// Reserved hosts already tried in this attempt.
    reserved_tried: BTreeSet<u32>,
    reserved_target: Option<u32>,
    queue: VecDeque<u32>,
    in_flight: BTreeSet<u32>,
    failed: bool,
    /// Whether this run is the periodic re-run of an ERROR notification.
    rerun: bool,
}

/// A notification waiting for (or holding) its source host's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    /// A host-failure notification; `rerun` for the periodic re-run of one in ERROR.
    Host { rerun: bool },
    /// An instance-failure notification of server `vm`.
    Instance { vm: u32, rerun: bool },
}

#[derive(Clone, Debug, Default)]
pub struct Masakari {
    cfg: MasakariConfig,
    /// Hosts the monitor last saw offline.
    seen_offline: BTreeSet<u32>,
    /// Offline changes that the next poll will read.
    pending_offline: BTreeSet<u32>,
    poll_armed: bool,
    on_maintenance: BTreeSet<u32>,
    recoveries: BTreeMap<u32, Recovery>,
    /// Server → (host whose recovery is evacuating it, evacuation sequence number).
    evacuating: BTreeMap<u32, (u32, u64)>,
    /// Numbers evacuations so a late confirmation timer cannot fail a later evacuation.
    evacuation_seq: u64,
    /// `@utils.synchronized(source_host_uuid, blocking=True)`: the hosts whose lock a flow
    /// holds, each with the notifications waiting for it in arrival order (lockutils' internal
    /// lock wakes its waiters in order).
    locks: BTreeMap<u32, VecDeque<Work>>,
    /// Instance-failure flows running, by server.
    instance_flows: BTreeMap<u32, instance_flow::InstanceFlow>,
}

impl Masakari {
    pub fn new(cfg: MasakariConfig) -> Self {
        Masakari {
            cfg,
            ..Default::default()
        }
    }

    /// The next poll instant after `now` (polls at whole multiples of the interval).
    fn next_poll(&self, now: u64) -> u64 {
        let i = self.cfg.monitoring_interval_us.max(1);
        (now / i + 1) * i - now
    }

    fn notify(&mut self, now: u64, inv: &dyn Inventory, host: u32, out: &mut Vec<Command>) {
        // 409 HostOnMaintenanceError: a host already on maintenance is refused; so is a second
        // notification while one is waiting (the API's duplicate check).
        let waiting = self
            .locks
            .get(&host)
            .is_some_and(|waiting| waiting.contains(&Work::Host { rerun: false }));
        if self.on_maintenance.contains(&host) || waiting {
            return;
        }
        self.submit(now, inv, host, Work::Host { rerun: false }, out);
    }

    /// Runs `work` now if its host's lock is free, else queues it behind the flows before it.
    fn submit(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        work: Work,
        out: &mut Vec<Command>,
    ) {
        if let Some(waiting) = self.locks.get_mut(&host) {
            waiting.push_back(work);
            return;
        }
        self.locks.insert(host, VecDeque::new());
        self.run(now, inv, host, work, out);
    }

    /// A flow of `host` ended: the next waiting notification takes the lock, or it is freed.
    fn release(&mut self, now: u64, inv: &dyn Inventory, host: u32, out: &mut Vec<Command>) {
        let next = self
            .locks
            .get_mut(&host)
            .and_then(|waiting| waiting.pop_front());
        match next {
            Some(work) => self.run(now, inv, host, work, out),
            None => {
                self.locks.remove(&host);
            }
        }
    }

    fn run(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        work: Work,
        out: &mut Vec<Command>,
    ) {
        match work {
            Work::Host { rerun } => {
                // The periodic re-run finds nothing to do once an operator cleared the host.
                if rerun && !self.on_maintenance.contains(&host) {
                    return self.release(now, inv, host, out);
                }
                // _handle_notification_type_host: the host goes on_maintenance, then the flow.
                self.on_maintenance.insert(host);
                self.start_flow(host, 0, rerun, out);
            }
            Work::Instance { vm, rerun } => {
                self.start_instance_flow(now, inv, host, vm, rerun, out)
            }
        }
    }

    /// The host-failure flow of `host` ended (FINISHED, ERROR or skipped): frees its lock.
    fn end_host_flow(&mut self, now: u64, inv: &dyn Inventory, host: u32, out: &mut Vec<Command>) {
        self.recoveries.remove(&host);
        self.release(now, inv, host, out);
    }

    fn start_flow(&mut self, host: u32, attempt: usize, rerun: bool, out: &mut Vec<Command>) {
        self.recoveries.insert(
            host,
            Recovery {
                attempt,
                reserved_tried: BTreeSet::new(),
                reserved_target: None,
                queue: VecDeque::new(),
                in_flight: BTreeSet::new(),
                failed: false,
                rerun,
            },
        );
        // DisableComputeServiceTask, then the fixed sleep "until nova recognizes the node down".
        out.push(Command::DisableService { host });
        out.push(Command::SetTimer {
            token: T_WAIT | u64::from(host),
            after_us: self.cfg.wait_period_after_service_update_us,
        });
    }

    /// The order EvacuateInstancesTask evacuates in. PrepareHAEnabledInstancesTask lists the
    /// HA_Enabled servers first, then (`evacuate_all_instances`) the rest, in Nova's list order
    /// (newest first: id descending), and writes one VMove each in that order
    /// (host_failure.py:98-141); EvacuateInstancesTask reads them back with the database's
    /// default sort, `created_at desc, id desc` (db/sqlalchemy/api.py:104-106, 632-640): the
    /// list reversed. So the servers without HA_Enabled go first, in id order, then the
    /// HA_Enabled ones in id order (upstream 22.0.0 does exactly this:
    /// tests/python/test_masakari_upstream.py).
    fn instances(&self, inv: &dyn Inventory, host: u32) -> VecDeque<u32> {
        let vms: Vec<VmView> = inv.vms_on(host);
        let mut list = VecDeque::new();
        if self.cfg.evacuate_all_instances {
            list.extend(vms.iter().filter(|v| !v.ha_enabled).map(|v| v.id));
        }
        list.extend(vms.iter().filter(|v| v.ha_enabled).map(|v| v.id));
        list
    }

    fn begin_evacuations(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        out: &mut Vec<Command>,
    ) {
        let queue = self.instances(inv, host);
        let reserved = self.cfg.recovery_method.attempts()[self.recoveries[&host].attempt];
        if queue.is_empty() {
            // SkipHostRecoveryException: nothing to do, the notification is FINISHED.
            self.end_host_flow(now, inv, host, out);
            return;
        }
        let target = if reserved {
            let tried = &self.recoveries[&host].reserved_tried;
            let pick = inv.hosts().into_iter().find(|h| {
                h.reserved
                    && h.id != host
                    && !self.on_maintenance.contains(&h.id)
                    && !tried.contains(&h.id)
            });
            match pick {
                Some(h) => {
                    out.push(Command::EnableService { host: h.id });
                    Some(h.id)
                }
                None => {
                    // ReservedHostsUnavailable: this attempt fails outright.
                    self.finish_attempt(now, inv, host, true, out);
                    return;
                }
            }
        } else {
            None
        };
        let r = self.recoveries.get_mut(&host).expect("recovery");
        r.queue = queue;
        r.reserved_target = target;
        if let Some(t) = target {
            r.reserved_tried.insert(t);
        }
        self.fill(host, out);
    }

    /// Keeps up to `host_failure_recovery_threads` evacuations in flight.
    fn fill(&mut self, host: u32, out: &mut Vec<Command>) {
        let threads = self.cfg.host_failure_recovery_threads.max(1) as usize;
        let confirm = self.cfg.wait_period_after_evacuation_us;
        let r = self.recoveries.get_mut(&host).expect("recovery");
        while r.in_flight.len() < threads {
            let Some(vm) = r.queue.pop_front() else { break };
            r.in_flight.insert(vm);
            self.evacuation_seq = (self.evacuation_seq + 1) & SEQ_MASK;
            self.evacuating.insert(vm, (host, self.evacuation_seq));
            let placement = match r.reserved_target {
                Some(t) => Placement::Host { host: t },
                None => Placement::Any,
            };
            out.push(Command::Evacuate { vm, placement });
            out.push(Command::SetTimer {
                token: T_CONFIRM | (self.evacuation_seq << 32) | u64::from(vm),
                after_us: confirm,
            });
        }
    }

    /// One server's evacuation ended (confirmed, failed, or timed out). `seq` is given for a
    /// timeout, which only counts if it belongs to the evacuation still in flight.
    fn evacuation_done(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        vm: u32,
        ok: bool,
        seq: Option<u64>,
        out: &mut Vec<Command>,
    ) {
        match (self.evacuating.get(&vm), seq) {
            (None, _) => return,
            (Some(&(_, current)), Some(s)) if current != s => return,
            _ => {}
        }
        let Some((host, _)) = self.evacuating.remove(&vm) else {
            return;
        };
        let Some(r) = self.recoveries.get_mut(&host) else {
            return;
        };
        if !r.in_flight.remove(&vm) {
            return;
        }
        if !ok {
            r.failed = true;
        }
        self.fill(host, out);
        let r = &self.recoveries[&host];
        if r.in_flight.is_empty() && r.queue.is_empty() {
            let failed = r.failed;
            self.finish_attempt(now, inv, host, failed, out);
        }
    }

    fn finish_attempt(
        &mut self,
        now: u64,
        inv: &dyn Inventory,
        host: u32,
        failed: bool,
        out: &mut Vec<Command>,
    ) {
        if !failed {
            self.end_host_flow(now, inv, host, out);
            return;
        }
        let r = self.recoveries.get_mut(&host).expect("recovery");
        let reserved = self.cfg.recovery_method.attempts()[r.attempt];
        // reserved_host: the retry-for-each moves on to the next reserved host.
        if reserved && r.reserved_target.is_some() {
            r.failed = false;
            self.begin_evacuations(now, inv, host, out);
            return;
        }
        if r.attempt + 1 < self.cfg.recovery_method.attempts().len() {
            r.attempt += 1;
            r.failed = false;
            r.reserved_tried.clear();
            r.reserved_target = None;
            self.begin_evacuations(now, inv, host, out);
            return;
        }
        // The notification is in ERROR: re-run once by the periodic task, then FAILED.
        if !r.rerun {
            out.push(Command::SetTimer {
                token: T_RETRY | u64::from(host),
                after_us: self.cfg.process_unfinished_notifications_interval_us,
            });
        }
        self.end_host_flow(now, inv, host, out);
    }
}

impl Policy for Masakari {
    fn name(&self) -> &'static str {
        "masakari"
    }

    fn on_observation(
        &mut self,
        now_us: u64,
        inv: &dyn Inventory,
        obs: &Observation,
    ) -> Vec<Command> {
        let mut out = Vec::new();
        match obs {
            Observation::NodeOffline { host } => {
                // The monitor reads node states only at its polls.
                self.pending_offline.insert(*host);
                if !self.poll_armed {
                    self.poll_armed = true;
                    out.push(Command::SetTimer {
                        token: T_POLL,
                        after_us: self.next_poll(now_us),
                    });
                }
            }
            Observation::NodeOnline { host } => {
                self.pending_offline.remove(host);
                self.seen_offline.remove(host);
                if self.cfg.clear_maintenance_on_host_return
                    && self.on_maintenance.remove(host)
                    && !self.recoveries.contains_key(host)
                {
                    out.push(Command::EnableService { host: *host });
                }
            }
            Observation::MaintenanceCleared { host } => {
                if self.on_maintenance.remove(host) && !self.recoveries.contains_key(host) {
                    out.push(Command::EnableService { host: *host });
                }
            }
            Observation::Timer { token } => match token & !ID_MASK {
                T_POLL => {
                    self.poll_armed = false;
                    for host in std::mem::take(&mut self.pending_offline) {
                        if !inv.host(host).node_online && self.seen_offline.insert(host) {
                            if self.cfg.restrict_to_remotes && !self.cfg.disable_ipmi_check {
                                // The poll dies in _is_poweroff: nothing is sent.
                            } else if self.cfg.disable_ipmi_check {
                                self.notify(now_us, inv, host, &mut out);
                            } else {
                                out.push(Command::CheckPower { host });
                            }
                        }
                    }
                }
                T_WAIT => {
                    let host = (token & ID_MASK) as u32;
                    if self.recoveries.contains_key(&host) {
                        self.begin_evacuations(now_us, inv, host, &mut out);
                    }
                }
                T_CONFIRM => {
                    // Still unconfirmed after wait_period_after_evacuation: the VMove FAILED.
                    let vm = (token & 0xFFFF_FFFF) as u32;
                    self.evacuation_done(
                        now_us,
                        inv,
                        vm,
                        false,
                        Some((token & ID_MASK) >> 32),
                        &mut out,
                    );
                }
                T_RETRY => {
                    let host = (token & ID_MASK) as u32;
                    if self.on_maintenance.contains(&host) {
                        self.submit(now_us, inv, host, Work::Host { rerun: true }, &mut out);
                    }
                }
                T_INSTANCE_POLL => {
                    self.poll_instance(now_us, inv, (token & ID_MASK) as u32, &mut out)
                }
                T_INSTANCE_RETRY => {
                    let vm = (token & ID_MASK) as u32;
                    let host = inv.vm(vm).host;
                    self.submit(
                        now_us,
                        inv,
                        host,
                        Work::Instance { vm, rerun: true },
                        &mut out,
                    );
                }
                _ => {}
            },
            Observation::PowerStatus { host, state } => {
                // "Power is off" → NORMAL → notify; anything else → UNKNOWN → ignored.
                if *state == PowerState::Off {
                    self.notify(now_us, inv, *host, &mut out);
                }
            }
            Observation::EvacuateResult { vm, ok, .. } => {
                self.evacuation_done(now_us, inv, *vm, *ok, None, &mut out)
            }
            // Instance-failure flow (§2.4): stop, start, confirm ACTIVE — on the same host, and
            // only for HA_Enabled servers (`process_all_instances` = False). The instance
            // monitor on the server's host sends it: that host is the notification's source.
            Observation::InstanceFailed { vm } => {
                let host = inv.vm(*vm).host;
                let work = Work::Instance {
                    vm: *vm,
                    rerun: false,
                };
                self.submit(now_us, inv, host, work, &mut out);
            }
            Observation::Fenced { .. }
            | Observation::NodeFailed { .. }
            | Observation::MigrateResult { .. } => {}
        }
        out
    }
}
