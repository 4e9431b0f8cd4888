//! Live migration: pre-copy rounds over a shared link, QEMU's switchover rule, Nova's downtime
//! steps and completion timeout, auto-converge and post-copy (production-ha.md §1.2–1.3, §7).
//!
//! A migration is a state machine in integer microseconds and bytes. A round is not one event
//! per page: the caller asks when the current round ends at the current bandwidth
//! (`round_end`), and if the bandwidth changes first (another migration starts or ends on the
//! same NIC) it calls `rebandwidth`, which books the bytes sent so far and re-plans. Rounds
//! follow the Clark/Akoush formulation: round 0 sends the memory M, round i sends what was
//! dirtied during round i − 1, D·Tᵢ₋₁ (capped by the writable working set), so with constant D
//! and R the rounds are Vᵢ = M·(D/R)ⁱ. At a round's end QEMU switches over when the remaining
//! bytes are below bandwidth × downtime limit; the blackout is their copy time plus a constant
//! for device state and announce. Completion times round up to the microsecond.

use crate::core::time::US_PER_S;

/// Nova's `[libvirt]` live-migration options (nova/conf/libvirt.py), with their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct LibvirtConfig {
    /// `live_migration_downtime` = 500 ms (libvirt.py:321): the last downtime step.
    pub downtime_ms: u64,
    /// `live_migration_downtime_steps` = 10 (libvirt.py:338).
    pub downtime_steps: u64,
    /// `live_migration_downtime_delay` = 75 s per GiB (libvirt.py:346).
    pub downtime_delay_s: u64,
    /// `live_migration_completion_timeout` = 800 s per GiB; 0 disables (libvirt.py:356).
    pub completion_timeout_s: u64,
    /// `live_migration_timeout_action` = abort (libvirt.py:398).
    pub timeout_action: TimeoutAction,
    /// `live_migration_permit_post_copy` = False (libvirt.py:415).
    pub permit_post_copy: bool,
    /// `live_migration_permit_auto_converge` = False (libvirt.py:448).
    pub permit_auto_converge: bool,
    /// `live_migration_bandwidth` = 0 MiB/s: 0 lets the hypervisor use the link (libvirt.py:312).
    pub bandwidth_mib_s: u64,
}

