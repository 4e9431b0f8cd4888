//! `hasim sweep` (binary side): validates the grid, runs the points (`hasim::sweep_run`) and
//! writes the sweep directory.

use super::*;

/// What `sweep` is asked beyond the grid.
pub struct SweepRequest<'a> {
    pub grid: &'a [Axis],
    pub metrics: &'a [String],
    pub resume: bool,
    pub points: Option<(usize, usize)>,
    pub json: bool,
}

pub fn sweep(file: &Path, req: &SweepRequest<'_>, common: &Common) -> ExitCode {
    use hasim::sweep_run::{run_points, write_sweep_files, PointError, SweepFiles};
    let grid = req.grid;
    if let Err(code) = common.check("sweep") {
        return code;
    }
    if let Err(code) = check_grid(grid) {
        return code;
    }
    let points = expand(grid);
    let opts: Vec<RunOptions> = points
        .iter()
        .map(|p| {
            let mut o = common.options();
            o.grid = p.overrides();
            o
        })
        .collect();
    let mut models = match load_all(file, &opts) {
        Ok(m) => m,
        Err(e) => return report_invalid(&e),
    };
    let metrics = match sweep_metrics(req.metrics) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let selected = req.points.map_or(0..points.len(), |s| {
        hasim::sweep::shard_points(points.len(), s)
    });
    if selected.is_empty() {
        eprintln!(
            "error: --points: shard {}/{} of {} points holds none",
            req.points.map_or(0, |s| s.0),
            req.points.map_or(0, |s| s.1),
            points.len()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let dir = common
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&models[0].name).join("sweep"));
    let chosen: Vec<&Model> = models[selected.clone()].iter().collect();
    if let Err(code) = within_budget(&chosen, common) {
        return code;
    }
    let set = match begin_set(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for (i, m) in models.iter_mut().enumerate() {
        place_controllers(m, &set, &format!("point-{i:04}"));
    }
    // Finished points live in the sweep directory itself (not in the staging set), so a
    // killed sweep keeps them; without --resume a sweep starts its points afresh.
    let points_dir = set.target().join("points");
    if !req.resume && points_dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&points_dir) {
            return write_failed(&dir, e);
        }
    }
    eprintln!(
        "hasim: sweep of {} over {} points{}, seed {}",
        models[0].name,
        selected.len(),
        if selected.len() == points.len() {
            String::new()
        } else {
            format!(
                " ({}..{} of {})",
                selected.start,
                selected.end,
                points.len()
            )
        },
        models[0].simulation.seed
    );
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(selected.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let jobs: Vec<(usize, &Model)> = selected.clone().map(|i| (i, &models[i])).collect();
    let threads = common.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |t| t as usize,
    );
    let done = run_points(&jobs, &points_dir, threads, req.resume, &|| bar.inc(1));
    bar.finish_and_clear();
    let done = match done {
        Ok(d) => d,
        Err(PointError::Invariant(i, v)) => return invariant_failure(file, &models[i], &v),
        Err(PointError::Io(p, e)) => return write_failed(&p, e),
    };
    if req.resume {
        eprintln!(
            "hasim: --resume: {} finished points read back, {} run",
            done.resumed,
            selected.len() - done.resumed
        );
    }
    let results: Vec<(hasim::sweep::Point, RunResult)> = points[selected.clone()]
        .iter()
        .cloned()
        .zip(done.results)
        .collect();
    let file_text = file.display().to_string();
    let files = SweepFiles {
        name: &models[0].name,
        file: &file_text,
        seed: models[0].simulation.seed,
        axes: grid,
        metrics: &metrics,
        points: points.len(),
        shard: req.points.map(|s| (s, selected.clone())),
        results: &results,
    };
    let written = match write_sweep_files(set.dir(), &files) {
        Ok((w, figures)) => {
            let mut w = w;
            if req.points.is_none() {
                // A shard's page would show a part of the grid; merge writes the whole one.
                let page = hasim::report::pages::sweep_report(
                    &models[0], grid, &results, &metrics, &figures,
                );
                match write_page(set.dir(), &page) {
                    Ok(p) => w.push(p),
                    Err(e) => return write_failed(&dir, e),
                }
            }
            w
        }
        Err(e) => return write_failed(&dir, e),
    };

    if let Err(e) = set.commit() {
        return write_failed(&dir, e);
    }
    if req.json {
        let v = hasim::report::experiments::sweep_json(&results, files.seed);
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return ExitCode::SUCCESS;
    }
    print_sweep(&results, &metrics);
    println!("{}", list_written(&dir, &written));
    ExitCode::SUCCESS
}

/// The metrics a sweep charts: the given ones, all known (exit 2 naming an unknown one).
fn sweep_metrics(metrics: &[String]) -> Result<Vec<String>, ExitCode> {
    let known: Vec<String> = hasim::metrics::summary::registry()
        .into_iter()
        .map(|m| m.name)
        .collect();
    let metrics: Vec<String> = if metrics.is_empty() {
        vec![
            "vm_availability".into(),
            "downtime_min_per_vm_year_mean".into(),
        ]
    } else {
        metrics.to_vec()
    };
    if let Some(bad) = metrics.iter().find(|m| !known.contains(m)) {
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = hasim::scenario::read::closest(bad, &names)
            .map(|s| format!("did you mean \"{s}\"? "))
            .unwrap_or_default();
        eprintln!(
            "error: --metric {}: unknown metric ({hint}see README: Results)",
            hasim::scenario::limits::quote(bad)
        );
        return Err(ExitCode::from(EXIT_USAGE));
    }
    Ok(metrics)
}

fn print_sweep(results: &[(hasim::sweep::Point, RunResult)], metrics: &[String]) {
    for (p, r) in results {
        let cells: Vec<String> = metrics
            .iter()
            .filter_map(|m| {
                r.metrics
                    .get(m)
                    .map(|s| format!("{m} {}", hasim::report::text::num(s.mean)))
            })
            .collect();
        println!(
            "point {}: {}: {}",
            p.index,
            p.overrides().join(" "),
            cells.join(", ")
        );
    }
}
