//! Planned maintenance: campaigns choose hosts, hosts drain (live migration over their NIC, or
//! notice-and-terminate), the work takes the host down, the host comes back. Live migrations
//! run the `infra::migration` model, one event per pre-copy (its rounds in closed form),
//! re-planned whenever the bandwidth of their source NIC is re-shared.
//!
//! Campaign decisions, stated once: a host is taken only while it is up, reachable, enabled and
//! leaves at least `min_available_hosts` others available; a live migration that aborts is
//! retried `migration_retries` times and then cold-migrated (stop, start elsewhere), or the
//! host is skipped for this cycle (`on_migration_abort = "skip-host"`); a host that fails while
//! draining goes back to the end of the campaign's queue; a VM that cannot be placed anywhere
//! makes its host skipped.

use super::{claim_of, Simulation};
use crate::core::time::SimDuration;
use crate::faults::campaign::{self, CycleState, MaintPhase};
use crate::faults::maintenance::OnAbort;
use crate::infra::live_migration;
use crate::infra::migration::{nova_data_gb, DowntimePolicy, Migration, MigrationParams, Outcome};
use crate::policy::api::Placement;
use crate::world::ids::{HostId, VmId};
use crate::world::vms::Storage;
use std::collections::VecDeque;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl Simulation<'_> {
    pub(super) fn campaign_event(&mut self, e: campaign::Event) {
        match e {
            campaign::Event::Start { campaign } => self.campaign_start(campaign as usize),
            campaign::Event::NoticeEnd { vm, host_gen } => self.notice_end(vm, host_gen),
            campaign::Event::WorkDone { host } => {
                if self.campaigns.working(host) && self.truth.host(host).hw_outages() == 0 {
                    self.power_on(host, true);
                }
            }
            campaign::Event::MigrateBack { host, gen } => self.migrate_back(host, gen),
        }
    }

    pub(super) fn migration_event(&mut self, e: live_migration::Event) {
        match e {
            live_migration::Event::PreCopy { slot, version } => {
                self.migration_precopy(slot, version)
            }
            live_migration::Event::Switched { slot } => self.migration_switched(slot),
        }
    }

    fn set_phase(&mut self, h: HostId, phase: Option<(MaintPhase, u32)>) {
        let before = self.is_available(h);
        self.campaigns.hosts[h.index()].phase = phase;
        self.track_available(h, before);
        self.relist(h);
    }

    fn campaign_start(&mut self, c: usize) {
        let cfg = &self.model.maintenance[c];
        if let Some(every) = cfg.every {
            self.schedule(every, campaign::Event::Start { campaign: c as u32 });
        }
        if self.campaigns.cycles[c].running {
            // The previous cycle is still going: it simply continues.
            return;
        }
        let n_fd = self.model.topology.fault_domains.len();
        let mut queues = vec![VecDeque::new(); n_fd];
        for h in &cfg.hosts {
            queues[self.model.topology.host(*h).fault_domain.index()].push_back(*h);
        }
        self.campaigns.cycles[c] = CycleState {
            running: true,
            queues,
            next_fd: 0,
            active: Vec::new(),
            active_per_fd: vec![0; n_fd],
            done: 0,
            started_at: self.now(),
        };
        self.try_start_hosts(c);
    }

    /// Starts as many queued hosts as the campaign's limits allow.
    fn try_start_hosts(&mut self, c: usize) {
        let cfg = &self.model.maintenance[c];
        let n_fd = self.campaigns.cycles[c].queues.len();
        // The floor is fleet-wide: counted once (only if a host could start at all), and every
        // start takes one host away.
        let mut available: Option<u32> = None;
        while self.campaigns.cycles[c].running
            && self.campaigns.cycles[c].active.len() < cfg.max_concurrent_hosts as usize
        {
            let avail = *available.get_or_insert(self.available);
            if avail <= cfg.min_available_hosts {
                break;
            }
            let mut started = false;
            for k in 0..n_fd {
                let rt = &self.campaigns.cycles[c];
                let fd = (rt.next_fd + k) % n_fd;
                if cfg
                    .max_concurrent_per_fault_domain
                    .is_some_and(|m| rt.active_per_fd[fd] >= m)
                {
                    continue;
                }
                // The first host of this domain that can be taken now; others wait their turn.
                let pos = rt.queues[fd].iter().position(|h| {
                    self.truth.host(*h).reachable()
                        && !self.service.disabled(h.index())
                        && !self.campaigns.in_maintenance(*h)
                });
                let Some(pos) = pos else { continue };
                let rt = &mut self.campaigns.cycles[c];
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

    fn workload_maintenance(&self, v: VmId) -> &crate::world::vms::WorkloadMaintenance {
        &self.model.workloads[self.model.vms[v.index()].workload.index()].maintenance
    }

    fn start_host_maintenance(&mut self, h: HostId, c: usize) {
        self.set_phase(h, Some((MaintPhase::Draining, c as u32)));
        // Queued migrations back onto other hosts give way to this drain.
        // Drained in place: the queue keeps its buffer for the drain it is about to hold.
        let campaigns = &mut self.campaigns;
        for v in campaigns.hosts[h.index()].queue.drain(..) {
            campaigns.vms[v.index()].back_to = None;
        }
        self.campaigns.hosts[h.index()].departed.clear();
        // The maintenance event comes when the longest notice on the host runs out; every
        // terminating VM is stopped then, having been told its own notice beforehand (GCE).
        let event_in = self
            .truth
            .residents(h)
            .iter()
            .filter(|v| self.truth.vm(**v).booted() && !self.moves.busy(**v))
            .map(|v| self.workload_maintenance(*v))
            .filter(|m| !m.migrate)
            .map(|m| m.notice)
            .max()
            .unwrap_or(SimDuration::ZERO);
        let mut pending = 0;
        for i in 0..self.truth.residents(h).len() {
            let v = self.truth.residents(h)[i];
            if self.moves.busy(v) || !self.truth.vm(v).booted() {
                continue;
            }
            pending += 1;
            self.campaigns.vms[v.index()].attempts = 0;
            if self.workload_maintenance(v).migrate {
                self.campaigns.hosts[h.index()].queue.push_back(v);
            } else {
                let host_gen = self.truth.host(h).gen();
                self.schedule(event_in, campaign::Event::NoticeEnd { vm: v, host_gen });
            }
        }
        self.campaigns.hosts[h.index()].drain_pending = pending;
        if pending == 0 {
            self.begin_work(h);
        } else {
            self.start_next_migrations(h);
        }
    }

    fn migration_rate(&self, h: HostId) -> u64 {
        let nic = self.model.topology.host_type_of(h).nic_gbps;
        let cap = self.model.infra.libvirt.bandwidth_mib_s;
        self.migrations.rate(h, nic, cap)
    }

    /// Re-shares the source NIC among its migrations.
    fn rerate(&mut self, h: HostId) {
        let rate = self.migration_rate(h);
        self.migrations.rerate(h, rate, &mut self.sched);
    }

    fn start_next_migrations(&mut self, h: HostId) {
        let max = self.model.infra.max_concurrent_live_migrations.max(1) as usize;
        while self.migrations.outgoing(h).len() < max {
            let Some(v) = self.campaigns.hosts[h.index()].queue.pop_front() else {
                break;
            };
            if let Some(&next) = self.campaigns.hosts[h.index()].queue.front() {
                self.prefetch_vm(next);
            }
            let vm = self.truth.vm(v);
            if self.campaigns.vms[v.index()].back_to.is_some() {
                // A migration home: best effort, outside any drain.
                let ok = vm.host() == h
                    && !self.moves.busy(v)
                    && vm.booted()
                    && self.migrations.migrating(v).is_none();
                if !(ok && self.begin_migration(v)) {
                    self.campaigns.vms[v.index()].back_to = None;
                }
                continue;
            }
            if vm.host() != h || self.moves.busy(v) || !vm.booted() {
                self.vm_left_host(h);
                continue;
            }
            if !self.begin_migration(v) {
                // Nowhere to live-migrate to: a cold move needs a host just the same.
                self.abort_decision(v, h, false);
            }
        }
    }

    /// Asks for a VM's records to be loaded into the cache ahead of its migration: the
    /// drain migrates it next, after the one starting now (see `core::prefetch`).
    fn prefetch_vm(&self, v: VmId) {
        self.truth.prefetch_vm(v);
        self.campaigns.prefetch_vm(v);
        self.moves.prefetch(v);
        self.migrations.prefetch(v);
        self.accounts.ledger.prefetch(v);
        crate::core::prefetch::prefetch(&self.model.vms[v.index()]);
    }

    fn begin_migration(&mut self, v: VmId) -> bool {
        let source = self.truth.vm(v).host();
        let wanted = match self.campaigns.vms[v.index()].back_to {
            Some(home) => Placement::Host { host: home.0 },
            None => Placement::Any,
        };
        let Some(target) = self.pick_target(v, source, &wanted) else {
            return false;
        };
        let model = self.model;
        self.placement.claim(target, &claim_of(model, v));
        let vm_def = &model.vms[v.index()];
        let w = &model.workloads[vm_def.workload.index()];
        let flavor = &model.flavors[vm_def.flavor.index()];
        let local = w.storage == Storage::Local;
        let dirty = self
            .migrations
            .dirty_rate(v, |rng| w.maintenance.dirty_rate_mib_s.sample_value(rng));
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
        let (sg, tg) = (self.truth.host(source).gen(), self.truth.host(target).gen());
        let now = self.now();
        let slot = self
            .migrations
            .begin(v, source, target, sg, tg, now, Migration::start(params));
        self.rerate(source);
        if !self.truth.host(target).up() {
            // Nova still lists a dead host: the migration finds out at its first round's end.
            self.migrations.doom(slot, &mut self.sched);
        }
        self.refresh_vm(v);
        true
    }

    /// A pre-copy's planned end, a checkpoint of a long plan, or a doomed migration's round
    /// end.
    fn migration_precopy(&mut self, slot: u32, version: u64) {
        let Some(lm) = self.migrations.get(slot) else {
            return;
        };
        if lm.version != version || lm.switching {
            return;
        }
        let (src, tgt) = (self.truth.host(lm.source), self.truth.host(lm.target));
        if !tgt.up() || tgt.gen() != lm.target_gen || !src.up() || src.gen() != lm.source_gen {
            self.abort_migration(slot);
            return;
        }
        if lm.doomed {
            // Doomed at its start for a target Nova still listed while it was down: the target
            // came up before this first round ended (its generation is the one it had), so the
            // migration runs on, as the round-by-round model did.
            self.migrations.revive(slot);
        }
        match self.migrations.precopy_due(slot, self.sched.now) {
            None => self.migrations.replan(slot, &mut self.sched),
            Some((elapsed, Outcome::Completed { blackout_us, .. })) => {
                let lm = self.migrations.get_mut(slot).expect("migration");
                lm.switching = true;
                let (v, source) = (lm.vm, lm.source);
                let stats = &mut self.accounts.maintenance;
                stats.brownout_us.push(elapsed);
                stats.blackout_us.push(blackout_us);
                self.migrations.leave_nic(slot);
                self.rerate(source);
                self.migrations.set_migrating(v, Some(true));
                self.refresh_vm(v);
                self.migrations
                    .schedule_switch(slot, blackout_us, &mut self.sched);
            }
            Some((_, Outcome::Aborted)) => self.abort_migration(slot),
        }
    }

    /// A host died: every pre-copy from or to it is doomed (it aborts at its round's end).
    pub(super) fn doom_migrations(&mut self, h: HostId) {
        let mut slots = std::mem::take(&mut self.scratch_slots);
        self.migrations.precopies_touching(h, &mut slots);
        for &slot in &slots {
            self.migrations.doom(slot, &mut self.sched);
        }
        self.scratch_slots = slots;
    }

    fn migration_switched(&mut self, slot: u32) {
        let Some(lm) = self.migrations.get(slot) else {
            return;
        };
        let tgt = self.truth.host(lm.target);
        if !tgt.up() || tgt.gen() != lm.target_gen {
            self.abort_migration(slot);
            return;
        }
        let lm = self.migrations.end(slot, &mut self.sched);
        let (v, source, target) = (lm.vm, lm.source, lm.target);
        let stats = &mut self.accounts.maintenance;
        stats.live_migrations += 1;
        stats
            .duration_us
            .push(self.sched.now.since(lm.started_at).as_us());
        stats.migrated_bytes += lm.mig.sent_bytes;
        self.placement.release(source, &claim_of(self.model, v));
        self.guests.disarm(v, source);
        self.move_resident(v, source, target);
        self.migrations.set_migrating(v, None);
        let homecoming = self.campaigns.vms[v.index()].back_to.take().is_some();
        if !homecoming && self.campaigns.draining(source) {
            self.campaigns.hosts[source.index()].departed.push(v);
        }
        self.guest_started(v);
        if !homecoming {
            self.vm_left_host(source);
        }
        self.start_next_migrations(source);
    }

    /// A migration gave up (timeout or a host lost): the VM stays on its source.
    fn abort_migration(&mut self, slot: u32) {
        let lm = self.migrations.end(slot, &mut self.sched);
        let (v, source) = (lm.vm, lm.source);
        self.placement.release(lm.target, &claim_of(self.model, v));
        self.migrations.set_migrating(v, None);
        self.refresh_vm(v);
        self.maybe_begin_work(lm.target);
        let src = self.truth.host(source);
        if !(src.up() && src.gen() == lm.source_gen) {
            // The source died under it: the VM went down with its host.
            return;
        }
        self.accounts.maintenance.live_migration_aborts += 1;
        self.rerate(source);
        if self.campaigns.vms[v.index()].back_to.take().is_some() {
            // A migration home that aborts just leaves the VM where it is.
            self.start_next_migrations(source);
            return;
        }
        self.abort_decision(v, source, true);
        self.start_next_migrations(source);
    }

    /// The campaign's answer to a VM that could not leave by live migration.
    fn abort_decision(&mut self, v: VmId, source: HostId, retry_allowed: bool) {
        let Some((MaintPhase::Draining, c)) = self.campaigns.phase(source) else {
            return;
        };
        let cfg = &self.model.maintenance[c as usize];
        let turn = &mut self.campaigns.vms[v.index()];
        if retry_allowed && turn.attempts < cfg.migration_retries {
            turn.attempts += 1;
            self.campaigns.hosts[source.index()].queue.push_back(v);
            return;
        }
        match cfg.on_abort {
            OnAbort::ColdMigrate if self.cold_move(v) => self.vm_left_host(source),
            _ => self.skip_host(source),
        }
    }

    /// Stops a VM and starts it on another host (maintenance downtime); false if none fits.
    fn cold_move(&mut self, v: VmId) -> bool {
        let source = self.truth.vm(v).host();
        let Some(target) = self.pick_target(v, source, &Placement::Any) else {
            return false;
        };
        self.relocate(v, target, true);
        self.accounts.maintenance.cold_migrations += 1;
        true
    }

    /// A terminating VM's notice is over: stop it; with `automatic_restart` it starts elsewhere.
    fn notice_end(&mut self, v: VmId, host_gen: u32) {
        let h = self.truth.vm(v).host();
        if self.truth.host(h).gen() != host_gen || !self.campaigns.draining(h) {
            return;
        }
        self.guests.disarm(v, h);
        let gce = matches!(self.model.policy, crate::policy::PolicyConfig::Gce(_));
        if gce && !self.workload_maintenance(v).automatic_restart {
            // GCE: a terminated VM without automatic restart (Spot, Preemptible) stays
            // TERMINATED until its user restarts it (production-ha.md §4).
            self.truth.shut_off(v);
        } else {
            self.truth.guest_stop(v);
        }
        self.campaigns.vms[v.index()].down = true;
        self.refresh_vm(v);
        if self.workload_maintenance(v).automatic_restart {
            // No room elsewhere: it stays stopped and starts again with its host.
            self.cold_move(v);
        }
        self.vm_left_host(h);
    }

    fn vm_left_host(&mut self, h: HostId) {
        let turn = &mut self.campaigns.hosts[h.index()];
        turn.drain_pending = turn.drain_pending.saturating_sub(1);
        self.maybe_begin_work(h);
    }

    /// Work starts once nothing is left to move off the host and nothing is still moving in.
    fn maybe_begin_work(&mut self, h: HostId) {
        if self.campaigns.hosts[h.index()].drain_pending > 0 || !self.campaigns.draining(h) {
            return;
        }
        let incoming_live = self.migrations.incoming(h) > 0;
        let incoming_cold = self.truth.residents(h).iter().any(|v| self.moves.busy(*v));
        if !incoming_live && !incoming_cold {
            self.begin_work(h);
        }
    }

    /// A VM started running on a host that is draining (it was moving in when the drain
    /// began): it leaves again like the others.
    pub(super) fn arrived_on_draining_host(&mut self, v: VmId) {
        let h = self.truth.vm(v).host();
        if !self.campaigns.draining(h) {
            return;
        }
        self.campaigns.hosts[h.index()].drain_pending += 1;
        self.campaigns.vms[v.index()].attempts = 0;
        let (migrate, notice) = {
            let m = self.workload_maintenance(v);
            (m.migrate, m.notice)
        };
        if migrate {
            self.campaigns.hosts[h.index()].queue.push_back(v);
            self.start_next_migrations(h);
        } else {
            let host_gen = self.truth.host(h).gen();
            self.schedule(notice, campaign::Event::NoticeEnd { vm: v, host_gen });
        }
    }

    fn begin_work(&mut self, h: HostId) {
        let Some((_, c)) = self.campaigns.phase(h) else {
            return;
        };
        self.set_phase(h, Some((MaintPhase::Working, c)));
        self.campaigns.hosts[h.index()].queue.clear();
        self.kill(h, false);
        let d = self.model.maintenance[c as usize].host_duration;
        self.schedule(d, campaign::Event::WorkDone { host: h });
    }

    /// Ends a host's turn in its campaign (done or skipped) and lets the campaign go on.
    fn finish_host(&mut self, h: HostId, c: usize) {
        self.set_phase(h, None);
        if self.model.maintenance[c].migrate_back && self.truth.host(h).up() {
            // Nova's scheduler takes the host once its service reports up again.
            let nova = &self.model.infra.nova;
            let at = self
                .service
                .reporter(h.index())
                .up_at(nova)
                .unwrap_or(self.now());
            let gen = self.truth.host(h).gen();
            self.schedule(
                at.since(self.now()),
                campaign::Event::MigrateBack { host: h, gen },
            );
        } else {
            self.campaigns.hosts[h.index()].departed.clear();
        }
        let fd = self.model.topology.host(h).fault_domain.index();
        let now = self.now();
        let rt = &mut self.campaigns.cycles[c];
        rt.active.retain(|a| *a != h);
        rt.active_per_fd[fd] = rt.active_per_fd[fd].saturating_sub(1);
        rt.done += 1;
        if rt.done >= self.model.maintenance[c].hosts.len() && rt.running {
            rt.running = false;
            let makespan = now.since(rt.started_at).as_us();
            self.accounts.maintenance.makespans_us.push(makespan);
        }
        for c in 0..self.campaigns.cycles.len() {
            self.try_start_hosts(c);
        }
    }

    /// Cancels every migration leaving `h` and empties its drain.
    fn cancel_drain(&mut self, h: HostId) {
        while let Some(&slot) = self.migrations.outgoing(h).first() {
            self.abort_quietly(slot);
        }
        let turn = &mut self.campaigns.hosts[h.index()];
        turn.queue.clear();
        turn.drain_pending = 0;
    }

    fn skip_host(&mut self, h: HostId) {
        let Some((_, c)) = self.campaigns.phase(h) else {
            return;
        };
        self.accounts.maintenance.skipped_hosts += 1;
        self.cancel_drain(h);
        self.finish_host(h, c as usize);
        self.refresh_host(h);
    }

    /// Cancels a migration without the abort bookkeeping (its host's turn is over).
    fn abort_quietly(&mut self, slot: u32) {
        let lm = self.migrations.end(slot, &mut self.sched);
        self.placement
            .release(lm.target, &claim_of(self.model, lm.vm));
        self.migrations.set_migrating(lm.vm, None);
        self.refresh_vm(lm.vm);
        self.maybe_begin_work(lm.target);
    }

    /// Queues the live migrations home of the VMs that left `h` for its maintenance.
    fn migrate_back(&mut self, h: HostId, gen: u32) {
        let departed = std::mem::take(&mut self.campaigns.hosts[h.index()].departed);
        let t = self.truth.host(h);
        if !t.up() || t.gen() != gen || self.campaigns.in_maintenance(h) {
            return;
        }
        for v in departed {
            let vm = self.truth.vm(v);
            let src = vm.host();
            if vm.booted()
                && !self.moves.busy(v)
                && self.migrations.migrating(v).is_none()
                && src != h
                && !self.campaigns.in_maintenance(src)
            {
                self.campaigns.vms[v.index()].back_to = Some(h);
                self.campaigns.hosts[src.index()].queue.push_back(v);
                self.start_next_migrations(src);
            }
        }
    }

    /// Called when a host boots: a host back from its work ends its turn; any boot may free
    /// capacity for waiting campaigns.
    pub(super) fn host_back_from_maintenance(&mut self, h: HostId) {
        if let Some((MaintPhase::Working, c)) = self.campaigns.phase(h) {
            self.finish_host(h, c as usize);
        } else if self.campaigns.any_running() {
            for c in 0..self.campaigns.cycles.len() {
                self.try_start_hosts(c);
            }
        }
    }

    /// Called when a host dies: unplanned, a draining host's turn is cancelled and it queues
    /// again; migrations into it abort at their next round.
    pub(super) fn host_died_during_maintenance(&mut self, h: HostId) {
        let Some((MaintPhase::Draining, c)) = self.campaigns.phase(h) else {
            return;
        };
        self.cancel_drain(h);
        self.set_phase(h, None);
        let fd = self.model.topology.host(h).fault_domain.index();
        let rt = &mut self.campaigns.cycles[c as usize];
        rt.active.retain(|a| *a != h);
        rt.active_per_fd[fd] = rt.active_per_fd[fd].saturating_sub(1);
        rt.queues[fd].push_back(h);
    }
}
