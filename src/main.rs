//! The `hasim` command line: parse arguments, call the library, map outcomes to exit codes.
//!
//! Exit codes (a user contract): 0 ok · 1 runtime error · 2 usage · 3 invalid scenario ·
//! 4 expectation failed · 5 shards that do not make one run (merge).

use clap::{Args, CommandFactory, Parser, Subcommand};
use hasim::engine::InvariantViolation;
use hasim::model_io::{load_all, RunOptions};
use hasim::report::outset::OutputSet;
use hasim::report::run_tables::TableFormat;
use hasim::runner::{RunError, RunResult, Sink};
use hasim::scenario::model::Model;
use hasim::shard::Replications;

#[path = "cli/merge.rs"]
mod merge_cmd;
#[path = "cli/slurm.rs"]
mod slurm_cmd;
#[path = "cli/sweep.rs"]
mod sweep_cmd;
use hasim::sweep::{expand, parse_axis, Axis};
use merge_cmd::merge;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use sweep_cmd::{sweep, SweepRequest};

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INVALID: u8 = 3;
const EXIT_EXPECTATION: u8 = 4;
const EXIT_MISFIT: u8 = 5;

#[derive(Parser)]
#[command(
    name = "hasim",
    version,
    about = "Discrete-event simulator of an IaaS cloud under failures, with production HA policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options shared by run, compare and sweep.
#[derive(Args, Clone)]
struct Common {
    /// Number of replications (overrides simulation.replications).
    #[arg(short = 'n', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: Option<u32>,
    /// N: the same as -n. A..B (run only): replications A to B-1 of the run, a shard that
    /// `hasim merge` combines with the others.
    #[arg(long = "replications", value_name = "N|A..B", value_parser = hasim::shard::parse_replications)]
    replications: Option<Replications>,
    /// Master seed (overrides simulation.seed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    seed: Option<u64>,
    /// Output directory (default: under results/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads for replications (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Override a scenario key by dotted path (repeatable), e.g. topology.hosts_per_rack=20.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    set: Vec<String>,
    /// Refuse to start when the estimated engine events exceed N (default 1e10; 0: no limit).
    #[arg(long = "max-estimated-events", value_name = "N")]
    max_estimated_events: Option<u64>,
}

impl Common {
    /// The replication count `-n` or `--replications N` gives; both, when they differ, is a
    /// usage error.
    fn count(&self) -> Result<Option<u32>, String> {
        match (self.count, self.replications) {
            (Some(a), Some(Replications::Count(b))) if a != b => Err(format!(
                "-n {a} and --replications {b} disagree (they are the same option)"
            )),
            (Some(a), _) => Ok(Some(a)),
            (None, Some(Replications::Count(b))) => Ok(Some(b)),
            (None, _) => Ok(None),
        }
    }

    /// The shard `--replications A..B` asks for, if it does.
    fn shard(&self) -> Option<std::ops::Range<u32>> {
        match self.replications {
            Some(Replications::Range(a, b)) => Some(a..b),
            _ => None,
        }
    }

