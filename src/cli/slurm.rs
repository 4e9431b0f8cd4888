//! `hasim slurm` (binary side): checks the run or sweep as `run`/`sweep` would, then writes
//! the scripts (`hasim::slurm`) and submits them.
use super::*;
use hasim::slurm::{write_scripts, Job, Work};

pub struct Request {
    pub tables: Option<String>,
    pub file: PathBuf,
    pub shards: u32,
    pub grid: Vec<String>,
    pub metrics: Vec<String>,
    pub sbatch: Vec<String>,
    pub cpus_per_task: u32,
    pub submit: bool,
    pub wait: bool,
}

fn usage(msg: String) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// The options every task passes on to hasim, as they were given.
fn task_args(req: &Request, common: &Common) -> Vec<String> {
    let mut a = Vec::new();
    if let Some(s) = common.seed {
        a.extend(["--seed".to_string(), s.to_string()]);
    }
    for s in &common.set {
        a.extend(["--set".to_string(), s.clone()]);
    }
    if let Some(m) = common.max_estimated_events {
        a.extend(["--max-estimated-events".to_string(), m.to_string()]);
    }
    for g in &req.grid {
        a.extend(["--grid".to_string(), g.clone()]);
    }
    for m in &req.metrics {
        a.extend(["--metric".to_string(), m.clone()]);
    }
    if let Some(t) = &req.tables {
        a.extend(["--tables".to_string(), t.clone()]);
    }
    a
}

pub fn slurm(req: &Request, common: &Common) -> ExitCode {
    if let Err(code) = common.check("slurm") {
        return code;
    }
    if common.threads.is_some() {
        return usage(
            "--threads: each array task takes SLURM_CPUS_PER_TASK (--cpus-per-task)".into(),
        );
    }
    let axes = match req
        .grid
        .iter()
        .map(|g| parse_axis(g))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: --grid {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    if let Err(code) = check_grid(&axes) {
        return code;
    }
    let points = expand(&axes);
    let opts: Vec<RunOptions> = points
        .iter()
        .map(|p| RunOptions {
            grid: p.overrides(),
            ..common.options()
        })
        .collect();
    let models = match load_all(&req.file, &opts) {
        Ok(m) => m,
        Err(e) => return report_invalid(&e),
    };
    if let Err(code) = within_budget(&models.iter().collect::<Vec<_>>(), common) {
        return code;
    }
    let model = &models[0];
    let n = model.simulation.replications;
    let (work, units, what) = if axes.is_empty() {
        (Work::Run { n }, n as usize, "replications")
    } else {
        (Work::Sweep, points.len(), "points")
    };
    if req.shards as usize > units {
        return usage(format!(
            "--shards {}: more shards than the {units} {what}",
            req.shards
        ));
    }
    let out = common.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("results").join(&model.name);
        if axes.is_empty() {
            base
        } else {
            base.join("sweep")
        }
    });
    let mut dir_name = out.file_name().unwrap_or_default().to_os_string();
    dir_name.push(".shards");
    let (hasim, workdir) = match (std::env::current_exe(), std::env::current_dir()) {
        (Ok(h), Ok(w)) => (h, w),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: slurm: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    // -n only if it was given: it is one of the overrides summary.json records, so the
    // merged summary is the one `hasim run` with the same options writes.
    let mut args = task_args(req, common);
    if let Some(c) = common.count().ok().flatten() {
        args.extend(["-n".to_string(), c.to_string()]);
    }
    let job = Job {
        hasim,
        workdir,
        scenario: req.file.display().to_string(),
        args,
        work,
        shards: req.shards,
        dir: out.with_file_name(dir_name),
        out,
        name: model.name.clone(),
        sbatch: req.sbatch.clone(),
        cpus_per_task: req.cpus_per_task,
    };
    let written = match write_scripts(&job) {
        Ok(w) => w,
        Err(e) => return write_failed(&job.dir, e),
    };
    println!(
        "{} {what} in {} array tasks of {} CPUs, then a merge into {}",
        units,
        req.shards,
        req.cpus_per_task,
        job.out.display()
    );
    println!("{}", list_written(&job.dir, &written));
    if !req.submit {
        println!("submit with: bash {}", job.dir.join("submit.sh").display());
        return ExitCode::SUCCESS;
    }
    submit(&job, req.wait)
}

fn sbatch(args: &[String]) -> Result<String, String> {
    let o = std::process::Command::new("sbatch")
        .args(args)
        .output()
        .map_err(|e| format!("sbatch: {e} (is this a Slurm login node?)"))?;
    if !o.status.success() {
        return Err(format!(
            "sbatch {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
    Ok(id.split(';').next().unwrap_or_default().to_string())
}

fn submit(job: &Job, wait: bool) -> ExitCode {
    let script = |n: &str| job.dir.join(n).display().to_string();
    let array = match sbatch(&["--parsable".into(), script("array.sbatch")]) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    println!("submitted array job {array}");
    let mut args = vec![
        "--parsable".to_string(),
        format!("--dependency=afterok:{array}"),
    ];
    if wait {
        args.push("--wait".into());
    }
    args.push(script("merge.sbatch"));
    match sbatch(&args) {
        Ok(id) => {
            println!("submitted merge job {id}");
            if wait {
                println!("merged into {}", job.out.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
