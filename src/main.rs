//! The `hasim` command line: parse arguments, call the library, map outcomes to exit codes.
//!
//! Exit codes (a user contract): 0 ok · 1 runtime error · 2 usage · 3 invalid scenario ·
//! 4 expectation failed.

use clap::{Parser, Subcommand};
use hasim::scenario::{self, LoadError};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_RUNTIME: u8 = 1;
const EXIT_INVALID: u8 = 3;
const EXIT_EXPECTATION: u8 = 4;

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

#[derive(Subcommand)]
enum Command {
    /// Check scenario files and list every problem with its line.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Override a scenario key by dotted path (repeatable), e.g. topology.hosts_per_rack=20.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
        set: Vec<String>,
    },
    /// Run a scenario's replications and write summary.json, vms.csv and hosts.csv.
    Run {
        file: PathBuf,
        /// Number of replications (overrides simulation.replications).
        #[arg(short = 'n', long = "replications", value_parser = clap::value_parser!(u32).range(1..=100_000))]
        replications: Option<u32>,
        /// Master seed (overrides simulation.seed).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: Option<u64>,
        /// Output directory (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads for replications (default: all cores); results do not depend on it.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
        threads: Option<u32>,
        /// Override a scenario key by dotted path (repeatable), e.g. policy.name=none.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
        set: Vec<String>,
        /// Print summary.json to stdout instead of the human summary.
        #[arg(long)]
        json: bool,
    },
}

fn parse_set(s: &str) -> Result<String, String> {
    match s.split_once('=') {
        Some((k, _)) if !k.trim().is_empty() => Ok(s.to_string()),
        _ => Err(format!("\"{s}\" is not KEY=VALUE")),
    }
}

fn report_load_error(e: &LoadError) -> ExitCode {
    match e {
        LoadError::Io { .. } => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INVALID)
        }
        LoadError::Invalid(d) => {
            for line in d.render() {
                eprintln!("{line}");
            }
            eprintln!("{}: {} problem(s) found", d.file, d.items.len());
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn validate(files: &[PathBuf], set: &[String]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for f in files {
        match scenario::load(f, set) {
            Ok(m) => println!(
                "{}: ok: {} hosts in {} racks, {} VMs, policy {}, {} replications x {}, seed {}",
                f.display(),
                m.topology.hosts.len(),
                m.topology.racks.len(),
                m.vms.len(),
                m.policy.name,
                m.simulation.replications,
                m.simulation.horizon,
                m.simulation.seed
            ),
            Err(e) => code = report_load_error(&e),
        }
    }
    code
}

struct RunArgs {
    file: PathBuf,
    replications: Option<u32>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    threads: Option<u32>,
    set: Vec<String>,
    json: bool,
}

fn run(a: RunArgs) -> ExitCode {
    let mut overrides = a.set.clone();
    if let Some(n) = a.replications {
        overrides.push(format!("simulation.replications={n}"));
    }
    if let Some(s) = a.seed {
        overrides.push(format!("simulation.seed={s}"));
    }
    let model = match scenario::load(&a.file, &overrides) {
        Ok(m) => m,
        Err(e) => return report_load_error(&e),
    };
    eprintln!(
        "hasim: {} seed {} ({} replications)",
        model.name, model.simulation.seed, model.simulation.replications
    );
    // Drawn only when stderr is a terminal: pipelines and CI logs stay clean.
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(u64::from(model.simulation.replications)),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} replications {elapsed}")
            .expect("static template"),
    );
    let outcome =
        hasim::runner::run_with_progress(&model, a.threads.map(|t| t as usize), &|| bar.inc(1));
    bar.finish_and_clear();
    let result = match outcome {
        Ok(r) => r,
        Err(v) => {
            eprintln!(
                "error: invariant violated in replication {} at {}: {}",
                v.replication, v.time, v.message
            );
            let sets: String = a.set.iter().map(|s| format!(" --set {s}")).collect();
            eprintln!(
                "reproduce with: hasim run {} --seed {} -n {} --threads 1{sets}",
                a.file.display(),
                model.simulation.seed,
                v.replication + 1
            );
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let out_dir = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(&model.name));
    let written = match hasim::report::write_all(&out_dir, &model, &result) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: writing results to {}: {e}", out_dir.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let checks = hasim::metrics::expect::evaluate(&model.expectations, &result.metrics);
    let check_lines = hasim::report::text::checks(&checks);
    if a.json {
        let v = hasim::report::json::summary(&model, &result);
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        eprint!("{check_lines}");
    } else {
        print!("{}", hasim::report::text::summary(&model, &result));
        print!("{check_lines}");
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        println!("wrote {}/{{{}}}", out_dir.display(), names.join(","));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        eprintln!("{failed} of {} expectations failed", checks.len());
        return ExitCode::from(EXIT_EXPECTATION);
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { files, set } => validate(&files, &set),
        Command::Run {
            file,
            replications,
            seed,
            out,
            threads,
            set,
            json,
        } => run(RunArgs {
            file,
            replications,
            seed,
            out,
            threads,
            set,
            json,
        }),
    }
}
