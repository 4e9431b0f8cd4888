//! Planned maintenance inside the event loop: campaigns choose hosts, hosts drain (live
//! migration over their NIC, or notice-and-terminate), the work takes the host down, the host
//! comes back. Live migrations run the `infra::migration` model, one event per round, re-planned
//! whenever the bandwidth of their source NIC is re-shared.
//!
//! Campaign decisions, stated once: a host is taken only while it is up, reachable, enabled and
//! leaves at least `min_available_hosts` others available; a live migration that aborts is
//! retried `migration_retries` times and then cold-migrated (stop, start elsewhere), or the
//! host is skipped for this cycle (`on_migration_abort = "skip-host"`); a host that fails while
//! draining goes back to the end of the campaign's queue; a VM that cannot be placed anywhere
//! makes its host skipped.

use super::{Event, Simulation};
use crate::core::time::{SimDuration, SimTime};
use crate::faults::maintenance::OnAbort;
use crate::infra::migration::{
    gbps_to_bytes_per_s, nova_data_gb, DowntimePolicy, Migration, MigrationParams, Outcome,
};
use crate::policy::api::Placement;
use crate::world::ids::{HostId, VmId};
use crate::world::vms::Storage;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintPhase {
    Draining,
    Working,
}

/// One campaign's current cycle: a queue per fault domain, visited round-robin so the work
/// spreads across domains and the per-domain limit never makes the scheduler wade through a
/// blocked domain's queue.
#[derive(Clone, Debug, Default)]
pub struct CampaignRt {
    running: bool,
    queues: Vec<VecDeque<HostId>>,
    next_fd: usize,
    active: Vec<HostId>,
    active_per_fd: Vec<u32>,
    done: usize,
    started_at: SimTime,
}

/// A live migration in flight.
#[derive(Clone, Debug)]
pub struct LiveMigration {
    vm: VmId,
    source: HostId,
    target: HostId,
    source_gen: u32,
    target_gen: u32,
    started_at: SimTime,
    mig: Migration,
    rate: u64,
    version: u32,
    /// Pre-copy ended (blackout running).
    switching: bool,
}

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl LiveMigration {
    pub(super) fn target(&self) -> HostId {
        self.target
    }

    pub(super) fn vm(&self) -> VmId {
        self.vm
    }
}