    /// Usage errors of the replication options; `what` is the command (a shard is `run` only).
    fn check(&self, what: &str) -> Result<(), ExitCode> {
        let problem = match self.count() {
            Err(e) => Some(e),
            Ok(_) if what != "run" && self.shard().is_some() => Some(format!(
                "--replications A..B: {what} does not run shards of replications (run does)"
            )),
            Ok(_) => None,
        };
        match problem {
            Some(p) => {
                eprintln!("error: {p}");
                Err(ExitCode::from(EXIT_USAGE))
            }
            None => Ok(()),
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions {
            replications: self.count().ok().flatten(),
            seed: self.seed,
            set: self.set.clone(),
            ..RunOptions::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files and list every problem with its line; with --grid, list the runs.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Override a scenario key by dotted path (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
        set: Vec<String>,
        /// A sweep axis (repeatable): print the expanded list of runs.
        #[arg(long = "grid", value_name = "KEY=V1,V2,...", value_parser = parse_axis)]
        grid: Vec<Axis>,
    },
    /// Run a scenario's replications; write summary.json, CSV tables, charts and report.html.
    Run {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Print summary.json to stdout instead of the human summary.
        #[arg(long)]
        json: bool,
        /// Format of the per-VM and per-host tables: csv, csv.gz, parquet (a build with
        /// --features parquet) or none.
        #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = TableFormat::parse)]
        tables: TableFormat,
        /// Write the [expect] verdicts as JUnit XML to FILE (one test case per check).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Also write what the policy got and answered in one replication: FILE is the input
        /// of `hasim policy NAME` (an inventory line before each observation), FILE.out the
        /// commands it must answer, byte for byte, and FILE.config.json the policy's options
        /// (built-in policies).
        #[arg(long = "record-policy", value_name = "FILE")]
        record_policy: Option<PathBuf>,
        /// The replication --record-policy records (0-based).
        #[arg(long = "record-replication", value_name = "R", default_value_t = 0)]
        record_replication: u32,
    },
    /// Compare two policies on common random numbers (paired differences).
    Compare {
        file: PathBuf,
        /// The two policies, A then B (give --policy twice).
        #[arg(long = "policy", required = true, num_args = 1)]
        policies: Vec<String>,
        /// Print compare.csv's rows as JSON to stdout instead of the text table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// One replication's event timeline: truth, monitors, the policy's observations and
    /// commands, VM state changes.
    Replay {
        file: PathBuf,
        /// The master seed of the run to replay.
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: u64,
        /// The replication to replay (0-based, as in vms.csv and error messages).
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..100_000))]
        replication: u32,
        /// Show entries from this simulated time on (a duration: 1h, 90s).
        #[arg(long, value_parser = parse_time)]
        from: Option<hasim::core::time::SimTime>,
        /// Show entries up to this simulated time.
        #[arg(long, value_parser = parse_time)]
        to: Option<hasim::core::time::SimTime>,
        /// Only what concerns this VM (its index), following it from host to host.
        #[arg(long, conflicts_with = "host")]
        vm: Option<u32>,
        /// Only what concerns this host (its index) and the VMs on it.
        #[arg(long)]
        host: Option<u32>,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
        /// Also write every observation the policy got, in `hasim policy` input format.
        #[arg(long = "policy-log", value_name = "FILE")]
        policy_log: Option<PathBuf>,
        /// Also write the policy's options as `hasim policy --config` reads them.
        #[arg(long = "policy-config", value_name = "FILE")]
        policy_config: Option<PathBuf>,
        /// Override a scenario key by dotted path (repeatable), as the run did.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
        set: Vec<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema (draft-07) of the scenario format to stdout, generated from the
    /// keys the scenario reader accepts: `hasim schema > scenario.schema.json`.
    Schema,
    /// Print the man page (roff) to stdout: `hasim man > hasim.1`, `hasim man run > hasim-run.1`.
    Man {
        /// A subcommand's own page (hasim-SUBCOMMAND(1)) instead of the overview.
        subcommand: Option<String>,
    },
    /// Production adapter: observations in, commands out, as JSON lines on stdin/stdout.
    Policy {
        /// The policy: none, masakari, instance-ha, pca.
        name: String,
        /// A JSON file of the policy's options (defaults without it).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Combine the result directories of a run's shards (run --replications A..B) into the
    /// directory the whole run writes.
    Merge {
        /// The shards' result directories, in any order.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged result directory.
        #[arg(long, required = true)]
        out: PathBuf,
    },
    /// Write (and with --submit, submit) a Slurm job array that runs the run's replications,
    /// or with --grid the sweep's points, in shards, and a merge job after it.
    Slurm {
        file: PathBuf,
        /// Array tasks: shards of replications (or of points, with --grid).
        #[arg(long, required = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        shards: u32,
        /// A sweep axis (repeatable): the array runs the sweep's points instead.
        #[arg(long = "grid", value_name = "KEY=VALUES")]
        grid: Vec<String>,
        /// Metrics a sweep charts (repeatable).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Slurm partition of both jobs.
        #[arg(long)]
        partition: Option<String>,
        /// Time limit of each task and of the merge (Slurm's --time).
        #[arg(long)]
        time: Option<String>,
        /// Slurm account to charge.
        #[arg(long)]
        account: Option<String>,
        /// Any other #SBATCH option, as `--sbatch=--qos=long` (repeatable).
        #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
        sbatch: Vec<String>,
        /// CPUs of each array task; hasim's --threads follows SLURM_CPUS_PER_TASK.
        #[arg(long = "cpus-per-task", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
        cpus_per_task: u32,
        /// Submit the array and the merge with sbatch (otherwise: print how to).
        #[arg(long)]
        submit: bool,
        /// With --submit, wait until the merge job has ended (sbatch --wait).
        #[arg(long, requires = "submit")]
        wait: bool,
        /// The tables' format of each shard (run only; see run --tables).
        #[arg(long, value_name = "FORMAT")]
        tables: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Run a cartesian grid over scenario keys; write sweep.csv and one chart per metric.
    Sweep {
        file: PathBuf,
        /// A sweep axis (repeatable), same key syntax as --set.
        #[arg(long = "grid", value_name = "KEY=V1,V2,...", required = true, value_parser = parse_axis)]
        grid: Vec<Axis>,
        /// Metrics to chart (repeatable; default vm_availability and downtime_min_per_vm_year_mean).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Read back the points a killed or earlier sweep finished (same scenario and options)
        /// instead of running them again.
        #[arg(long)]
        resume: bool,
        /// Run only shard I of N of the points (1 <= I <= N); `merge` combines the shards.
        #[arg(long, value_name = "I/N", value_parser = hasim::sweep::parse_points)]
        points: Option<(usize, usize)>,
        /// Print sweep.csv's rows as JSON to stdout instead of the per-point lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
}

fn parse_time(s: &str) -> Result<hasim::core::time::SimTime, String> {
    hasim::core::time::parse_duration(s).map(|d| hasim::core::time::SimTime::ZERO + d)
}

fn parse_set(s: &str) -> Result<String, String> {
    match s.split_once('=') {
        Some((k, _)) if !k.trim().is_empty() => Ok(s.to_string()),
        _ => Err(format!("\"{s}\" is not KEY=VALUE")),
    }
}

/// Prints every problem of every scenario that failed to load.
fn report_invalid(errors: &[hasim::scenario::LoadError]) -> ExitCode {
    for e in errors {
        match e {
            hasim::scenario::LoadError::Io { .. } => eprintln!("error: {e}"),
            hasim::scenario::LoadError::Invalid(d) => {
                for line in d.render() {
                    eprintln!("{line}");
                }
                eprintln!("{}: {} problem(s) found", d.file, d.items.len());
            }
        }
    }
    ExitCode::from(EXIT_INVALID)
}

fn describe(m: &Model) -> String {
    format!(
        "{} hosts in {} racks, {} VMs, policy {}, {} replications x {}, seed {}",
        m.topology.hosts.len(),
        m.topology.racks.len(),
        m.vms.len(),
        m.policy.name(),
        m.simulation.replications,
        m.simulation.horizon,
        m.simulation.seed
    )
}

/// Checks the `--grid` axes before expanding them (exit 3, like any invalid variant).
fn check_grid(grid: &[Axis]) -> Result<(), ExitCode> {
    hasim::sweep::check_grid(grid).map(|_| ()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_INVALID)
    })
}

fn validate(files: &[PathBuf], set: &[String], grid: &[Axis]) -> ExitCode {
    if let Err(code) = check_grid(grid) {
        return code;
    }
    let mut code = ExitCode::SUCCESS;
    let points = expand(grid);
    for f in files {
        let opts: Vec<RunOptions> = points
            .iter()
            .map(|p| RunOptions {
                set: set.to_vec(),
                grid: p.overrides(),
                ..RunOptions::default()
            })
            .collect();
        match load_all(f, &opts) {
            Ok(models) if grid.is_empty() => {
                println!("{}: ok: {}", f.display(), describe(&models[0]))
            }
            Ok(models) => {
                println!("{}: ok: {} runs", f.display(), models.len());
                for (p, m) in points.iter().zip(&models) {
                    println!(
                        "  run {}: {}: {}",
                        p.index,
                        p.overrides().join(" "),
                        describe(m)
                    );
                }
            }
            Err(errors) => code = report_invalid(&errors),
        }
    }
    code
}

/// Runs a model with a progress bar that is drawn only when stderr is a terminal, handing each
/// replication's output to `sink` in replication order.
fn run_streaming(
    model: &Model,
    range: std::ops::Range<u32>,
    threads: Option<u32>,
    label: &str,
    sink: &mut Sink<'_>,
) -> Result<RunResult, RunError> {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(range.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} {bar:40} {pos}/{len} replications {elapsed}",
        )
        .expect("static template"),
    );
    bar.set_prefix(label.to_string());
    let outcome = hasim::runner::run_streaming_range(
        model,
        range,
        threads.map(|t| t as usize),
        &|| bar.inc(1),
        sink,
    );
    bar.finish_and_clear();
    outcome
}

/// `run_streaming` without a sink (compare and sweep keep only the compact results).
fn run_model(
    model: &Model,
    threads: Option<u32>,
    label: &str,
) -> Result<RunResult, InvariantViolation> {
    let all = 0..model.simulation.replications;
    match run_streaming(model, all, threads, label, &mut |_| Ok(())) {
        Ok(r) => Ok(r),
        Err(RunError::Invariant(v)) => Err(v),
        Err(RunError::Sink(e)) => unreachable!("the empty sink cannot fail: {e}"),
    }
}

fn invariant_failure(file: &Path, model: &Model, v: &InvariantViolation) -> ExitCode {
    if v.kind == hasim::engine::ViolationKind::Controller {
        eprintln!(
            "error: replication {} at {}: {}",
            v.replication, v.time, v.message
        );
        return ExitCode::from(EXIT_RUNTIME);
    }
    eprintln!(
        "error: invariant violated in replication {} at {}: {}",
        v.replication, v.time, v.message
    );
    eprintln!(
        "reproduce with: {}",
        hasim::report::html::replay_command(model, v.replication)
    );
    let _ = file;
    ExitCode::from(EXIT_RUNTIME)
}

/// Refuses, before any simulation, a run whose estimated cost is past the budget (exit 3),
/// naming the estimate and the option that raises the budget.
fn within_budget(models: &[&Model], common: &Common) -> Result<(), ExitCode> {
    use hasim::scenario::cost::{approx, estimate, DEFAULT_MAX_EVENTS};
    let limit = common
        .max_estimated_events
        .map_or(DEFAULT_MAX_EVENTS, |n| n as f64);
    let (mut events, mut hosts, mut vms) = (0.0, 0.0, 0.0);
    for m in models {
        let e = estimate(m);
        (events, hosts, vms) = (
            events + e.events,
            hosts + e.host_disruptions,
            vms + e.vm_moves,
        );
    }
    if limit == 0.0 || events <= limit {
        return Ok(());
    }
    eprintln!(
        "error: {}: estimated at about {} engine events ({} host disruptions and {} VM moves or restarts over all replications), more than the budget of {}; if that is intended, rerun with --max-estimated-events {:.0} (0: no limit)",
        models[0].name,
        approx(events),
        approx(hosts),
        approx(vms),
        approx(limit),
        (events * 2.0).min(u64::MAX as f64).ceil()
    );
    Err(ExitCode::from(EXIT_INVALID))
}

/// Starts a result set in `dir` before any simulation, or says in one line why it cannot.
fn begin_set(dir: &Path) -> Result<OutputSet, ExitCode> {
    let set = OutputSet::begin(dir).map_err(|e| {
        eprintln!("error: output directory {} unusable: {e}", dir.display());
        ExitCode::from(EXIT_RUNTIME)
    })?;
    if let Some(why) = set.in_place() {
        eprintln!(
            "note: output directory {}: {why}; its result files are replaced one by one, not as one set",
            dir.display()
        );
    }
    Ok(set)
}

fn write_failed(dir: &Path, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: writing results to {}: {e}", dir.display());
    ExitCode::from(EXIT_RUNTIME)
}

/// Writes `report.html` into a result set's directory.
fn write_page(dir: &Path, page: &str) -> std::io::Result<PathBuf> {
    let p = dir.join("report.html");
    hasim::report::atomic::write_atomic(&p, page.as_bytes())?;
    Ok(p)
}

fn list_written(dir: &Path, written: &[PathBuf]) -> String {
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    format!("wrote {}/{{{}}}", dir.display(), names.join(","))
}

/// Gives an external controller its files' place inside the staged set: `controllers/SUB/`
/// (`SUB` empty for a run, `arm-a`/`arm-b` for a comparison, `point-NNNN` for a sweep).
fn place_controllers(model: &mut Model, set: &OutputSet, sub: &str) {
    if let hasim::policy::PolicyConfig::External(c) = &mut model.policy {
        let root = set.dir().join(hasim::report::outset::CONTROLLERS_DIR);
        c.out_root = Some(if sub.is_empty() { root } else { root.join(sub) });
    }
}

/// `run --record-policy FILE`: replication `r` again, recording every observation, written
/// as `hasim policy` input (FILE) and its expected output (FILE.out).
fn record_policy(file: &Path, model: &Model, (path, r): &(PathBuf, u32)) -> Result<(), ExitCode> {
    let steps = match hasim::runner::run_recorded(model, *r) {
        Ok((_, steps)) => steps,
        Err(v) => return Err(invariant_failure(file, model, &v)),
    };
    let sibling = |ext: &str| {
        let mut o = path.as_os_str().to_owned();
        o.push(ext);
        PathBuf::from(o)
    };
    let (out, config) = (sibling(".out"), sibling(".config.json"));
    let mut files = vec![
        (
            path.clone(),
            hasim::adapters::policy_stdio::input_lines(&steps),
        ),
        (
            out.clone(),
            hasim::adapters::policy_stdio::output_lines(&steps),
        ),
    ];
    let config_text = hasim::adapters::policy_stdio::config_json(&model.policy);
    if let Some(text) = &config_text {
        files.push((config.clone(), text.clone()));
    }
    for (p, text) in &files {
        if let Err(e) = hasim::report::atomic::write_atomic(p, text.as_bytes()) {
            eprintln!("error: --record-policy: writing {}: {e}", p.display());
            return Err(ExitCode::from(EXIT_RUNTIME));
        }
    }
    eprintln!(
        "recorded replication {r}: {} observations in {}, {} commands in {}; replay with: hasim policy {}{} < {}",
        steps.len(),
        path.display(),
        steps.iter().map(|s| s.commands.len()).sum::<usize>(),
        out.display(),
        model.policy.name(),
        config_text
            .map(|_| format!(" --config {}", config.display()))
            .unwrap_or_default(),
        path.display()
    );
    Ok(())
}

fn run(
    file: &Path,
    common: &Common,
    json: bool,
    tables: TableFormat,
    record: Option<&(PathBuf, u32)>,
    junit: Option<&Path>,
) -> ExitCode {
    if let Err(code) = common.check("run") {
        return code;
    }
    let mut model = match load_all(file, &[common.options()]) {
        Ok(mut m) => m.remove(0),
        Err(e) => return report_invalid(&e),
    };
    if record.is_some() && matches!(model.policy, hasim::policy::PolicyConfig::External(_)) {
        eprintln!(
            "error: --record-policy records a built-in policy's exchanges for `hasim policy`; an external controller's are its own (its stderr log is in the output set)"
        );
        return ExitCode::from(2);
    }
    if let Some((_, r)) = record {
        if *r >= model.simulation.replications {
            eprintln!(
                "error: --record-replication {r}: the run has replications 0..{}",
                model.simulation.replications
            );
            return ExitCode::from(2);
        }
    }
    let range = common.shard().unwrap_or(0..model.simulation.replications);
    if let Err(e) = hasim::shard::check_range(&range, model.simulation.replications) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let shard_note = if range.len() as u32 == model.simulation.replications {
        String::new()
    } else {
        format!(", shard {}..{}", range.start, range.end)
    };
    eprintln!(
        "hasim: {} seed {} ({} replications{shard_note})",
        model.name, model.simulation.seed, model.simulation.replications
    );
    if model.simulation.replications < 2 {
        for e in &model.expectations {
            if e.stat != hasim::metrics::expect::Stat::Mean {
                eprintln!(
                    "warning: expect {e}: a 95 % interval needs at least 2 replications; with 1 this check fails"
                );
            }
        }
    }
    let out_dir = common
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&model.name));
    if let Err(code) = within_budget(&[&model], common) {
        return code;
    }
    // Every file goes into the set's staging directory, swapped in for `out_dir` at the end;
    // the per-VM and per-host tables are written there while replications complete.
    let set = match begin_set(&out_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    place_controllers(&mut model, &set, "");
    let mut tables =
        match hasim::report::run_tables::RunTables::create_as(set.dir(), &model, tables) {
            Ok(t) => t,
            Err(e) => return write_failed(&out_dir, e),
        };
    let result = match run_streaming(&model, range, common.threads, &model.name, &mut |out| {
        tables.write(out)
    }) {
        Ok(r) => r,
        Err(RunError::Invariant(v)) => return invariant_failure(file, &model, &v),
        Err(RunError::Sink(e)) => return write_failed(&out_dir, e),
    };
    let written = match hasim::report::write_all(set.dir(), &model, &result, tables) {
        Ok(w) => w,
        Err(e) => return write_failed(&out_dir, e),
    };
    if let Some(rec) = record {
        if let Err(code) = record_policy(file, &model, rec) {
            return code;
        }
    }
    if let Err(e) = set.commit() {
        return write_failed(&out_dir, e);
    }
    let checks = hasim::metrics::expect::evaluate(&model.expectations, &result.metrics);
    if let Some(p) = junit {
        let xml = hasim::report::junit::junit(&model, &checks);
        if let Err(e) = hasim::report::atomic::write_atomic(p, xml.as_bytes()) {
            eprintln!("error: writing {}: {e}", p.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    }
    let check_lines = hasim::report::text::checks(&checks);
    if json {
        let v = hasim::report::json::summary(&model, &result);
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        eprint!("{check_lines}");
    } else {
        print!("{}", hasim::report::text::summary(&model, &result));
        print!("{check_lines}");
        println!("{}", list_written(&out_dir, &written));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        eprintln!("{failed} of {} expectations failed", checks.len());
        return ExitCode::from(EXIT_EXPECTATION);
    }
    ExitCode::SUCCESS
}

fn compare(file: &Path, policies: &[String], json: bool, common: &Common) -> ExitCode {
    if let Err(code) = common.check("compare") {
        return code;
    }
    if policies.len() != 2 {
        eprintln!(
            "error: compare needs exactly two --policy options, got {}",
            policies.len()
        );
        return ExitCode::from(2);
    }
    let opts: Vec<RunOptions> = policies
        .iter()
        .map(|p| {
            let mut o = common.options();
            o.policy = Some(p.clone());
            o
        })
        .collect();
    let mut models = match load_all(file, &opts) {
        Ok(m) => m,
        Err(e) => return report_invalid(&e),
    };
    let (a, b) = (&models[0], &models[1]);
    let dir = common.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join(&a.name)
            .join(format!("compare-{}-vs-{}", policies[0], policies[1]))
    });
    if let Err(code) = within_budget(&[a, b], common) {
        return code;
    }
    let set = match begin_set(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    place_controllers(&mut models[0], &set, "arm-a");
    place_controllers(&mut models[1], &set, "arm-b");
    let (a, b) = (&models[0], &models[1]);
    eprintln!(
        "hasim: compare {} vs {} on {} seed {}",
        a.policy.name(),
        b.policy.name(),
        a.name,
        a.simulation.seed
    );
    let ra = match run_model(a, common.threads, a.policy.name()) {
        Ok(r) => r,
        Err(v) => return invariant_failure(file, a, &v),
    };
    let rb = match run_model(b, common.threads, b.policy.name()) {
        Ok(r) => r,
        Err(v) => return invariant_failure(file, b, &v),
    };
    let c = hasim::compare::from_results(a, b, ra, rb);
    let mut written = Vec::new();
    let csv = match hasim::report::experiments::compare_csv(&c, a.simulation.seed) {
        Ok(b) => b,
        Err(e) => return write_failed(&dir, e),
    };
    let path = set.dir().join("compare.csv");
    if let Err(e) = hasim::report::atomic::write_atomic(&path, &csv) {
        return write_failed(&dir, e);
    }
    written.push(path);
    let drawn = match hasim::report::experiments::compare_charts(set.dir(), &c, &a.name) {
        Ok(d) => d,
        Err(e) => return write_failed(&dir, e),
    };
    written.extend(drawn.paths);
    let page = hasim::report::pages::compare_report(a, &c, &drawn.figures);
    match write_page(set.dir(), &page) {
        Ok(p) => written.push(p),
        Err(e) => return write_failed(&dir, e),
    }
    if let Err(e) = set.commit() {
        return write_failed(&dir, e);
    }
    if json {
        let v = hasim::report::experiments::compare_json(&c, a.simulation.seed);
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return ExitCode::SUCCESS;
    }
    print!("{}", hasim::report::experiments::compare_text(&c));
    println!("{}", list_written(&dir, &written));
    ExitCode::SUCCESS
}

/// `hasim replay`: prints the timeline; exit 1 if the replication breaks an invariant (the
/// timeline up to it is printed first).
/// The files `hasim replay` writes besides its output.
struct ReplayFiles<'a> {
    policy_log: Option<&'a Path>,
    policy_config: Option<&'a Path>,
}