impl Default for LibvirtConfig {
    fn default() -> Self {
        LibvirtConfig {
            downtime_ms: 500,
            downtime_steps: 10,
            downtime_delay_s: 75,
            completion_timeout_s: 800,
            timeout_action: TimeoutAction::Abort,
            permit_post_copy: false,
            permit_auto_converge: false,
            bandwidth_mib_s: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutAction {
    Abort,
    /// Switch to post-copy if permitted, otherwise pause the VM and finish the copy.
    ForceComplete,
}

/// QEMU auto-converge (`migration/options.c`): throttle 20 %, then +10 % per trigger, up to
/// 99 %, once dirtying exceeds 50 % of what was sent in 2 consecutive periods.
pub const THROTTLE_INITIAL_PCT: u64 = 20;
pub const THROTTLE_INCREMENT_PCT: u64 = 10;
pub const THROTTLE_MAX_PCT: u64 = 99;
pub const THROTTLE_TRIGGER_PCT: u64 = 50;
pub const THROTTLE_TRIGGER_PERIODS: u32 = 2;

/// How the downtime limit evolves while a migration runs.
#[derive(Clone, Debug, PartialEq)]
pub enum DowntimePolicy {
    /// QEMU alone: one fixed limit (QEMU's default is 300 ms), never gives up.
    Fixed { limit_us: u64 },
    /// Nova's schedule: `(time since start, limit)` steps, applied once elapsed time exceeds
    /// a step's time, plus a completion timeout.
    Nova {
        steps: Vec<(u64, u64)>,
        timeout_us: Option<u64>,
        action: TimeoutAction,
        post_copy: bool,
    },
}

/// Nova's `downtime_steps` (nova/virt/libvirt/migration.py:871) for `data_gb`: steps+1 pairs
/// `(int(delay·i) s, int(base + offset·i) ms)` with base = downtime/steps and
/// offset = (downtime − base)/steps, delay = int(downtime_delay · data_gb).
pub fn nova_downtime_steps(cfg: &LibvirtConfig, data_gb: u64) -> Vec<(u64, u64)> {
    let downtime = cfg.downtime_ms as f64;
    let steps = cfg.downtime_steps.max(1);
    let delay = (cfg.downtime_delay_s * data_gb) as f64;
    let base = downtime / steps as f64;
    let offset = (downtime - base) / steps as f64;
    (0..=steps)
        .map(|i| ((delay * i as f64) as u64, (base + offset * i as f64) as u64))
        .collect()
}

/// Nova's `_live_migration_data_gb`: RAM plus block-migrated disks, each floored at 2 GiB.
pub fn nova_data_gb(ram_gib: u64, block_disk_gib: Option<u64>) -> u64 {
    ram_gib.max(2) + block_disk_gib.map(|d| d.max(2)).unwrap_or(0)
}

impl DowntimePolicy {
    pub fn nova(cfg: &LibvirtConfig, data_gb: u64) -> Self {
        let steps = nova_downtime_steps(cfg, data_gb)
            .into_iter()
            .map(|(t, ms)| (t * US_PER_S, ms * 1000))
            .collect();
        DowntimePolicy::Nova {
            steps,
            timeout_us: (cfg.completion_timeout_s > 0)
                .then(|| cfg.completion_timeout_s * data_gb * US_PER_S),
            action: cfg.timeout_action,
            post_copy: cfg.permit_post_copy,
        }
    }

    /// The limit in force `elapsed_us` into the migration: Nova applies the last step whose
    /// time is strictly below the elapsed time (the first one from the first monitor pass).
    pub fn limit_us(&self, elapsed_us: u64) -> u64 {
        match self {
            DowntimePolicy::Fixed { limit_us } => *limit_us,
            DowntimePolicy::Nova { steps, .. } => {
                let mut limit = steps[0].1;
                for &(t, l) in steps {
                    if t < elapsed_us || t == 0 {
                        limit = l;
                    }
                }
                limit
            }
        }
    }
}

/// One migration's inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct MigrationParams {
    pub memory_bytes: u64,
    /// Local disks copied before memory (block migration); 0 with shared storage or volumes.
    pub disk_bytes: u64,
    pub dirty_bytes_per_s: u64,
    /// Writable working set: at most this many bytes are dirty at a round's end.
    pub wws_bytes: Option<u64>,
    pub downtime: DowntimePolicy,
    pub auto_converge: bool,
    /// Device state transfer and network announce after the last copy.
    pub switchover_us: u64,
}

/// How a migration ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Switched over: the VM runs on the target after `blackout_us` of pause.
    Completed {
        blackout_us: u64,
        post_copy: bool,
        paused: bool,
    },
    /// Gave up at Nova's completion timeout: the VM stays on the source.
    Aborted,
}

/// A migration in progress.
#[derive(Clone, Debug)]
pub struct Migration {
    pub params: MigrationParams,
    /// Elapsed time at the start of the current phase/round.
    pub round_start_us: u64,
    /// Bytes the current round must still send, as of `booked_at_us`.
    pub remaining_bytes: u64,
    pub booked_at_us: u64,
    /// Bytes the current round had to send when it started.
    pub round_bytes: u64,
    pub round: u32,
    /// Copying local disks (before memory).
    pub in_disk_phase: bool,
    pub throttle_pct: u64,
    over_threshold: u32,
    pub sent_bytes: u64,
    /// Completed pre-copy rounds, with the bytes each sent.
    pub rounds: Vec<u64>,
}

/// µs to send `bytes` at `rate` bytes/s, rounded up.
pub fn send_time_us(bytes: u64, rate: u64) -> u64 {
    if bytes == 0 {
        return 0;
    }
    let rate = rate.max(1) as u128;
    ((bytes as u128 * 1_000_000).div_ceil(rate)) as u64
}

impl Migration {
    pub fn start(params: MigrationParams) -> Self {
        let disk = params.disk_bytes;
        let first = if disk > 0 { disk } else { params.memory_bytes };
        Migration {
            params,
            round_start_us: 0,
            remaining_bytes: first,
            booked_at_us: 0,
            round_bytes: first,
            round: 0,
            in_disk_phase: disk > 0,
            throttle_pct: 0,
            over_threshold: 0,
            sent_bytes: 0,
            rounds: Vec::new(),
        }
    }

    /// When (elapsed µs) the current round ends if `rate` holds.
    pub fn round_end(&self, rate: u64) -> u64 {
        self.booked_at_us + send_time_us(self.remaining_bytes, rate)
    }