impl Simulation<'_> {
    pub(super) fn campaign_start(&mut self, c: usize) {
        let cfg = &self.model.maintenance[c];
        if let Some(every) = cfg.every {
            self.schedule(every, Event::CampaignStart { campaign: c as u32 });
        }
        if self.campaigns[c].running {
            // The previous cycle is still going: it simply continues.
            return;
        }
        let n_fd = self.model.topology.fault_domains.len();
        let mut queues = vec![VecDeque::new(); n_fd];
        for h in &cfg.hosts {
            queues[self.model.topology.host(*h).fault_domain.index()].push_back(*h);
        }
        self.campaigns[c] = CampaignRt {
            running: true,
            queues,
            next_fd: 0,
            active: Vec::new(),
            active_per_fd: vec![0; n_fd],
            done: 0,
            started_at: self.now,
        };
        self.try_start_hosts(c);
    }

    /// Hosts up, reachable, enabled and out of maintenance (kept incrementally; the invariant
    /// check recounts it).
    fn available_hosts(&self) -> u32 {
        self.available
    }

    /// Starts as many queued hosts as the campaign's limits allow.
    fn try_start_hosts(&mut self, c: usize) {
        let cfg = &self.model.maintenance[c];
        let n_fd = self.campaigns[c].queues.len();
        // The floor is fleet-wide: counted once (only if a host could start at all), and every
        // start takes one host away.
        let mut available: Option<u32> = None;
        while self.campaigns[c].running
            && self.campaigns[c].active.len() < cfg.max_concurrent_hosts as usize
        {
            let avail = *available.get_or_insert_with(|| self.available_hosts());
            if avail <= cfg.min_available_hosts {
                break;
            }
            let mut started = false;
            for k in 0..n_fd {
                let fd = (self.campaigns[c].next_fd + k) % n_fd;
                let rt = &self.campaigns[c];
                if cfg
                    .max_concurrent_per_fault_domain
                    .is_some_and(|m| rt.active_per_fd[fd] >= m)
                {
                    continue;
                }
                // The first host of this domain that can be taken now; others wait their turn.
                let pos = rt.queues[fd].iter().position(|h| {
                    let hr = &self.hosts[h.index()];
                    hr.reachable() && !hr.disabled && hr.maint.is_none()
                });
                let Some(pos) = pos else { continue };
                let rt = &mut self.campaigns[c];
                let h = rt.queues[fd].remove(pos).expect("position in queue");
                rt.next_fd = (fd + 1) % n_fd;
                rt.active.push(h);
                rt.active_per_fd[fd] += 1;
                available = available.map(|a| a - 1);
                self.start_host_maintenance(h, c);
                started = true;
                break;
            }
            if !started {
                break;
            }
        }
    }

    fn start_host_maintenance(&mut self, h: HostId, c: usize) {
        let before = self.is_available(h);
        self.hosts[h.index()].maint = Some((MaintPhase::Draining, c as u32));
        self.track_available(h, before);
        // Queued migrations back onto other hosts give way to this drain.
        for v in std::mem::take(&mut self.hosts[h.index()].migration_queue) {
            self.vms[v.index()].back_to = None;
        }
        self.hosts[h.index()].departed.clear();
        // The maintenance event comes when the longest notice on the host runs out; every
        // terminating VM is stopped then, having been told its own notice beforehand (GCE).
        let event_in = self.residents[h.index()]
            .iter()
            .filter(|v| self.vms[v.index()].booted && self.vms[v.index()].task.is_none())
            .map(|v| &self.model.workloads[self.model.vms[v.index()].workload.index()].maintenance)
            .filter(|m| !m.migrate)
            .map(|m| m.notice)
            .max()
            .unwrap_or(SimDuration::ZERO);
        let mut pending = 0;
        for i in 0..self.residents[h.index()].len() {
            let v = self.residents[h.index()][i];
            let vm = &self.vms[v.index()];
            if vm.task.is_some() || !vm.booted {
                continue;
            }
            pending += 1;
            self.vms[v.index()].migration_attempts = 0;
            let m = &self.model.workloads[self.model.vms[v.index()].workload.index()].maintenance;
            if m.migrate {
                self.hosts[h.index()].migration_queue.push_back(v);
            } else {
                let host_gen = self.hosts[h.index()].gen;
                self.schedule(event_in, Event::NoticeEnd { vm: v, host_gen });
            }
        }
        self.hosts[h.index()].drain_pending = pending;
        if pending == 0 {
            self.begin_work(h);
        } else {
            self.start_next_migrations(h);
        }
    }

    /// Link rate per migration: the source NIC (capped by `live_migration_bandwidth`) shared
    /// by its outgoing migrations.
    fn migration_rate(&self, h: HostId) -> u64 {
        let nic = gbps_to_bytes_per_s(self.model.topology.host_type_of(h).nic_gbps);
        let cap = self.model.infra.libvirt.bandwidth_mib_s * MIB;
        let base = if cap > 0 { nic.min(cap) } else { nic };
        base / (self.hosts[h.index()].outgoing.len().max(1) as u64)
    }

    /// Re-shares the source NIC among its migrations: books progress, re-plans round ends.
    fn rerate(&mut self, h: HostId) {
        let rate = self.migration_rate(h);
        for i in 0..self.hosts[h.index()].outgoing.len() {
            let slot = self.hosts[h.index()].outgoing[i];
            let now = self.now;
            let lm = self.migrations[slot as usize]
                .as_mut()
                .expect("outgoing migration");
            let elapsed = now.since(lm.started_at).as_us();
            lm.mig.rebandwidth(elapsed, lm.rate);
            lm.rate = rate;
            self.migration_version = self.migration_version.wrapping_add(1);
            lm.version = self.migration_version;
            let at = lm.started_at + SimDuration(lm.mig.round_end(rate));
            let version = lm.version;
            if at < self.horizon {
                self.queue.push(at, Event::MigrationRound { slot, version });
            }
        }
    }

    fn start_next_migrations(&mut self, h: HostId) {
        let max = self.model.infra.max_concurrent_live_migrations.max(1) as usize;
        while self.hosts[h.index()].outgoing.len() < max {
            let Some(v) = self.hosts[h.index()].migration_queue.pop_front() else {
                break;
            };
            let vm = &self.vms[v.index()];
            if vm.back_to.is_some() {
                // A migration home: best effort, outside any drain.
                let ok = vm.host == h && vm.task.is_none() && vm.booted && vm.migrating.is_none();
                if !(ok && self.begin_migration(v)) {
                    self.vms[v.index()].back_to = None;
                }
                continue;
            }
            if vm.host != h || vm.task.is_some() || !vm.booted {
                self.vm_left_host(h);
                continue;
            }
            if !self.begin_migration(v) {
                // Nowhere to live-migrate to: a cold move needs a host just the same.
                self.abort_decision(v, h, false);
            }
        }
    }

    fn begin_migration(&mut self, v: VmId) -> bool {
        let source = self.vms[v.index()].host;
        let placement = match self.vms[v.index()].back_to {
            Some(home) => Placement::Host { host: home.0 },
            None => Placement::Any,
        };
        let Some(target) = self.pick_target(v, source, &placement) else {
            return false;
        };
        let claim = super::claim_of(self.model, v);
        self.claim_on(target, &claim);
        let model = self.model;
        let vm_def = &model.vms[v.index()];
        let w = &model.workloads[vm_def.workload.index()];
        let flavor = &model.flavors[vm_def.flavor.index()];
        let local = w.storage == Storage::Local;
        let dirty = match self.vms[v.index()].dirty_rate {
            Some(d) => d,
            None => {
                let mib_s = w
                    .maintenance
                    .dirty_rate_mib_s
                    .sample_value(&mut self.dirty_rng[v.index()]);
                let d = (mib_s * MIB as f64) as u64;
                self.vms[v.index()].dirty_rate = Some(d);
                d
            }
        };
        let lv = &model.infra.libvirt;
        let data_gb = nova_data_gb(
            u64::from(flavor.ram_gib),
            local.then_some(u64::from(flavor.disk_gib)),
        );
        let params = MigrationParams {
            memory_bytes: u64::from(flavor.ram_gib) * GIB,
            disk_bytes: if local {
                u64::from(flavor.disk_gib) * GIB
            } else {
                0
            },
            dirty_bytes_per_s: dirty,
            wws_bytes: w.maintenance.wws_mib.map(|m| m * MIB),
            downtime: DowntimePolicy::nova(lv, data_gb),
            // Nova uses auto-converge only when post-copy is not enabled.
            auto_converge: lv.permit_auto_converge && !lv.permit_post_copy,
            switchover_us: model.infra.switchover.as_us(),
        };
        let lm = LiveMigration {
            vm: v,
            source,
            target,
            source_gen: self.hosts[source.index()].gen,
            target_gen: self.hosts[target.index()].gen,
            started_at: self.now,
            mig: Migration::start(params),
            rate: 0,
            version: 0,
            switching: false,
        };
        let slot = match self.migrations.iter().position(Option::is_none) {
            Some(i) => {
                self.migrations[i] = Some(lm);
                i as u32
            }
            None => {
                self.migrations.push(Some(lm));
                (self.migrations.len() - 1) as u32
            }
        };
        self.vms[v.index()].migrating = Some(false);
        self.hosts[source.index()].outgoing.push(slot);
        self.rerate(source);
        self.refresh_vm(v);
        true
    }

    fn end_migration(&mut self, slot: u32) -> LiveMigration {
        let lm = self.migrations[slot as usize].take().expect("migration");
        self.hosts[lm.source.index()]
            .outgoing
            .retain(|s| *s != slot);
        lm
    }

    pub(super) fn migration_round(&mut self, slot: u32, version: u32) {
        let Some(lm) = self.migrations[slot as usize].as_ref() else {
            return;
        };
        if lm.version != version || lm.switching {
            return;
        }
        let (src, tgt) = (
            &self.hosts[lm.source.index()],
            &self.hosts[lm.target.index()],
        );
        if !tgt.up || tgt.gen != lm.target_gen || !src.up || src.gen != lm.source_gen {
            self.abort_migration(slot);
            return;
        }
        let lm = self.migrations[slot as usize].as_mut().expect("migration");
        let elapsed = self.now.since(lm.started_at).as_us();
        match lm.mig.finish_round(elapsed, lm.rate) {
            None => {
                let at = lm.started_at + SimDuration(lm.mig.round_end(lm.rate));
                if at < self.horizon {
                    self.queue.push(at, Event::MigrationRound { slot, version });
                }
            }
            Some(Outcome::Completed { blackout_us, .. }) => {
                lm.switching = true;
                let (v, source) = (lm.vm, lm.source);
                self.maint_stats.brownout_us.push(elapsed);
                self.maint_stats.blackout_us.push(blackout_us);
                self.hosts[source.index()].outgoing.retain(|s| *s != slot);
                self.rerate(source);
                self.vms[v.index()].migrating = Some(true);
                self.refresh_vm(v);
                self.schedule(SimDuration(blackout_us), Event::MigrationSwitched { slot });
            }
            Some(Outcome::Aborted) => self.abort_migration(slot),
        }
    }

    pub(super) fn migration_switched(&mut self, slot: u32) {
        let Some(lm) = self.migrations[slot as usize].as_ref() else {
            return;
        };
        let tgt = &self.hosts[lm.target.index()];
        if !tgt.up || tgt.gen != lm.target_gen {
            self.abort_migration(slot);
            return;
        }
        let lm = self.end_migration(slot);
        let (v, source, target) = (lm.vm, lm.source, lm.target);
        self.maint_stats.live_migrations += 1;
        self.maint_stats
            .duration_us
            .push(self.now.since(lm.started_at).as_us());
        self.maint_stats.migrated_bytes += lm.mig.sent_bytes;
        self.release_on(source, &super::claim_of(self.model, v));
        self.disarm_guest(v);
        self.move_resident(v, source, target);
        self.vms[v.index()].migrating = None;
        let homecoming = self.vms[v.index()].back_to.take().is_some();
        if !homecoming
            && matches!(
                self.hosts[source.index()].maint,
                Some((MaintPhase::Draining, _))
            )
        {
            self.hosts[source.index()].departed.push(v);
        }
        self.guest_started(v);
        if !homecoming {
            self.vm_left_host(source);
        }
        self.start_next_migrations(source);
    }

    /// A migration gave up (timeout or a host lost): the VM stays on its source.
    fn abort_migration(&mut self, slot: u32) {
        let lm = self.end_migration(slot);
        let (v, source) = (lm.vm, lm.source);
        self.release_on(lm.target, &super::claim_of(self.model, v));
        self.vms[v.index()].migrating = None;
        self.refresh_vm(v);
        self.maybe_begin_work(lm.target);
        let source_alive =
            self.hosts[source.index()].up && self.hosts[source.index()].gen == lm.source_gen;
        if !source_alive {
            // The source died under it: the VM went down with its host.
            return;
        }
        self.maint_stats.live_migration_aborts += 1;
        self.rerate(source);
        if self.vms[v.index()].back_to.take().is_some() {
            // A migration home that aborts just leaves the VM where it is.
            self.start_next_migrations(source);
            return;
        }
        self.abort_decision(v, source, true);
        self.start_next_migrations(source);
    }

    /// The campaign's answer to a VM that could not leave by live migration.
    fn abort_decision(&mut self, v: VmId, source: HostId, retry_allowed: bool) {
        let Some((MaintPhase::Draining, c)) = self.hosts[source.index()].maint else {
            return;
        };
        let cfg = &self.model.maintenance[c as usize];
        let vm = &mut self.vms[v.index()];
        if retry_allowed && vm.migration_attempts < cfg.migration_retries {
            vm.migration_attempts += 1;
            self.hosts[source.index()].migration_queue.push_back(v);
            return;
        }
        match cfg.on_abort {
            OnAbort::ColdMigrate if self.cold_move(v) => self.vm_left_host(source),
            _ => self.skip_host(source),
        }
    }

    /// Stops a VM and starts it on another host (maintenance downtime); false if none fits.
    fn cold_move(&mut self, v: VmId) -> bool {
        let source = self.vms[v.index()].host;
        let Some(target) = self.pick_target(v, source, &Placement::Any) else {
            return false;
        };
        self.relocate(v, target, true);
        self.maint_stats.cold_migrations += 1;
        true
    }

    /// A terminating VM's notice is over: stop it; with `automatic_restart` it starts elsewhere.
    pub(super) fn notice_end(&mut self, v: VmId, host_gen: u32) {
        let h = self.vms[v.index()].host;
        if self.hosts[h.index()].gen != host_gen
            || !matches!(self.hosts[h.index()].maint, Some((MaintPhase::Draining, _)))
        {
            return;
        }
        self.disarm_guest(v);
        let vm = &mut self.vms[v.index()];
        vm.booted = false;
        vm.maint_down = true;
        self.refresh_vm(v);
        let restart = self.model.workloads[self.model.vms[v.index()].workload.index()]
            .maintenance
            .automatic_restart;
        if restart {
            // No room elsewhere: it stays stopped and starts again with its host.
            self.cold_move(v);
        }
        self.vm_left_host(h);
    }

    fn vm_left_host(&mut self, h: HostId) {
        let hr = &mut self.hosts[h.index()];
        hr.drain_pending = hr.drain_pending.saturating_sub(1);
        self.maybe_begin_work(h);
    }

    /// Work starts once nothing is left to move off the host and nothing is still moving in.
    fn maybe_begin_work(&mut self, h: HostId) {
        let hr = &self.hosts[h.index()];
        if hr.drain_pending > 0 || !matches!(hr.maint, Some((MaintPhase::Draining, _))) {
            return;
        }
        let incoming_live = self.migrations.iter().flatten().any(|m| m.target == h);
        let incoming_cold = self.residents[h.index()]
            .iter()
            .any(|v| self.vms[v.index()].task.is_some());
        if !incoming_live && !incoming_cold {
            self.begin_work(h);
        }
    }

    /// A VM started running on a host that is draining (it was moving in when the drain
    /// began): it leaves again like the others.
    pub(super) fn arrived_on_draining_host(&mut self, v: VmId) {
        let h = self.vms[v.index()].host;
        if !matches!(self.hosts[h.index()].maint, Some((MaintPhase::Draining, _))) {
            return;
        }
        self.hosts[h.index()].drain_pending += 1;
        self.vms[v.index()].migration_attempts = 0;
        let m = &self.model.workloads[self.model.vms[v.index()].workload.index()].maintenance;
        if m.migrate {
            self.hosts[h.index()].migration_queue.push_back(v);
            self.start_next_migrations(h);
        } else {
            let host_gen = self.hosts[h.index()].gen;
            self.schedule(m.notice, Event::NoticeEnd { vm: v, host_gen });
        }
    }

    fn begin_work(&mut self, h: HostId) {
        let Some((_, c)) = self.hosts[h.index()].maint else {
            return;
        };
        self.hosts[h.index()].maint = Some((MaintPhase::Working, c));
        self.hosts[h.index()].migration_queue.clear();
        self.kill(h, false);
        let d = self.model.maintenance[c as usize].host_duration;
        self.schedule(d, Event::MaintenanceWorkDone { host: h });
    }

    pub(super) fn work_done(&mut self, h: HostId) {
        if matches!(self.hosts[h.index()].maint, Some((MaintPhase::Working, _)))
            && self.hosts[h.index()].hw == 0
        {
            self.power_on(h, true);
        }
    }

    /// Ends a host's turn in its campaign (done or skipped) and lets the campaign go on.
    fn finish_host(&mut self, h: HostId, c: usize) {
        let before = self.is_available(h);
        self.hosts[h.index()].maint = None;
        self.track_available(h, before);
        if self.model.maintenance[c].migrate_back && self.hosts[h.index()].up {
            // Nova's scheduler takes the host once its service reports up again.
            let nova = &self.model.infra.nova;
            let at = self.hosts[h.index()]
                .reporter
                .up_at(nova)
                .unwrap_or(self.now);
            let gen = self.hosts[h.index()].gen;
            self.schedule(at.since(self.now), Event::MigrateBack { host: h, gen });
        } else {
            self.hosts[h.index()].departed.clear();
        }
        let fd = self.model.topology.host(h).fault_domain.index();
        let rt = &mut self.campaigns[c];
        rt.active.retain(|a| *a != h);
        rt.active_per_fd[fd] = rt.active_per_fd[fd].saturating_sub(1);
        rt.done += 1;
        if rt.done >= self.model.maintenance[c].hosts.len() && rt.running {
            rt.running = false;
            let makespan = self.now.since(rt.started_at).as_us();
            self.maint_stats.makespans_us.push(makespan);
        }
        for c in 0..self.campaigns.len() {
            self.try_start_hosts(c);
        }
    }

    fn skip_host(&mut self, h: HostId) {
        let Some((_, c)) = self.hosts[h.index()].maint else {
            return;
        };
        self.maint_stats.skipped_hosts += 1;
        for slot in std::mem::take(&mut self.hosts[h.index()].outgoing) {
            self.hosts[h.index()].outgoing.push(slot);
            self.abort_quietly(slot);
        }
        self.hosts[h.index()].migration_queue.clear();
        self.hosts[h.index()].drain_pending = 0;
        self.finish_host(h, c as usize);
        self.refresh_host(h);
    }

    /// Cancels a migration without the abort bookkeeping (its host's turn is over).
    fn abort_quietly(&mut self, slot: u32) {
        if self.migrations[slot as usize].is_none() {
            return;
        }
        let lm = self.end_migration(slot);
        self.release_on(lm.target, &super::claim_of(self.model, lm.vm));
        self.vms[lm.vm.index()].migrating = None;
        self.refresh_vm(lm.vm);
        self.maybe_begin_work(lm.target);
    }

    /// Queues the live migrations home of the VMs that left `h` for its maintenance.
    pub(super) fn migrate_back(&mut self, h: HostId, gen: u32) {
        let departed = std::mem::take(&mut self.hosts[h.index()].departed);
        if !self.hosts[h.index()].up
            || self.hosts[h.index()].gen != gen
            || self.hosts[h.index()].maint.is_some()
        {
            return;
        }
        for v in departed {
            let vm = &self.vms[v.index()];
            let src = vm.host;
            if vm.booted
                && vm.task.is_none()
                && vm.migrating.is_none()
                && src != h
                && self.hosts[src.index()].maint.is_none()
            {
                self.vms[v.index()].back_to = Some(h);
                self.hosts[src.index()].migration_queue.push_back(v);
                self.start_next_migrations(src);
            }
        }
    }

    /// Called when a host boots: a host back from its work ends its turn; any boot may free
    /// capacity for waiting campaigns.
    pub(super) fn host_back_from_maintenance(&mut self, h: HostId) {
        if let Some((MaintPhase::Working, c)) = self.hosts[h.index()].maint {
            self.finish_host(h, c as usize);
        } else if self.campaigns.iter().any(|c| c.running) {
            for c in 0..self.campaigns.len() {
                self.try_start_hosts(c);
            }
        }
    }

    /// Called when a host dies: unplanned, a draining host's turn is cancelled and it queues
    /// again; migrations into it abort at their next round.
    pub(super) fn host_died_during_maintenance(&mut self, h: HostId) {
        let Some((MaintPhase::Draining, c)) = self.hosts[h.index()].maint else {
            return;
        };
        for slot in std::mem::take(&mut self.hosts[h.index()].outgoing) {
            self.hosts[h.index()].outgoing.push(slot);
            self.abort_quietly(slot);
        }
        self.hosts[h.index()].migration_queue.clear();
        self.hosts[h.index()].drain_pending = 0;
        let before = self.is_available(h);
        self.hosts[h.index()].maint = None;
        self.track_available(h, before);
        let fd = self.model.topology.host(h).fault_domain.index();
        let rt = &mut self.campaigns[c as usize];
        rt.active.retain(|a| *a != h);
        rt.active_per_fd[fd] = rt.active_per_fd[fd].saturating_sub(1);
        rt.queues[fd].push_back(h);
    }
}