fn replay(
    file: &Path,
    seed: u64,
    r: u32,
    filter: &hasim::replay::Filter,
    json: bool,
    files: ReplayFiles<'_>,
    set: &[String],
) -> ExitCode {
    use std::io::Write;
    let opts = RunOptions {
        seed: Some(seed),
        set: set.to_vec(),
        ..RunOptions::default()
    };
    let model = match load_all(file, &[opts]) {
        Ok(mut m) => m.remove(0),
        Err(e) => return report_invalid(&e),
    };
    let rep = hasim::replay::replay(&model, r);
    use hasim::adapters::policy_stdio::{config_json, input_lines};
    let config = config_json(&model.policy).unwrap_or_else(|| "{}\n".to_string());
    for (path, text) in [
        (files.policy_log, input_lines(&rep.steps)),
        (files.policy_config, config),
    ] {
        let Some(p) = path else { continue };
        if let Err(e) = hasim::report::atomic::write_atomic(p, text.as_bytes()) {
            eprintln!("error: writing {}: {e}", p.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if json {
        hasim::replay::select(&model, &rep, filter)
            .into_iter()
            .try_for_each(|e| writeln!(out, "{}", hasim::replay::json_line(e)))
    } else {
        write!(out, "{}", hasim::replay::text(&model, &rep, filter))
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    match &rep.violation {
        Some(v) => {
            eprintln!(
                "error: invariant violated in replication {r} at {}: {}",
                v.time, v.message
            );
            ExitCode::from(EXIT_RUNTIME)
        }
        None => ExitCode::SUCCESS,
    }
}

/// `hasim man [SUBCOMMAND]`: the overview page, or one subcommand's (`hasim-run(1)`).
fn man_page(sub: Option<&str>) -> ExitCode {
    let cli = Cli::command();
    let cmd = match sub {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            // clap names are 'static without its `string` feature; this runs once and exits.
            Some(c) => c
                .clone()
                .name(&*Box::leak(format!("hasim-{name}").into_boxed_str())),
            None => {
                eprintln!("error: no subcommand {name:?} (see hasim --help)");
                return ExitCode::from(2);
            }
        },
    };
    match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn policy_adapter(name: &str, config: Option<&Path>) -> ExitCode {
    let cfg = match hasim::adapters::policy_stdio::load_config(name, config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let stdin = std::io::stdin();
    match hasim::adapters::policy_stdio::run(&cfg, stdin.lock(), std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// Restores the default action of SIGPIPE, as every Unix filter has it: `hasim ... | head` ends
/// hasim quietly when `head` stops reading. (Rust ignores SIGPIPE, so a write to a closed pipe
/// fails and `println!` panics.) Results are committed before anything is printed, so an early
/// end of the reader never costs a result set.
fn quiet_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { files, set, grid } => validate(&files, &set, &grid),
        Command::Policy { name, config } => policy_adapter(&name, config.as_deref()),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "hasim", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man { subcommand } => man_page(subcommand.as_deref()),
        Command::Schema => {
            print!("{}", hasim::scenario::schema::schema_text());
            ExitCode::SUCCESS
        }
        Command::Replay {
            file,
            seed,
            replication,
            from,
            to,
            vm,
            host,
            json,
            policy_log,
            policy_config,
            set,
        } => {
            let filter = hasim::replay::Filter { from, to, vm, host };
            let files = ReplayFiles {
                policy_log: policy_log.as_deref(),
                policy_config: policy_config.as_deref(),
            };
            replay(&file, seed, replication, &filter, json, files, &set)
        }
        Command::Run {
            file,
            common,
            json,
            tables,
            junit,
            record_policy,
            record_replication,
        } => {
            let record = record_policy.map(|f| (f, record_replication));
            run(
                &file,
                &common,
                json,
                tables,
                record.as_ref(),
                junit.as_deref(),
            )
        }
        Command::Compare {
            file,
            policies,
            json,
            common,
        } => compare(&file, &policies, json, &common),
        Command::Sweep {
            file,
            grid,
            metrics,
            resume,
            points,
            json,
            common,
        } => sweep(
            &file,
            &SweepRequest {
                grid: &grid,
                metrics: &metrics,
                resume,
                points,
                json,
            },
            &common,
        ),
        Command::Merge { dirs, out } => merge(&dirs, &out),
        Command::Slurm {
            file,
            shards,
            grid,
            metrics,
            partition,
            time,
            account,
            sbatch,
            cpus_per_task,
            submit,
            wait,
            tables,
            common,
        } => {
            let mut opts: Vec<String> = Vec::new();
            for (k, v) in [
                ("partition", partition),
                ("time", time),
                ("account", account),
            ] {
                if let Some(v) = v {
                    opts.push(format!("--{k}={v}"));
                }
            }
            opts.extend(sbatch);
            let req = slurm_cmd::Request {
                tables,
                file,
                shards,
                grid,
                metrics,
                sbatch: opts,
                cpus_per_task,
                submit,
                wait,
            };
            slurm_cmd::slurm(&req, &common)
        }
    }
}