    /// The bandwidth changes at `elapsed_us`: book what was sent at the old `rate`.
    pub fn rebandwidth(&mut self, elapsed_us: u64, old_rate: u64) {
        let dt = elapsed_us.saturating_sub(self.booked_at_us) as u128;
        let sent = ((dt * old_rate as u128) / 1_000_000) as u64;
        let sent = sent.min(self.remaining_bytes);
        self.remaining_bytes -= sent;
        self.sent_bytes += sent;
        self.booked_at_us = elapsed_us;
    }

    fn effective_dirty_rate(&self) -> u64 {
        self.params.dirty_bytes_per_s * (100 - self.throttle_pct) / 100
    }

    /// The current round ended at `elapsed_us` (= `round_end(rate)`). Returns the outcome if
    /// the migration ends here, or None after starting the next round.
    pub fn finish_round(&mut self, elapsed_us: u64, rate: u64) -> Option<Outcome> {
        self.sent_bytes += self.remaining_bytes;
        let duration_us = elapsed_us - self.round_start_us;
        if self.in_disk_phase {
            // Disks done; memory pre-copy starts (pages dirtied meanwhile are not tracked yet).
            self.in_disk_phase = false;
            return self.next_round(elapsed_us, self.params.memory_bytes);
        }
        self.rounds.push(self.round_bytes);
        let dirty_rate = self.effective_dirty_rate();
        let mut dirty = ((dirty_rate as u128 * duration_us as u128) / 1_000_000) as u64;
        if let Some(w) = self.params.wws_bytes {
            dirty = dirty.min(w);
        }
        dirty = dirty.min(self.params.memory_bytes);
        // QEMU: switch over when what is left fits in the downtime limit at this bandwidth.
        let limit = self.params.downtime.limit_us(elapsed_us);
        let threshold = ((rate as u128 * limit as u128) / 1_000_000) as u64;
        if dirty < threshold || dirty == 0 {
            let blackout_us = send_time_us(dirty, rate) + self.params.switchover_us;
            self.sent_bytes += dirty;
            return Some(Outcome::Completed {
                blackout_us,
                post_copy: false,
                paused: false,
            });
        }
        if let DowntimePolicy::Nova {
            timeout_us: Some(t),
            action,
            post_copy,
            ..
        } = &self.params.downtime
        {
            if elapsed_us > *t {
                return Some(match action {
                    TimeoutAction::Abort => Outcome::Aborted,
                    // Post-copy: pause only for device state; pages follow on demand.
                    TimeoutAction::ForceComplete if *post_copy => {
                        self.sent_bytes += dirty;
                        Outcome::Completed {
                            blackout_us: self.params.switchover_us,
                            post_copy: true,
                            paused: false,
                        }
                    }
                    // Without post-copy Nova pauses the VM so the copy can finish.
                    TimeoutAction::ForceComplete => {
                        self.sent_bytes += dirty;
                        Outcome::Completed {
                            blackout_us: send_time_us(dirty, rate) + self.params.switchover_us,
                            post_copy: false,
                            paused: true,
                        }
                    }
                });
            }
        }
        if self.params.auto_converge {
            // Dirtying faster than half of what was sent, in consecutive rounds, throttles.
            if dirty as u128 * 100 > self.round_bytes as u128 * THROTTLE_TRIGGER_PCT as u128 {
                self.over_threshold += 1;
                if self.over_threshold >= THROTTLE_TRIGGER_PERIODS {
                    self.over_threshold = 0;
                    self.throttle_pct = if self.throttle_pct == 0 {
                        THROTTLE_INITIAL_PCT
                    } else {
                        (self.throttle_pct + THROTTLE_INCREMENT_PCT).min(THROTTLE_MAX_PCT)
                    };
                }
            } else {
                self.over_threshold = 0;
            }
        }
        self.next_round(elapsed_us, dirty)
    }

    fn next_round(&mut self, elapsed_us: u64, bytes: u64) -> Option<Outcome> {
        self.round += 1;
        self.round_start_us = elapsed_us;
        self.booked_at_us = elapsed_us;
        self.remaining_bytes = bytes;
        self.round_bytes = bytes;
        None
    }

