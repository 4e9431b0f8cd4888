//! An external controller as a policy: one process per replication, driven in lock-step over
//! JSON lines (`protocol`) under virtual time. It receives each instant's observations as one
//! step, reads the inventory and runs commands through the cloud's synchronous API while the
//! step lasts, and ends it with more commands. Its timers are hasim's timers, mapped to its
//! own tokens, so none outlives the process that set it.
//!
//! A controller that exits, breaks the protocol, or writes what is not a protocol line has
//! crashed; `on_crash` says what that is (`policy::external::OnCrash`). One that does not
//! answer within `step_timeout` (wall clock) stops the run: a wall-clock guard must never
//! change a result, so it cannot be a modelled outage.

mod process;
pub mod protocol;

use crate::policy::api::{
    Cloud, Command, ControllerStats, Inventory, InventorySnapshot, Observation, Policy,
};
use crate::policy::external::{ExternalConfig, OnCrash};
use process::{Process, Read, WriteError};
use protocol::{Answer, FromController, Query, ToController, PROTOCOL_VERSION};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What one of hasim's timer tokens stands for.
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// The controller's own timer `token`, set by the process of generation `generation`.
    Controller { generation: u32, token: u64 },
    /// Start the controller again (`on_crash = "restart"`).
    Restart { generation: u32 },
}

/// Most queries and commands in one step: 1,000,000. An engineering limit, above a query per
/// server of the largest fleet a step could need; past it the controller is looping.
const MAX_REQUESTS_PER_STEP: u64 = 1_000_000;

/// Most restarts in one replication: 1,000. An engineering limit: a controller that needs more
/// is crashing at start-up, not modelling an outage.
const MAX_RESTARTS: u64 = 1_000;

/// Who the controller is talking to, for `hello`.
pub struct RunContext {
    pub scenario: String,
    pub seed: u64,
    pub replication: u32,
}

pub struct ExternalPolicy {
    cfg: ExternalConfig,
    ctx: RunContext,
    config: serde_json::Value,
    dir: PathBuf,
    /// A private directory to remove at the end (no output set).
    temporary: bool,
    process: Option<Process>,
    /// Bumped at every start; timers of older generations are dropped.
    generation: u32,
    timers: BTreeMap<u64, Timer>,
    next_token: u64,
    stats: ControllerStats,
    fatal: Option<String>,
    timeout: Duration,
}

