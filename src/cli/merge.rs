//! `hasim merge` (binary side): shards of a run or of a sweep into one directory, with the
//! exit codes of README (5: the shards do not make one run).

use super::*;

pub fn merge(dirs: &[PathBuf], out: &Path) -> ExitCode {
    use hasim::merge::{
        check_shards, load_model, merged_result, read_shard, write_merged, MergeError,
    };
    let fail = |e: MergeError| match e {
        MergeError::Misfit(m) => {
            eprintln!("error: merge: {m}");
            ExitCode::from(EXIT_MISFIT)
        }
        MergeError::Io(m) => {
            eprintln!("error: merge: {m}");
            ExitCode::from(EXIT_RUNTIME)
        }
        MergeError::Invalid(e) => {
            eprintln!(
                "error: merge reloads the scenario the shards recorded, and it does not load:"
            );
            report_invalid(&[e])
        }
    };
    if hasim::merge_sweep::is_sweep(&dirs[0]) {
        let set = match begin_set(out) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let (written, results) = match hasim::merge_sweep::merge_sweeps(dirs, set.dir()) {
            Ok(w) => w,
            Err(e) => return fail(e),
        };
        if let Err(e) = set.commit() {
            return write_failed(out, e);
        }
        eprintln!(
            "hasim: merged {} sweep shards ({} points)",
            dirs.len(),
            results.len()
        );
        println!("{}", list_written(out, &written));
        return ExitCode::SUCCESS;
    }
    let shards = match dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let (shards, n) = match check_shards(shards) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let model = match load_model(&shards[0], n) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let (result, resampled) = match merged_result(&model, &shards, n) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let set = match begin_set(out) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let written = match write_merged(set.dir(), &model, &result, &shards, resampled.is_some()) {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    if let Err(e) = set.commit() {
        return write_failed(out, e);
    }
    let charts = match resampled {
        None => "; no charts (the shards have no chart_data.bin)",
        Some(true) => "; a shard's outage sample had overflowed, so the pooled CDFs are drawn from a sample of samples",
        Some(false) => "",
    };
    eprintln!(
        "hasim: merged {} shards of {} ({n} replications){charts}",
        shards.len(),
        model.name
    );
    print!("{}", hasim::report::text::summary(&model, &result));
    let checks = hasim::metrics::expect::evaluate(&model.expectations, &result.metrics);
    print!("{}", hasim::report::text::checks(&checks));
    println!("{}", list_written(out, &written));
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        eprintln!("{failed} of {} expectations failed", checks.len());
        return ExitCode::from(EXIT_EXPECTATION);
    }
    ExitCode::SUCCESS
}