    /// The whole migration at one constant rate, for tests and planning: (outcome, total µs
    /// until the VM runs on the target or the abort). `max_rounds` bounds a migration that
    /// never converges (QEMU alone never gives up).
    pub fn run_at(
        params: MigrationParams,
        rate: u64,
        max_rounds: u32,
    ) -> (Option<Outcome>, u64, Migration) {
        let mut m = Migration::start(params);
        for _ in 0..max_rounds {
            let end = m.round_end(rate);
            if let Some(o) = m.finish_round(end, rate) {
                let total = match &o {
                    Outcome::Completed { blackout_us, .. } => end + blackout_us,
                    Outcome::Aborted => end,
                };
                return (Some(o), total, m);
            }
        }
        let t = m.round_start_us;
        (None, t, m)
    }
}

/// Bytes per second of a link in Gbit/s.
pub fn gbps_to_bytes_per_s(gbps: f64) -> u64 {
    (gbps * 1e9 / 8.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn fixed(limit_ms: u64) -> DowntimePolicy {
        DowntimePolicy::Fixed {
            limit_us: limit_ms * 1000,
        }
    }

    fn params(m: u64, d: u64, downtime: DowntimePolicy) -> MigrationParams {
        MigrationParams {
            memory_bytes: m,
            disk_bytes: 0,
            dirty_bytes_per_s: d,
            wws_bytes: None,
            downtime,
            auto_converge: false,
            switchover_us: 20_000,
        }
    }

    /// Constant D < R: rounds Vᵢ = M·(D/R)ⁱ; stop at the first n with Vₙ < R·d_max; total =
    /// Σ_{i<n} Vᵢ/R + Vₙ/R + switchover, each round rounded up to the microsecond.
    #[test]
    fn pre_copy_rounds_follow_the_geometric_series() {
        // M = 4 GiB, R = 1 GiB/s, D = R/4: ρ = 1/4, exact in integers at every step.
        let (m, r, d) = (4 * GIB, GIB, GIB / 4);
        let (outcome, total, mig) = Migration::run_at(params(m, d, fixed(300)), r, 100);
        // Vᵢ = 4 GiB, 1 GiB, 256 MiB, …; the threshold is R·0.3 s = 307.2 MiB: V₁ = 1 GiB is
        // above it, V₂ = 256 MiB below, so QEMU switches over after round 1 and copies V₂
        // during the blackout.
        assert_eq!(mig.rounds, vec![4 * GIB, GIB]);
        let expect_pre = send_time_us(4 * GIB, r) + send_time_us(GIB, r);
        let blackout = send_time_us(256 << 20, r) + 20_000;
        assert_eq!(
            outcome,
            Some(Outcome::Completed {
                blackout_us: blackout,
                post_copy: false,
                paused: false
            })
        );
        assert_eq!(total, expect_pre + blackout);
        assert_eq!(expect_pre, 5_000_000);
        assert_eq!(blackout, 250_000 + 20_000);
        // Data sent: M·(1 − ρⁿ⁺¹)/(1 − ρ) with n = 2: 4 + 1 + 0.25 GiB.
        assert_eq!(mig.sent_bytes, 4 * GIB + GIB + GIB / 4);
    }

    #[test]
    fn geometric_series_with_a_tight_limit() {
        // ρ = 1/2, limit 10 ms at 1 GiB/s: threshold 10.7 MB; Vᵢ = 2 GiB / 2ⁱ;
        // first Vₙ < 10,737,418 B is n = 8 (8 MiB).
        let (m, r) = (2 * GIB, GIB);
        let (outcome, total, mig) = Migration::run_at(params(m, r / 2, fixed(10)), r, 100);
        let expected: Vec<u64> = (0..8).map(|i| m >> i).collect();
        assert_eq!(mig.rounds, expected);
        let pre: u64 = expected.iter().map(|v| send_time_us(*v, r)).sum();
        let blackout = send_time_us(m >> 8, r) + 20_000;
        assert_eq!(total, pre + blackout);
        assert!(matches!(outcome, Some(Outcome::Completed { .. })));
    }

    #[test]
    fn dirtying_as_fast_as_the_link_never_converges_under_qemu() {
        let (outcome, _, mig) = Migration::run_at(params(4 * GIB, GIB, fixed(300)), GIB, 1000);
        assert_eq!(outcome, None, "QEMU alone never gives up");
        assert!(mig.rounds.iter().all(|v| *v == 4 * GIB));
    }

    /// Nova's schedule for a 4 GiB VM (production-ha.md §1.3): t = 0 → 50 ms, 300 s → 95 ms,
    /// … 3000 s → 500 ms; completion timeout 800 × 4 = 3200 s, then abort.
    #[test]
    fn nova_downtime_steps_for_a_4_gib_vm() {
        let cfg = LibvirtConfig::default();
        let steps = nova_downtime_steps(&cfg, nova_data_gb(4, None));
        assert_eq!(
            steps,
            vec![
                (0, 50),
                (300, 95),
                (600, 140),
                (900, 185),
                (1200, 230),
                (1500, 275),
                (1800, 320),
                (2100, 365),
                (2400, 410),
                (2700, 455),
                (3000, 500)
            ]
        );
        let policy = DowntimePolicy::nova(&cfg, 4);
        assert_eq!(policy.limit_us(1), 50_000);
        assert_eq!(
            policy.limit_us(300 * US_PER_S),
            50_000,
            "strictly below: not yet"
        );
        assert_eq!(policy.limit_us(300 * US_PER_S + 1), 95_000);
        assert_eq!(policy.limit_us(4000 * US_PER_S), 500_000);
        // D ≥ R never converges, so Nova aborts at the first round end after 3200 s.
        let (outcome, total, _) = Migration::run_at(params(4 * GIB, GIB, policy), GIB, 100_000);
        assert_eq!(outcome, Some(Outcome::Aborted));
        assert!(total > 3200 * US_PER_S && total <= 3200 * US_PER_S + send_time_us(4 * GIB, GIB));
        assert_eq!(nova_data_gb(1, None), 2, "RAM floored at 2 GiB");
        assert_eq!(nova_data_gb(4, Some(1)), 6);
    }

    #[test]
    fn auto_converge_makes_a_hot_vm_converge() {
        let mut p = params(
            4 * GIB,
            GIB,
            DowntimePolicy::nova(&LibvirtConfig::default(), 4),
        );
        p.auto_converge = true;
        let (outcome, total, mig) = Migration::run_at(p, GIB, 100_000);
        assert!(
            matches!(outcome, Some(Outcome::Completed { .. })),
            "{outcome:?}"
        );
        assert!(
            total < 3200 * US_PER_S,
            "converged before the timeout: {total}"
        );
        assert!(mig.throttle_pct >= THROTTLE_INITIAL_PCT);
    }

    #[test]
    fn force_complete_pauses_or_switches_to_post_copy() {
        let cfg = LibvirtConfig {
            timeout_action: TimeoutAction::ForceComplete,
            ..LibvirtConfig::default()
        };
        let (o, _, _) = Migration::run_at(
            params(4 * GIB, GIB, DowntimePolicy::nova(&cfg, 4)),
            GIB,
            100_000,
        );
        assert!(
            matches!(o, Some(Outcome::Completed { paused: true, post_copy: false, blackout_us }) if blackout_us > 4_000_000)
        );
        let cfg = LibvirtConfig {
            permit_post_copy: true,
            ..cfg
        };
        let (o, _, _) = Migration::run_at(
            params(4 * GIB, GIB, DowntimePolicy::nova(&cfg, 4)),
            GIB,
            100_000,
        );
        assert_eq!(
            o,
            Some(Outcome::Completed {
                blackout_us: 20_000,
                post_copy: true,
                paused: false
            })
        );
    }

    #[test]
    fn block_migration_copies_disks_first_and_bandwidth_changes_replan() {
        let mut p = params(GIB, 0, fixed(300));
        p.disk_bytes = 2 * GIB;
        let (_, total, mig) = Migration::run_at(p.clone(), GIB, 10);
        // 2 s of disk, 1 s of memory, nothing dirty: switchover only.
        assert_eq!(total, 3_000_000 + 20_000);
        assert_eq!(mig.sent_bytes, 3 * GIB);
        // Halving the bandwidth half-way through the disk copy: 1 GiB sent in 1 s, the other
        // GiB of disk takes 2 s at 512 MiB/s, then 1 GiB of memory 2 s.
        let mut m = Migration::start(p);
        m.rebandwidth(1_000_000, GIB);
        let end = m.round_end(GIB / 2);
        assert_eq!(end, 3_000_000);
        assert_eq!(m.finish_round(end, GIB / 2), None);
        assert_eq!(m.round_end(GIB / 2), 5_000_000);
    }
}
