//! Live migration: pre-copy rounds over a shared link, QEMU's switchover rule, Nova's downtime
//! steps and completion timeout, auto-converge and post-copy (production-ha.md §1.2–1.3, §7).
//!
//! A migration is a state machine in integer microseconds and bytes. Rounds follow the
//! Clark/Akoush formulation: round 0 sends the memory M, round i sends what was dirtied during
//! round i − 1, D·Tᵢ₋₁ (capped by the writable working set), so with constant D and R the
//! rounds are Vᵢ = M·(D/R)ⁱ. At a round's end QEMU switches over when the remaining bytes are
//! below bandwidth × downtime limit; the blackout is their copy time plus a constant for device
//! state and announce. Completion times round up to the microsecond.
//!
//! Two ways to drive it, with bit-identical results:
//!
//! * **One event per round**: ask when the current round ends at the current bandwidth
//!   (`round_end`), and at that instant call `finish_round`, which returns the outcome or starts
//!   the next round. If the bandwidth changes first (another migration starts or ends on the
//!   same NIC), `rebandwidth` books the bytes sent so far at the old rate and the caller
//!   re-plans `round_end` at the new one.
//! * **One event per phase** (as long as the rate holds): `plan(rate)` says, without touching
//!   the state, at which elapsed time the pre-copy ends and how ([`Plan::Ends`]), that it never
//!   ends at this rate ([`Plan::Never`]: schedule nothing), or, for a migration that takes more
//!   than [`PLAN_MAX_ROUNDS`] rounds to decide, a checkpoint ([`Plan::Checkpoint`]) at which to
//!   look again. At the planned instant the caller calls `advance_to(at, rate)`, which applies
//!   every round ending at or before `at` exactly as `finish_round` would and returns the
//!   outcome (or, at a checkpoint, usually nothing: plan again). When the bandwidth changes at
//!   `now` mid-phase: `advance_to(now − 1 µs, old_rate)`, then `rebandwidth(now, old_rate)`,
//!   then `plan(new_rate)`.
//!
//! Ties: a round that ends exactly at the instant of a bandwidth change is finished at the new
//! rate (its bytes are all booked by `rebandwidth`, and its end-of-round check sees the new
//! bandwidth), as in the round-by-round driving when the re-share is handled before the
//! round-end event of the same instant. The rounds ending strictly before are finished at the
//! old rate.
//!
//! Neither driving steps through a long stretch of identical rounds one by one when it can be
//! avoided: once the rounds repeat (the same bytes, throttle and auto-converge count every one
//! or two rounds; the sequence of round sizes is monotone at a constant throttle, so this is
//! where a non-converging migration settles) while the downtime limit stays put and the
//! timeout is not reached, `plan` and `advance_to` cross whole periods at once, with the same
//! integer sums a round-by-round loop would add up. A repeating migration whose limit never
//! changes again and that has no timeout (QEMU alone, `DowntimePolicy::Fixed`, with D ≥ R, or
//! Nova with `completion_timeout = 0` past its last step) is [`Plan::Never`].

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

/// Nova's downtime schedule (nova/virt/libvirt/migration.py:871) without a table: step `i` is
/// computed when asked, by the very f64 expressions of [`nova_downtime_steps`], so any
/// `downtime_steps` the scenario reader accepts (up to 2⁴⁰) costs nothing to hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NovaSteps {
    /// The last step's index (`downtime_steps`, at least 1): steps are 0..=last.
    last: u64,
    delay: f64,
    base: f64,
    offset: f64,
}

impl NovaSteps {
    pub fn new(cfg: &LibvirtConfig, data_gb: u64) -> Self {
        let downtime = cfg.downtime_ms as f64;
        let steps = cfg.downtime_steps.max(1);
        let delay = (cfg.downtime_delay_s * data_gb) as f64;
        let base = downtime / steps as f64;
        let offset = (downtime - base) / steps as f64;
        NovaSteps {
            last: steps,
            delay,
            base,
            offset,
        }
    }

    /// Number of steps (`downtime_steps` + 1).
    pub fn count(&self) -> u64 {
        self.last + 1
    }

    /// Step `i` as Nova computes it: `(int(delay·i) s, int(base + offset·i) ms)`.
    pub fn step(&self, i: u64) -> (u64, u64) {
        (self.time_s(i), (self.base + self.offset * i as f64) as u64)
    }

    fn time_s(&self, i: u64) -> u64 {
        (self.delay * i as f64) as u64
    }

    /// Step `i`'s time in µs (saturating: only an absurd schedule reaches u64::MAX µs).
    fn time_us(&self, i: u64) -> u64 {
        self.time_s(i).saturating_mul(US_PER_S)
    }

    /// Step `i`'s limit in µs.
    fn limit_us(&self, i: u64) -> u64 {
        self.step(i).1.saturating_mul(1000)
    }

    /// The step in force `elapsed_us` into the migration: the last one whose time is strictly
    /// below the elapsed time, or is 0. Step times never decrease with `i` (a non-negative f64
    /// times an increasing one, truncated), so the steps that qualify are a prefix and a
    /// binary search finds its end; step 0 (time 0) always qualifies.
    fn index_at(&self, elapsed_us: u64) -> u64 {
        let applies = |i: u64| {
            let t = self.time_us(i);
            t < elapsed_us || t == 0
        };
        let (mut lo, mut hi) = (0, self.last);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if applies(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }
}

/// How the downtime limit evolves while a migration runs. Plain data (`Copy`): building and
/// copying one never allocates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DowntimePolicy {
    /// QEMU alone: one fixed limit (QEMU's default is 300 ms), never gives up.
    Fixed { limit_us: u64 },
    /// Nova's schedule: steps `(time since start, limit)`, applied once elapsed time exceeds
    /// a step's time, plus a completion timeout.
    Nova {
        steps: NovaSteps,
        timeout_us: Option<u64>,
        action: TimeoutAction,
        post_copy: bool,
    },
}