impl ExternalPolicy {
    pub fn new(cfg: &ExternalConfig, ctx: RunContext) -> Result<ExternalPolicy, String> {
        let config = serde_json::from_str(&cfg.config_json)
            .map_err(|e| format!("policy.config is not JSON: {e}"))?;
        let (dir, temporary) = match &cfg.out_root {
            Some(root) => (root.join(format!("rep-{:04}", ctx.replication)), false),
            None => (
                std::env::temp_dir().join(format!(
                    "hasim-controller-{}-{}-{}",
                    std::process::id(),
                    ctx.replication,
                    unique()
                )),
                true,
            ),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let dir = dir.canonicalize().unwrap_or(dir);
        Ok(ExternalPolicy {
            timeout: Duration::from_millis(cfg.step_timeout_ms),
            cfg: cfg.clone(),
            ctx,
            config,
            dir,
            temporary,
            process: None,
            generation: 0,
            timers: BTreeMap::new(),
            next_token: 0,
            stats: ControllerStats::default(),
            fatal: None,
        })
    }

    /// Starts a process and exchanges `hello` / `ready`; its `ready` commands are returned.
    fn start(&mut self, now_us: u64, cloud: &mut dyn Cloud) -> Vec<Command> {
        let restart = self.generation;
        self.generation += 1;
        let log = self.dir.join("stderr.log");
        let process = match Process::spawn(&self.cfg.command, &self.cfg.dir, &self.cfg.env, &log) {
            Ok(p) => p,
            Err(e) => {
                // Not a modelled crash: the controller cannot run at all.
                self.fatal = Some(format!("external controller: {e}"));
                return Vec::new();
            }
        };
        self.process = Some(process);
        let hello = ToController::Hello {
            protocol: PROTOCOL_VERSION,
            scenario: &self.ctx.scenario,
            seed: self.ctx.seed,
            replication: self.ctx.replication,
            now_us,
            restart,
            out_dir: &self.dir.to_string_lossy(),
            config: &self.config,
        };
        let hello = serde_json::to_string(&hello).expect("hello serialises");
        match self.exchange(now_us, &hello, cloud, "hello", |m| match m {
            FromController::Ready { commands } => Some(commands),
            _ => None,
        }) {
            Some(commands) => self.own_timers(commands),
            None if restart == 0 && self.fatal.is_none() => {
                // Not a modelled outage: the controller never worked (a typo in `command`,
                // a missing module).
                self.fatal = Some(format!(
                    "external controller `{}` did not start: it broke before `ready`{}",
                    self.command_line(),
                    self.stderr_tail()
                ));
                Vec::new()
            }
            None => self.crashed(),
        }
    }

    /// Sends `line`, answers queries and command lines, and returns what `finish` takes from
    /// the line that ends the exchange; `None` if the controller crashed or timed out.
    fn exchange(
        &mut self,
        now_us: u64,
        line: &str,
        cloud: &mut dyn Cloud,
        what: &str,
        finish: impl Fn(FromController) -> Option<Vec<Command>>,
    ) -> Option<Vec<Command>> {
        let timeout = self.timeout;
        self.write(now_us, line, what)?;
        let mut requests = 0u64;
        loop {
            let p = self.process.as_mut()?;
            let line = match p.recv(timeout) {
                Read::Line(l) => l,
                Read::TimedOut => {
                    self.process = None;
                    self.fatal = Some(format!(
                        "external controller `{}` gave no answer to `{what}` at t = {now_us} µs \
                         within step_timeout ({} ms of wall-clock time){}",
                        self.command_line(),
                        timeout.as_millis(),
                        self.stderr_tail()
                    ));
                    return None;
                }
                Read::Closed => {
                    let status = p
                        .exit_status()
                        .unwrap_or_else(|| "closed its stdout".into());
                    return self.broken(now_us, format!("it exited during `{what}` ({status})"));
                }
                Read::Bad(e) => return self.broken(now_us, format!("it wrote {e}")),
            };
            if line.trim().is_empty() {
                continue;
            }
            let msg = match FromController::parse(&line) {
                Ok(m) => m,
                Err(e) => {
                    return self.broken(
                        now_us,
                        format!("bad line during `{what}`: {e}: {}", quote_cut(&line)),
                    )
                }
            };
            let reply = match msg {
                FromController::Query { query } => answer(&*cloud, query),
                FromController::Command { command } => {
                    let command = self.own_timer(command);
                    match cloud.execute(command) {
                        Ok(()) => ToController::Result {
                            ok: true,
                            code: None,
                            reason: None,
                        },
                        Err(r) => ToController::Result {
                            ok: false,
                            code: Some(r.code),
                            reason: Some(r.reason),
                        },
                    }
                }
                other => {
                    let kind = other.wire_name();
                    return match finish(other) {
                        Some(c) => Some(c),
                        None => self.broken(
                            now_us,
                            format!(
                                "`{kind}` is not an answer to `{what}`: {}",
                                quote_cut(&line)
                            ),
                        ),
                    };
                }
            };
            let reply = serde_json::to_string(&reply).expect("replies serialise");
            self.write(now_us, &reply, what)?;
            requests += 1;
            if requests > MAX_REQUESTS_PER_STEP {
                return self.broken(
                    now_us,
                    format!(
                        "more than {MAX_REQUESTS_PER_STEP} queries and commands in one `{what}`"
                    ),
                );
            }
        }
    }

    /// Writes a line to the controller under the wall-clock guard.
    fn write(&mut self, now_us: u64, line: &str, what: &str) -> Option<()> {
        let p = self.process.as_mut()?;
        match p.send(line, self.timeout) {
            Ok(()) => Some(()),
            Err(WriteError::Broken(e)) => {
                self.broken(now_us, format!("it did not take `{what}`: {e}"));
                None
            }
            Err(WriteError::TimedOut) => {
                self.process = None;
                self.fatal = Some(format!(
                    "external controller `{}` stopped reading during `{what}` at t = {now_us} µs: \
                     a line was not taken within step_timeout ({} ms of wall-clock time){}",
                    self.command_line(),
                    self.timeout.as_millis(),
                    self.stderr_tail()
                ));
                None
            }
        }
    }

    /// The controller broke: fatal under `on_crash = "fail"`, else a modelled crash.
    fn broken(&mut self, now_us: u64, why: String) -> Option<Vec<Command>> {
        if let Some(p) = self.process.take() {
            drop(p);
            if self.cfg.on_crash == OnCrash::Fail {
                self.fatal = Some(format!(
                    "external controller `{}` failed at t = {now_us} µs: {why} \
                     (on_crash = \"fail\"){}",
                    self.command_line(),
                    self.stderr_tail()
                ));
            }
        }
        None
    }

    /// The command, quoted and cut, for messages.
    fn command_line(&self) -> String {
        let line = self.cfg.command.join(" ");
        let cut: String = line.chars().take(120).collect();
        if cut.len() < line.len() {
            format!("{cut}…")
        } else {
            cut
        }
    }

    /// The last lines the controller wrote to stderr (its log leaves with a failed run's
    /// staged output set), as a message tail.
    fn stderr_tail(&self) -> String {
        let Ok(text) = std::fs::read_to_string(self.dir.join("stderr.log")) else {
            return String::new();
        };
        let lines: Vec<&str> = text.lines().rev().take(10).collect();
        if lines.is_empty() {
            return String::new();
        }
        let tail: Vec<String> = lines
            .iter()
            .rev()
            .map(|l| format!("\n  | {}", l.chars().take(300).collect::<String>()))
            .collect();
        format!("; its stderr ended with:{}", tail.concat())
    }

    /// Counts a crash and, under `on_crash = "restart"`, returns the timer that restarts it.
    fn crashed(&mut self) -> Vec<Command> {
        if self.fatal.is_some() {
            return Vec::new();
        }
        self.stats.crashes += 1;
        if self.cfg.on_crash != OnCrash::Restart {
            return Vec::new();
        }
        if self.stats.restarts >= MAX_RESTARTS {
            self.fatal = Some(format!(
                "external controller `{}` crashed after {MAX_RESTARTS} restarts in one \
                 replication{}",
                self.command_line(),
                self.stderr_tail()
            ));
            return Vec::new();
        }
        let token = self.next_token;
        self.next_token += 1;
        self.timers.insert(
            token,
            Timer::Restart {
                generation: self.generation,
            },
        );
        vec![Command::SetTimer {
            token,
            after_us: self.cfg.restart_delay_us,
        }]
    }

    /// Maps a controller's `set_timer` to a token of hasim's own.
    fn own_timer(&mut self, c: Command) -> Command {
        match c {
            Command::SetTimer { token, after_us } => {
                let mine = self.next_token;
                self.next_token += 1;
                self.timers.insert(
                    mine,
                    Timer::Controller {
                        generation: self.generation,
                        token,
                    },
                );
                Command::SetTimer {
                    token: mine,
                    after_us,
                }
            }
            other => other,
        }
    }

    fn own_timers(&mut self, commands: Vec<Command>) -> Vec<Command> {
        commands.into_iter().map(|c| self.own_timer(c)).collect()
    }
}

/// Answers an inventory query; an id the inventory does not have is a 404.
fn answer(inv: &dyn Inventory, q: Query) -> ToController<'static> {
    let missing = |message: String| ToController::Error { code: 404, message };
    ToController::Answer(match q {
        Query::Hosts => Answer::Hosts(inv.hosts()),
        Query::Host { host } if inv.has_host(host) => Answer::Host(inv.host(host)),
        Query::VmsOn { host } if inv.has_host(host) => Answer::Vms(inv.vms_on(host)),
        Query::Vm { vm } if inv.has_vm(vm) => Answer::Vm(inv.vm(vm)),
        Query::Snapshot => Answer::Snapshot(InventorySnapshot::of(inv)),
        Query::Host { host } | Query::VmsOn { host } => {
            return missing(format!("no compute host {host}"))
        }
        Query::Vm { vm } => return missing(format!("no server {vm}")),
    })
}