/// Nova's `downtime_steps` (nova/virt/libvirt/migration.py:871) for `data_gb`: steps+1 pairs
/// `(int(delay·i) s, int(base + offset·i) ms)` with base = downtime/steps and
/// offset = (downtime − base)/steps, delay = int(downtime_delay · data_gb).
pub fn nova_downtime_steps(cfg: &LibvirtConfig, data_gb: u64) -> Vec<(u64, u64)> {
    let steps = NovaSteps::new(cfg, data_gb);
    (0..steps.count()).map(|i| steps.step(i)).collect()
}

/// Nova's `_live_migration_data_gb`: RAM plus block-migrated disks, each floored at 2 GiB.
pub fn nova_data_gb(ram_gib: u64, block_disk_gib: Option<u64>) -> u64 {
    ram_gib.max(2) + block_disk_gib.map(|d| d.max(2)).unwrap_or(0)
}

impl DowntimePolicy {
    pub fn nova(cfg: &LibvirtConfig, data_gb: u64) -> Self {
        DowntimePolicy::Nova {
            steps: NovaSteps::new(cfg, data_gb),
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
            DowntimePolicy::Nova { steps, .. } => steps.limit_us(steps.index_at(elapsed_us)),
        }
    }

    /// The last elapsed time (inclusive) up to which a round ending at or after `elapsed_us`
    /// sees the same limit as at `elapsed_us` and is not past the completion timeout; None if
    /// that holds forever.
    fn steady_until(&self, elapsed_us: u64) -> Option<u64> {
        match self {
            DowntimePolicy::Fixed { .. } => None,
            DowntimePolicy::Nova {
                steps, timeout_us, ..
            } => {
                // The next step applies only once elapsed time exceeds its time (and it is not
                // 0, or it would apply already).
                let i = steps.index_at(elapsed_us);
                let next_step = (i < steps.last).then(|| steps.time_us(i + 1));
                match (next_step, *timeout_us) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }
}

/// One migration's inputs. Plain data (`Copy`): no heap behind it.
#[derive(Clone, Copy, Debug, PartialEq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Rounds `plan` steps through one by one before it hands back a [`Plan::Checkpoint`]
/// instead of an answer. Runs of identical rounds are crossed in one go and do not count, so
/// only a migration whose rounds still shrink after this many (D just below R) gets there.
pub const PLAN_MAX_ROUNDS: u32 = 1024;

/// What a migration does from its current state if the rate holds (see [`Migration::plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The pre-copy ends `at_us` into the migration (the round end at which `finish_round`
    /// returns `outcome`), having sent `sent_bytes` in all (as `sent_bytes` will then read).
    /// The blackout of a completion comes after `at_us`.
    Ends {
        at_us: u64,
        outcome: Outcome,
        sent_bytes: u64,
    },
    /// Still undecided after [`PLAN_MAX_ROUNDS`] rounds, the last of which ends at `at_us`:
    /// call `advance_to(at_us, rate)` then, and plan again.
    Checkpoint { at_us: u64 },
    /// Never ends at this rate: the rounds repeat, the limit will not change and there is no
    /// timeout to reach (QEMU alone with D ≥ R, say). Nothing to schedule.
    Never,
}

/// A migration in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    pub params: MigrationParams,
    /// Elapsed time at the start of the current phase/round.
    pub round_start_us: u64,
    /// Bytes the current round must still send, as of `booked_at_us`.
    pub remaining_bytes: u64,
    pub booked_at_us: u64,
    /// Bytes the current round had to send when it started.
    pub round_bytes: u64,
    /// Rounds started after the first (the memory phase's first round counts when disks
    /// came before it).
    pub round: u32,
    /// Copying local disks (before memory).
    pub in_disk_phase: bool,
    pub throttle_pct: u64,
    over_threshold: u32,
    pub sent_bytes: u64,
    /// Memory pre-copy rounds whose end was reached, the one that ended the migration included.
    pub rounds_completed: u32,
    /// Once `finish_round` has returned an outcome: the elapsed time and the outcome.
    ended: Option<(u64, Outcome)>,
}

/// µs to send `bytes` at `rate` bytes/s, rounded up.
pub fn send_time_us(bytes: u64, rate: u64) -> u64 {
    if bytes == 0 {
        return 0;
    }
    let rate = rate.max(1);
    match bytes.checked_mul(1_000_000) {
        // The common case in 64 bits (any size below 18 TB): a 128-bit division costs more.
        Some(b) => b.div_ceil(rate),
        None => ((bytes as u128 * 1_000_000).div_ceil(rate as u128)) as u64,
    }
}

/// `a · b / 10⁶`, truncated (bytes sent at a rate over µs, bytes dirtied, a threshold), in 64
/// bits when the product fits.
fn mul_div_1e6(a: u64, b: u64) -> u64 {
    match a.checked_mul(b) {
        Some(p) => p / 1_000_000,
        None => ((a as u128 * b as u128) / 1_000_000) as u64,
    }
}

/// Why `Migration::drive` stopped.
enum Stop {
    Ended(u64, Outcome),
    /// The next round ends after the time asked for.
    Reached,
    /// Stepped through the rounds allowed.
    Budget,
    /// The rounds repeat forever.
    Never,
}

/// The state at the start of a full memory round, and what decides every later round.
#[derive(Clone, Copy)]
struct Mark {
    key: (u64, u64, u32),
    at_us: u64,
    sent_bytes: u64,
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
            rounds_completed: 0,
            ended: None,
        }
    }

    /// When (elapsed µs) the current round ends if `rate` holds.
    pub fn round_end(&self, rate: u64) -> u64 {
        self.booked_at_us + send_time_us(self.remaining_bytes, rate)
    }

    /// The bandwidth changes at `elapsed_us`: book what was sent at the old `rate`.
    pub fn rebandwidth(&mut self, elapsed_us: u64, old_rate: u64) {
        let dt = elapsed_us.saturating_sub(self.booked_at_us);
        let sent = mul_div_1e6(dt, old_rate);
        let sent = sent.min(self.remaining_bytes);
        self.remaining_bytes -= sent;
        self.sent_bytes = self.sent_bytes.saturating_add(sent);
        self.booked_at_us = elapsed_us;
    }

    /// The elapsed time and outcome once the migration has ended (`finish_round` returned it).
    pub fn ended(&self) -> Option<(u64, Outcome)> {
        self.ended
    }

    fn effective_dirty_rate(&self) -> u64 {
        self.params.dirty_bytes_per_s * (100 - self.throttle_pct) / 100
    }

    /// The current round ended at `elapsed_us` (= `round_end(rate)`). Returns the outcome if
    /// the migration ends here, or None after starting the next round.
    pub fn finish_round(&mut self, elapsed_us: u64, rate: u64) -> Option<Outcome> {
        let outcome = self.end_round(elapsed_us, rate);
        if let Some(o) = outcome {
            self.ended = Some((elapsed_us, o));
        }
        outcome
    }

    fn end_round(&mut self, elapsed_us: u64, rate: u64) -> Option<Outcome> {
        self.sent_bytes = self.sent_bytes.saturating_add(self.remaining_bytes);
        let duration_us = elapsed_us - self.round_start_us;
        if self.in_disk_phase {
            // Disks done; memory pre-copy starts (pages dirtied meanwhile are not tracked yet).
            self.in_disk_phase = false;
            return self.next_round(elapsed_us, self.params.memory_bytes);
        }
        self.rounds_completed = self.rounds_completed.saturating_add(1);
        let dirty_rate = self.effective_dirty_rate();
        let mut dirty = mul_div_1e6(dirty_rate, duration_us);
        if let Some(w) = self.params.wws_bytes {
            dirty = dirty.min(w);
        }
        dirty = dirty.min(self.params.memory_bytes);
        // QEMU: switch over when what is left fits in the downtime limit at this bandwidth.
        let limit = self.params.downtime.limit_us(elapsed_us);
        let threshold = mul_div_1e6(rate, limit);
        if dirty < threshold || dirty == 0 {
            let blackout_us = send_time_us(dirty, rate) + self.params.switchover_us;
            self.sent_bytes = self.sent_bytes.saturating_add(dirty);
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
        } = self.params.downtime
        {
            if elapsed_us > t {
                return Some(match action {
                    TimeoutAction::Abort => Outcome::Aborted,
                    // Post-copy: pause only for device state; pages follow on demand.
                    TimeoutAction::ForceComplete if post_copy => {
                        self.sent_bytes = self.sent_bytes.saturating_add(dirty);
                        Outcome::Completed {
                            blackout_us: self.params.switchover_us,
                            post_copy: true,
                            paused: false,
                        }
                    }
                    // Without post-copy Nova pauses the VM so the copy can finish.
                    TimeoutAction::ForceComplete => {
                        self.sent_bytes = self.sent_bytes.saturating_add(dirty);
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
        self.round = self.round.saturating_add(1);
        self.round_start_us = elapsed_us;
        self.booked_at_us = elapsed_us;
        self.remaining_bytes = bytes;
        self.round_bytes = bytes;
        None
    }

    /// What repeated `round_end`/`finish_round` at a constant `rate` would do from the current
    /// state, without changing it (and without allocating): see [`Plan`]. Costs at most
    /// [`PLAN_MAX_ROUNDS`] rounds of arithmetic plus a few per downtime step. On a migration
    /// that has ended, the end it had.
    pub fn plan(&self, rate: u64) -> Plan {
        self.plan_ahead(rate).0
    }

    /// [`plan`](Self::plan), and the state the migration will be in at the planned instant:
    /// on [`Plan::Ends`] it equals what `advance_to(at_us, rate)` would leave (the same rounds
    /// with the same integer sums), so a caller whose rate held can adopt it instead of
    /// computing the rounds a second time.
    pub fn plan_ahead(&self, rate: u64) -> (Plan, Migration) {
        let mut m = self.clone();
        let plan = match m.drive(rate, None, PLAN_MAX_ROUNDS) {
            Stop::Ended(at_us, outcome) => Plan::Ends {
                at_us,
                outcome,
                sent_bytes: m.sent_bytes,
            },
            Stop::Budget => Plan::Checkpoint {
                at_us: m.booked_at_us,
            },
            Stop::Never => Plan::Never,
            Stop::Reached => unreachable!("planning has no time limit"),
        };
        (plan, m)
    }

    /// Applies, at a constant `rate`, every round that ends at or before `elapsed_us`, with
    /// `finish_round`'s arithmetic at each round end. Returns the elapsed time and outcome of
    /// the round end that ends the migration if it comes at or before `elapsed_us` (the state
    /// is then the ended one, and further calls return the same); None if the migration is
    /// still running, the current round ending after `elapsed_us`. It books nothing of that
    /// unfinished round: a bandwidth change at `elapsed_us` calls `rebandwidth` next.
    pub fn advance_to(&mut self, elapsed_us: u64, rate: u64) -> Option<(u64, Outcome)> {
        loop {
            match self.drive(rate, Some(elapsed_us), u32::MAX) {
                Stop::Ended(at, outcome) => return Some((at, outcome)),
                Stop::Reached => return None,
                Stop::Budget => continue,
                Stop::Never => unreachable!("a time limit bounds repeating rounds"),
            }
        }
    }

    fn mark(&self) -> Mark {
        debug_assert!(self.remaining_bytes == self.round_bytes && !self.in_disk_phase);
        Mark {
            key: (self.round_bytes, self.throttle_pct, self.over_threshold),
            at_us: self.round_start_us,
            sent_bytes: self.sent_bytes,
        }
    }

    /// Finishes, at `rate`, the rounds that end at or before `until` (None: no limit), stepping
    /// through at most `budget` of them one by one.
    ///
    /// Every full memory round is decided by its start state (`Mark::key`) and by the limit
    /// and timeout at its end. When the state at a round start equals the one two round
    /// starts back, the last two rounds repeat from here on for as long as their checks see
    /// the same limit and no timeout, i.e. while round ends stay within
    /// `DowntimePolicy::steady_until` of the first of them (both of those checks failed, or
    /// the migration would have ended): whole periods up to that bound (or `until`) are then
    /// added at once. With neither bound the migration never ends.
    fn drive(&mut self, rate: u64, until: Option<u64>, budget: u32) -> Stop {
        // Marks of the last two full memory round starts, oldest first.
        let mut marks: [Option<Mark>; 2] = [None, None];
        let mut stepped = 0;
        loop {
            if let Some((at, outcome)) = self.ended {
                return Stop::Ended(at, outcome);
            }
            let end = self.round_end(rate);
            if until.is_some_and(|u| end > u) {
                return Stop::Reached;
            }
            if stepped == budget {
                return Stop::Budget;
            }
            stepped += 1;
            let memory_round = !self.in_disk_phase;
            if let Some(outcome) = self.finish_round(end, rate) {
                return Stop::Ended(end, outcome);
            }
            if !memory_round {
                continue;
            }
            let now = self.mark();
            match marks {
                [Some(old), Some(mid)] if old.key == now.key => {
                    let bound = match (self.params.downtime.steady_until(mid.at_us), until) {
                        (Some(a), Some(b)) => a.min(b),
                        (Some(a), None) | (None, Some(a)) => a,
                        (None, None) => return Stop::Never,
                    };
                    // Both rounds of a period send something (an empty one ends the
                    // migration), so the period is at least 2 µs.
                    let period_us = now.at_us - old.at_us;
                    let periods = bound.saturating_sub(now.at_us) / period_us;
                    if periods > 0 {
                        let at = now.at_us + periods * period_us;
                        self.round_start_us = at;
                        self.booked_at_us = at;
                        // Saturating: a migration that never converges at an absurd link speed
                        // could pass 2⁶⁴ bytes over a long horizon.
                        let per_period = now.sent_bytes - old.sent_bytes;
                        self.sent_bytes = self
                            .sent_bytes
                            .saturating_add(periods.saturating_mul(per_period));
                        let rounds = u32::try_from(2 * periods).unwrap_or(u32::MAX);
                        self.round = self.round.saturating_add(rounds);
                        self.rounds_completed = self.rounds_completed.saturating_add(rounds);
                    }
                    marks = [None, None];
                }
                [_, mid] => marks = [mid, Some(now)],
            }
        }
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

    /// The bytes each memory pre-copy round had to send, driving round by round at `rate`.
    fn round_sizes(p: MigrationParams, rate: u64, max_rounds: u32) -> Vec<u64> {
        let mut m = Migration::start(p);
        let mut sizes = Vec::new();
        for _ in 0..max_rounds {
            let end = m.round_end(rate);
            if !m.in_disk_phase {
                sizes.push(m.round_bytes);
            }
            if m.finish_round(end, rate).is_some() {
                break;
            }
        }
        sizes
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
        assert_eq!(
            round_sizes(params(m, d, fixed(300)), r, 100),
            vec![4 * GIB, GIB]
        );
        assert_eq!(mig.rounds_completed, 2);
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
        assert_eq!(round_sizes(params(m, r / 2, fixed(10)), r, 100), expected);
        assert_eq!(mig.rounds_completed, 8);
        let pre: u64 = expected.iter().map(|v| send_time_us(*v, r)).sum();
        let blackout = send_time_us(m >> 8, r) + 20_000;
        assert_eq!(total, pre + blackout);
        assert!(matches!(outcome, Some(Outcome::Completed { .. })));
    }

    #[test]
    fn dirtying_as_fast_as_the_link_never_converges_under_qemu() {
        let (outcome, _, mig) = Migration::run_at(params(4 * GIB, GIB, fixed(300)), GIB, 1000);
        assert_eq!(outcome, None, "QEMU alone never gives up");
        let rounds = round_sizes(params(4 * GIB, GIB, fixed(300)), GIB, 1000);
        assert_eq!(rounds.len(), 1000);
        assert!(rounds.iter().all(|v| *v == 4 * GIB));
        assert_eq!(mig.plan(GIB), Plan::Never, "and planning says so");
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
        let (_, total, mig) = Migration::run_at(p, GIB, 10);
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

    // ---- One event per phase: `plan` and `advance_to` against round-by-round driving ----

    const MIB: u64 = 1 << 20;

    /// The end of a migration as both drivings must see it: (elapsed µs at the final round
    /// end, outcome, bytes sent in all).
    type End = (u64, Outcome, u64);

    /// splitmix64: a deterministic stream for generated cases.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in lo..=hi.
        fn range(&mut self, lo: u64, hi: u64) -> u64 {
            lo + self.next() % (hi - lo + 1)
        }

        fn chance(&mut self, pct: u64) -> bool {
            self.next() % 100 < pct
        }
    }

    /// 100 MiB/s to 25 Gbit/s, with the usual links more often than not.
    fn gen_rate(g: &mut Gen) -> u64 {
        const LINKS: [u64; 5] = [100 * MIB, GIB, 1_250_000_000, 1_562_500_000, 3_125_000_000];
        if g.chance(40) {
            LINKS[g.range(0, 4) as usize]
        } else {
            g.range(100 * MIB, 3_125_000_000)
        }
    }

    /// A migration's inputs at link rate `rate`: 1–64 GiB of memory, disks or not, dirtying
    /// from 0 to 1.5× the link, with or without a writable working set, QEMU's fixed limit or
    /// Nova's schedule with abort, force-complete (pausing or post-copy), auto-converge.
    fn gen_params(g: &mut Gen, rate: u64) -> MigrationParams {
        let memory_bytes = if g.chance(50) {
            g.range(1, 64) * GIB
        } else {
            g.range(GIB, 64 * GIB)
        };
        let disk_bytes = if g.chance(70) {
            0
        } else {
            g.range(1, 100) * GIB
        };
        let dirty_bytes_per_s = match g.range(0, 9) {
            0 => 0,
            1 => rate,
            // Just below the link: thousands of slowly shrinking rounds.
            2 => rate - rate / g.range(200, 2000),
            _ => rate * g.range(0, 150) / 100 + g.range(0, MIB),
        };
        let wws_bytes = g
            .chance(50)
            .then(|| g.range(16 * MIB, memory_bytes.max(16 * MIB)));
        let data_gb = nova_data_gb(
            memory_bytes / GIB,
            (disk_bytes > 0).then_some(disk_bytes / GIB),
        );
        let downtime = if g.chance(30) {
            DowntimePolicy::Fixed {
                limit_us: g.range(0, 1_000_000),
            }
        } else {
            let cfg = LibvirtConfig {
                downtime_ms: g.range(0, 1000),
                downtime_steps: g.range(1, 20),
                downtime_delay_s: g.range(0, 150),
                // Short timeouts mostly, so that the round-by-round reference stays quick.
                completion_timeout_s: match g.range(0, 9) {
                    0 => 0,
                    1 => 800,
                    _ => g.range(1, 30),
                },
                timeout_action: if g.chance(50) {
                    TimeoutAction::Abort
                } else {
                    TimeoutAction::ForceComplete
                },
                permit_post_copy: g.chance(50),
                ..LibvirtConfig::default()
            };
            DowntimePolicy::nova(&cfg, data_gb)
        };
        MigrationParams {
            memory_bytes,
            disk_bytes,
            dirty_bytes_per_s,
            wws_bytes,
            downtime,
            auto_converge: g.chance(40),
            switchover_us: g.range(0, 100_000),
        }
    }

    /// Round by round, as the engine drives it today: a round-end event at `round_end`, and at
    /// each `(instant, new rate)` change, `rebandwidth` then a new round end. A round ending at
    /// the instant of a change is finished first (the tie rule); `ties` counts those. None if
    /// it has not ended after `max_rounds` round ends.
    fn by_rounds(
        m: &mut Migration,
        mut rate: u64,
        changes: &[(u64, u64)],
        max_rounds: u64,
        ties: &mut u32,
    ) -> Option<End> {
        let mut changes = changes.iter().peekable();
        let mut rounds = 0;
        while rounds < max_rounds {
            let end = m.round_end(rate);
            if let Some(&&(t, new_rate)) = changes.peek() {
                if t == end {
                    *ties += 1;
                }
                if t < end {
                    m.rebandwidth(t, rate);
                    rate = new_rate;
                    changes.next();
                    continue;
                }
            }
            rounds += 1;
            if let Some(o) = m.finish_round(end, rate) {
                return Some((end, o, m.sent_bytes));
            }
        }
        None
    }

    /// One event per phase, as the engine is to drive it: `plan`, an event at the planned end
    /// or checkpoint unless a bandwidth change comes first (a tie goes to the planned event),
    /// and at a change `advance_to` + `rebandwidth` and plan again. None: `Plan::Never` with no
    /// change left. Checks on the way that `advance_to` agrees with what `plan` announced.
    fn by_phase(m: &mut Migration, mut rate: u64, changes: &[(u64, u64)]) -> Option<End> {
        let mut changes = changes.iter().peekable();
        loop {
            let next_change = changes.peek().map(|c| c.0);
            let before_change = |at: u64| next_change.is_none_or(|t| at <= t);
            match m.plan(rate) {
                Plan::Ends {
                    at_us,
                    outcome,
                    sent_bytes,
                } if before_change(at_us) => {
                    assert_eq!(m.advance_to(at_us, rate), Some((at_us, outcome)));
                    assert_eq!(m.sent_bytes, sent_bytes);
                    assert_eq!(m.ended(), Some((at_us, outcome)));
                    return Some((at_us, outcome, sent_bytes));
                }
                Plan::Checkpoint { at_us } if before_change(at_us) => {
                    assert!(at_us > m.booked_at_us);
                    if let Some((at, o)) = m.advance_to(at_us, rate) {
                        return Some((at, o, m.sent_bytes));
                    }
                }
                Plan::Never if next_change.is_none() => return None,
                plan => {
                    let &(t, new_rate) = changes.next().expect("a change comes first");
                    let ended = m.advance_to(t, rate);
                    assert_eq!(ended, None, "{plan:?} said nothing ends by {t}");
                    m.rebandwidth(t, rate);
                    rate = new_rate;
                }
            }
        }
    }

    /// Round ends a round-by-round reference may take. Phase driving crosses repeating rounds
    /// in one go, so it can answer cases the reference cannot (1 µs rounds for hours before a
    /// downtime step): those count as unverified, and are checked only as far as the reference
    /// got (it has not ended where phase driving says it has not).
    const REFERENCE_ROUNDS: u64 = 1_000_000;

    /// Compares phase driving with round-by-round driving on `m` at `rate` with `changes`.
    /// Says whether both ended alike, both never end, or the reference could not follow.
    fn compare_drivings(
        p: MigrationParams,
        rate: u64,
        changes: &[(u64, u64)],
        ties: &mut u32,
        what: &str,
    ) -> Verdict {
        let mut by_plan = Migration::start(p);
        let phase = by_phase(&mut by_plan, rate, changes);
        let mut by_round = Migration::start(p);
        let reference = by_rounds(&mut by_round, rate, changes, REFERENCE_ROUNDS, ties);
        match (phase, reference) {
            (Some(end), Some(reference)) => {
                assert_eq!(reference, end, "{what}");
                assert_eq!(by_round, by_plan, "{what}: the same final state");
                Verdict::Ends
            }
            (None, None) => Verdict::Never,
            (Some((at, ..)), None) => {
                assert!(
                    by_round.booked_at_us < at,
                    "{what}: the reference got past {at}"
                );
                Verdict::Unverified
            }
            (None, Some(reference)) => {
                panic!("{what}: never, but the reference ends {reference:?}")
            }
        }
    }

    #[derive(Debug, PartialEq)]
    enum Verdict {
        Ends,
        Never,
        Unverified,
    }

    /// `plan` at a constant rate from the start gives exactly what a round-by-round loop ends
    /// with (elapsed time of the final round end, outcome, bytes sent, and the whole final
    /// state), or `Plan::Never` for a migration that the loop cannot end either; a plan that
    /// needs checkpoints gets there through them.
    #[test]
    fn plan_equals_round_by_round_driving() {
        let mut g = Gen(0x5eed_0001);
        let (mut ends, mut nevers, mut unverified, mut checkpoints) = (0, 0, 0, 0);
        for case in 0..2000 {
            let rate = gen_rate(&mut g);
            let p = gen_params(&mut g, rate);
            let start = Migration::start(p);
            if matches!(start.plan(rate), Plan::Checkpoint { .. }) {
                checkpoints += 1;
            }
            assert_eq!(start, Migration::start(p), "plan leaves the state alone");
            let what = format!("case {case}: {p:?} at {rate}");
            match compare_drivings(p, rate, &[], &mut 0, &what) {
                Verdict::Ends => ends += 1,
                Verdict::Never => nevers += 1,
                Verdict::Unverified => unverified += 1,
            }
        }
        // The generator covers every kind of answer, and the reference can follow nearly all.
        assert!(
            ends > 1500 && nevers > 20 && checkpoints > 0 && unverified < 100,
            "ends {ends}, never {nevers}, checkpoints {checkpoints}, unverified {unverified}"
        );
    }

    /// With bandwidth changes at arbitrary instants (1 to 3 of them, to rates anywhere from
    /// 100 MiB/s to 25 Gbit/s), round-by-round driving with `rebandwidth` and phase driving
    /// with `advance_to` + `rebandwidth` + `plan` end identically, final state included. The
    /// instants are drawn at random, so they practically never tie with a round end (ties,
    /// counted in the message, follow the same rule in both drivings).
    #[test]
    fn bandwidth_changes_mid_phase_agree_with_round_by_round_driving() {
        let mut g = Gen(0x5eed_0002);
        let (mut ends, mut nevers, mut unverified, mut ties) = (0, 0, 0, 0);
        for case in 0..2000 {
            let rate = gen_rate(&mut g);
            let p = gen_params(&mut g, rate);
            // Changes spread over the migration's undisturbed length (or 100 s).
            let span = match Migration::start(p).plan(rate) {
                Plan::Ends { at_us, .. } => at_us,
                _ => 100 * US_PER_S,
            };
            let mut changes: Vec<(u64, u64)> = (0..g.range(1, 3))
                .map(|_| (g.range(0, span + span / 4), gen_rate(&mut g)))
                .collect();
            changes.sort_unstable();
            changes.dedup_by_key(|c| c.0);
            let what = format!("case {case}: {p:?} at {rate}, {changes:?}");
            match compare_drivings(p, rate, &changes, &mut ties, &what) {
                Verdict::Ends => ends += 1,
                Verdict::Never => nevers += 1,
                Verdict::Unverified => unverified += 1,
            }
        }
        assert!(
            ends > 1500 && nevers > 20 && unverified < 100,
            "ends {ends}, never {nevers}, unverified {unverified}, ties {ties}"
        );
    }

    /// Dirtying just below the link shrinks the rounds by 0.1 % each: 11,000 rounds before
    /// 64 GiB get below 1 ms at 1 GiB/s. `plan` hands out checkpoints (each no more than
    /// `PLAN_MAX_ROUNDS` rounds of work) and, followed through them, ends exactly where the
    /// rounds one by one do.
    #[test]
    fn slow_convergence_is_planned_through_checkpoints() {
        let p = params(64 * GIB, GIB - GIB / 1000, fixed(1));
        let m = Migration::start(p);
        let Plan::Checkpoint { at_us } = m.plan(GIB) else {
            panic!("{:?}", m.plan(GIB))
        };
        let mut ahead = m.clone();
        assert_eq!(ahead.advance_to(at_us, GIB), None);
        assert_eq!(ahead.rounds_completed, PLAN_MAX_ROUNDS);
        let mut by_plan = m.clone();
        let mut by_round = m.clone();
        let end = by_phase(&mut by_plan, GIB, &[]);
        assert_eq!(by_rounds(&mut by_round, GIB, &[], 100_000, &mut 0), end);
        assert_eq!(by_round, by_plan);
        assert!(
            by_round.rounds_completed > 10_000,
            "{}",
            by_round.rounds_completed
        );
    }

    /// `advance_to` leaves exactly the state that finishing each round would, wherever it
    /// stops, including far out in a migration that never ends (where it crosses the
    /// repeating rounds in one go).
    #[test]
    fn advance_to_applies_the_rounds_up_to_an_instant() {
        let mut g = Gen(0x5eed_0003);
        for case in 0..1000 {
            let rate = gen_rate(&mut g);
            let p = gen_params(&mut g, rate);
            let at = g.range(0, 200 * US_PER_S);
            let mut stepped = Migration::start(p);
            let mut expect = None;
            for _ in 0..REFERENCE_ROUNDS {
                let end = stepped.round_end(rate);
                if end > at {
                    break;
                }
                if let Some(o) = stepped.finish_round(end, rate) {
                    expect = Some((end, o));
                    break;
                }
            }
            if expect.is_none() && stepped.round_end(rate) <= at {
                continue; // beyond the reference
            }
            let mut advanced = Migration::start(p);
            assert_eq!(advanced.advance_to(at, rate), expect, "case {case}");
            assert_eq!(advanced, stepped, "case {case}");
            // Idempotent, and a no-op once ended.
            assert_eq!(advanced.advance_to(at, rate), expect, "case {case}");
            assert_eq!(advanced, stepped, "case {case}");
        }
    }

    /// The tie rule: a round that ends at the very instant the bandwidth changes is finished
    /// at the old rate first. Here that round ends the migration; processing the change first
    /// instead (the other event order) would judge the switchover at the new, halved rate and
    /// miss it.
    #[test]
    fn a_round_ending_at_a_bandwidth_change_is_finished_at_the_old_rate() {
        // The geometric-series case: rounds end at 4 s and at 5 s, where QEMU switches over.
        let p = params(4 * GIB, GIB / 4, fixed(300));
        let (r, t) = (GIB, 5_000_000);
        let blackout = send_time_us(256 << 20, r) + 20_000;
        let done = Outcome::Completed {
            blackout_us: blackout,
            post_copy: false,
            paused: false,
        };
        let mut phase = Migration::start(p);
        assert_eq!(
            phase.plan(r),
            Plan::Ends {
                at_us: t,
                outcome: done,
                sent_bytes: 5 * GIB + GIB / 4
            }
        );
        assert_eq!(
            phase.advance_to(t, r),
            Some((t, done)),
            "ends at the change"
        );
        let mut ties = 0;
        let mut round = Migration::start(p);
        let end = by_rounds(&mut round, r, &[(t, r / 2)], 100, &mut ties);
        assert_eq!(ties, 1);
        assert_eq!(end, Some((t, done, 5 * GIB + GIB / 4)));
        assert_eq!(round, phase);
        // The other order: re-share first, then the round end at the new rate.
        let mut other = Migration::start(p);
        assert_eq!(other.advance_to(t - 1, r), None);
        other.rebandwidth(t, r);
        assert_eq!(other.round_end(r / 2), t);
        assert_eq!(other.finish_round(t, r / 2), None, "256 MiB > 153.6 MiB");
    }

    /// A migration that can never end at its rate is `Plan::Never` rather than a loop: QEMU
    /// alone with D ≥ R, or Nova without a completion timeout once past its last step; with a
    /// timeout the same migration is planned to its abort, however many rounds away.
    #[test]
    fn plan_says_never_instead_of_looping() {
        let hot = |downtime| params(4 * GIB, GIB, downtime);
        assert_eq!(Migration::start(hot(fixed(300))).plan(GIB), Plan::Never);
        let no_timeout = LibvirtConfig {
            completion_timeout_s: 0,
            ..LibvirtConfig::default()
        };
        let m = Migration::start(hot(DowntimePolicy::nova(&no_timeout, 4)));
        assert_eq!(m.plan(GIB), Plan::Never);
        // It still moves on: far beyond the last step (3000 s), in one call.
        let mut far = m.clone();
        assert_eq!(far.advance_to(1_000_000 * US_PER_S, GIB), None);
        assert_eq!(
            far.rounds_completed as u64,
            1_000_000 * US_PER_S / 4_000_000
        );
        let m = Migration::start(hot(DowntimePolicy::nova(&LibvirtConfig::default(), 4)));
        let (outcome, _, reference) = Migration::run_at(hot(m.params.downtime), GIB, 100_000);
        assert_eq!(outcome, Some(Outcome::Aborted));
        assert_eq!(
            m.plan(GIB),
            Plan::Ends {
                at_us: reference.ended().unwrap().0,
                outcome: Outcome::Aborted,
                sent_bytes: reference.sent_bytes
            }
        );
    }

    /// Millions of microsecond rounds (10 bytes dirtied per 1 µs round once the first 2 s
    /// round and a few shrinking ones are done; nothing fits a 0 ms limit) are crossed a
    /// downtime step at a time: `plan` answers without a checkpoint, and exactly as the 2
    /// million rounds one by one do, when the 1 ms step arrives after 4 s.
    #[test]
    fn repeating_rounds_are_crossed_a_downtime_step_at_a_time() {
        let cfg = LibvirtConfig {
            // Steps int(0.5 + 0.45·i) ms: 0, 0, 1, … ms at 0, 2, 4, … s (delay 1 s × 2 GB).
            downtime_ms: 5,
            downtime_delay_s: 1,
            ..LibvirtConfig::default()
        };
        let p = params(2 * GIB, 10 * MIB, DowntimePolicy::nova(&cfg, 2));
        let plan = Migration::start(p).plan(GIB);
        let mut ties = 0;
        let mut round = Migration::start(p);
        let (at, outcome, sent) =
            by_rounds(&mut round, GIB, &[], 3_000_000, &mut ties).expect("ends");
        assert!(
            round.rounds_completed > 1_900_000,
            "{}",
            round.rounds_completed
        );
        assert_eq!(at, 4_000_001, "the first round end past 4 s");
        assert_eq!(
            plan,
            Plan::Ends {
                at_us: at,
                outcome,
                sent_bytes: sent
            }
        );
        let mut phase = Migration::start(p);
        assert_eq!(phase.advance_to(at, GIB), Some((at, outcome)));
        assert_eq!(phase, round);
    }

    /// `DowntimePolicy::nova` computes each step on demand, with the same integers as the
    /// table `nova_downtime_steps` gives and the same rule (last step strictly below the
    /// elapsed time) as a scan of that table.
    #[test]
    fn nova_limits_match_the_step_table() {
        let mut g = Gen(0x5eed_0004);
        for _ in 0..2000 {
            let cfg = LibvirtConfig {
                downtime_ms: g.range(0, 5000),
                downtime_steps: g.range(1, 60),
                downtime_delay_s: g.range(0, 300),
                ..LibvirtConfig::default()
            };
            let data_gb = g.range(2, 200);
            let table: Vec<(u64, u64)> = nova_downtime_steps(&cfg, data_gb)
                .into_iter()
                .map(|(t, ms)| (t * US_PER_S, ms * 1000))
                .collect();
            let scan = |elapsed: u64| {
                let mut limit = table[0].1;
                for &(t, l) in &table {
                    if t < elapsed || t == 0 {
                        limit = l;
                    }
                }
                limit
            };
            let policy = DowntimePolicy::nova(&cfg, data_gb);
            let mut probes = vec![0, 1, u64::MAX / 2];
            for &(t, _) in &table {
                probes.extend([t.saturating_sub(1), t, t + 1]);
            }
            probes.push(g.range(0, table.last().unwrap().0 + 1));
            for e in probes {
                assert_eq!(policy.limit_us(e), scan(e), "{cfg:?} {data_gb} at {e}");
            }
        }
        // Any step count the scenario reader accepts (up to 2⁴⁰) costs no memory.
        let huge = LibvirtConfig {
            downtime_steps: 1 << 40,
            ..LibvirtConfig::default()
        };
        let policy = DowntimePolicy::nova(&huge, 4);
        let steps = NovaSteps::new(&huge, 4);
        assert_eq!(steps.count(), (1 << 40) + 1);
        for i in [0, 1, 1000, 1 << 20] {
            let (t, ms) = steps.step(i);
            assert_eq!(policy.limit_us(t * US_PER_S + 1), ms * 1000, "step {i}");
        }
        let no_delay = LibvirtConfig {
            downtime_delay_s: 0,
            ..huge
        };
        let policy = DowntimePolicy::nova(&no_delay, 4);
        assert_eq!(
            policy.limit_us(1),
            500_000,
            "all steps at 0 s: the last applies"
        );
    }

    /// Migration inputs are plain data, so cloning a migration (as `plan` does) never
    /// allocates; nothing in the state grows per round.
    #[test]
    fn migration_inputs_are_plain_data() {
        fn plain<T: Copy>() {}
        plain::<MigrationParams>();
        plain::<DowntimePolicy>();
        plain::<Outcome>();
        plain::<Plan>();
    }
}