/// `line` in quotes, cut to 200 characters.
fn quote_cut(line: &str) -> String {
    let cut: String = line.chars().take(200).collect();
    if cut.len() < line.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// A number no other live directory of this process uses.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Policy for ExternalPolicy {
    fn name(&self) -> &'static str {
        "external"
    }

    /// Never called: the engine hands a stepping policy whole steps.
    fn on_observation(&mut self, _: u64, _: &dyn Inventory, _: &Observation) -> Vec<Command> {
        self.fatal =
            Some("internal error: an external controller was given one observation".into());
        Vec::new()
    }

    fn takes_steps(&self) -> bool {
        true
    }

    fn begin(&mut self, now_us: u64, cloud: &mut dyn Cloud) -> Vec<Command> {
        self.start(now_us, cloud)
    }

    fn on_step(
        &mut self,
        now_us: u64,
        cloud: &mut dyn Cloud,
        observations: &[Observation],
    ) -> Vec<Command> {
        let mut out = Vec::new();
        let mut deliver = Vec::with_capacity(observations.len());
        for o in observations {
            match o {
                Observation::Timer { token } => match self.timers.remove(token) {
                    Some(Timer::Controller { generation, token })
                        if generation == self.generation && self.process.is_some() =>
                    {
                        deliver.push(Observation::Timer { token })
                    }
                    Some(Timer::Restart { generation })
                        if generation == self.generation && self.process.is_none() =>
                    {
                        self.stats.restarts += 1;
                        out.extend(self.start(now_us, cloud));
                    }
                    // A timer of a process that is gone.
                    _ => {}
                },
                other => deliver.push(other.clone()),
            }
        }
        if deliver.is_empty() || self.fatal.is_some() {
            return out;
        }
        if self.process.is_none() {
            self.stats.observations_lost += deliver.len() as u64;
            return out;
        }
        self.stats.steps += 1;
        let step = ToController::Step {
            now_us,
            observations: &deliver,
        };
        let step = serde_json::to_string(&step).expect("steps serialise");
        match self.exchange(now_us, &step, cloud, "step", |m| match m {
            FromController::Done { commands } => Some(commands),
            _ => None,
        }) {
            Some(commands) => out.extend(self.own_timers(commands)),
            None => {
                self.stats.observations_lost += deliver.len() as u64;
                out.extend(self.crashed());
            }
        }
        out
    }

    fn take_fatal(&mut self) -> Option<String> {
        self.fatal.take()
    }

    fn end(&mut self, now_us: u64) {
        if let Some(mut p) = self.process.take() {
            let end = serde_json::to_string(&ToController::End { now_us }).expect("serialises");
            if p.send(&end, self.timeout).is_ok() {
                p.close(self.timeout);
            }
        }
    }

    fn admin(&self) -> bool {
        self.cfg.admin
    }

    fn controller_stats(&self) -> ControllerStats {
        self.stats
    }
}

impl Drop for ExternalPolicy {
    fn drop(&mut self) {
        self.process = None;
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
