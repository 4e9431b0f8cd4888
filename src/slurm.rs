//! `hasim slurm`: batch scripts that run a run's replications (or a sweep's points) as one
//! Slurm job array, one array task per shard, and merge the shards in a job that depends on
//! the array (`afterok`). hasim schedules nothing itself: Slurm does, as HPC users have it.
//!
//! Each array task runs `hasim run ... --replications A..B` (or `hasim sweep ... --points
//! K/S`) with `--threads` from `SLURM_CPUS_PER_TASK`, into `<dir>/shard-K`; the merge job runs
//! `hasim merge <dir>/shard-* --out OUT`. Shard k of S holds replications `k·N/S .. (k+1)·N/S`
//! (integer division), so the shards are contiguous, cover `0..N` and differ in size by at
//! most one. Scripts `cd` to the directory they were written from, so relative scenario and
//! output paths mean what they meant there (cluster nodes share that file system).

use crate::report::html::shell_word;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What the array tasks run.
#[derive(Clone, Debug)]
pub enum Work {
    /// `n` replications of a run, split into shards of replications.
    Run { n: u32 },
    /// A sweep, split into shards of points.
    Sweep,
}

/// One job array and its merge job.
#[derive(Clone, Debug)]
pub struct Job {
    /// The hasim binary the tasks run (an absolute path).
    pub hasim: PathBuf,
    /// The directory the scripts `cd` to (where `hasim slurm` ran).
    pub workdir: PathBuf,
    pub scenario: String,
    /// Options passed to every task as they are (`--seed`, `--set`, `--grid`, `--metric`...).
    pub args: Vec<String>,
    pub work: Work,
    pub shards: u32,
    /// Where the merged result goes.
    pub out: PathBuf,
    /// Where the shards, the scripts and the logs go.
    pub dir: PathBuf,
    pub name: String,
    /// `#SBATCH` options of both jobs (`--partition=P`, `--time=T`, `--account=A`, ...).
    pub sbatch: Vec<String>,
    pub cpus_per_task: u32,
}

fn q(p: &Path) -> String {
    shell_word(&p.display().to_string())
}

impl Job {
    fn header(&self, s: &mut String, name: &str, log: &str) {
        let _ = writeln!(s, "#!/bin/bash");
        let _ = writeln!(s, "#SBATCH --job-name={name}");
        let _ = writeln!(s, "#SBATCH --output={}", self.dir.join(log).display());
        for o in &self.sbatch {
            let _ = writeln!(s, "#SBATCH {o}");
        }
    }

    /// The array script: one task per shard.
    pub fn array_script(&self) -> String {
        let mut s = String::new();
        self.header(&mut s, &format!("hasim-{}", self.name), "logs/shard-%a.out");
        let _ = writeln!(s, "#SBATCH --array=0-{}", self.shards - 1);
        let _ = writeln!(s, "#SBATCH --cpus-per-task={}", self.cpus_per_task);
        let _ = writeln!(s, "#SBATCH --ntasks=1");
        let _ = writeln!(s, "set -euo pipefail");
        let _ = writeln!(s, "cd {}", q(&self.workdir));
        let _ = writeln!(s, "K=$SLURM_ARRAY_TASK_ID");
        let _ = writeln!(s, "S={}", self.shards);
        let _ = writeln!(s, "THREADS=${{SLURM_CPUS_PER_TASK:-1}}");
        let mut cmd = format!("exec {} ", q(&self.hasim));
        match self.work {
            Work::Run { n } => {
                let _ = writeln!(s, "N={n}");
                let _ = writeln!(s, "A=$(( K * N / S ))");
                let _ = writeln!(s, "B=$(( (K + 1) * N / S ))");
                let _ = write!(
                    cmd,
                    "run {} --replications \"$A..$B\"",
                    shell_word(&self.scenario)
                );
            }
            Work::Sweep => {
                let _ = write!(
                    cmd,
                    "sweep {} --points \"$((K + 1))/$S\"",
                    shell_word(&self.scenario)
                );
            }
        }
        for a in &self.args {
            let _ = write!(cmd, " {}", shell_word(a));
        }
        let _ = write!(
            cmd,
            " --threads \"$THREADS\" --out {}/shard-\"$(printf %05d \"$K\")\"",
            q(&self.dir)
        );
        let _ = writeln!(s, "{cmd}");
        s
    }

    /// The merge script, submitted to run after every array task succeeded.
    pub fn merge_script(&self) -> String {
        let mut s = String::new();
        self.header(
            &mut s,
            &format!("hasim-{}-merge", self.name),
            "logs/merge.out",
        );
        let _ = writeln!(s, "#SBATCH --ntasks=1");
        let _ = writeln!(s, "set -euo pipefail");
        let _ = writeln!(s, "cd {}", q(&self.workdir));
        let _ = writeln!(
            s,
            "exec {} merge {}/shard-* --out {}",
            q(&self.hasim),
            q(&self.dir),
            q(&self.out)
        );
        s
    }

    /// The two `sbatch` calls that submit the array and the merge after it.
    pub fn submit_script(&self) -> String {
        let mut s = String::from("#!/bin/bash\n# Submits the shards as a job array and the merge after them.\nset -euo pipefail\n");
        let _ = writeln!(
            s,
            "array=$(sbatch --parsable {})",
            q(&self.dir.join("array.sbatch"))
        );
        let _ = writeln!(
            s,
            "merge=$(sbatch --parsable --dependency=afterok:\"${{array%%;*}}\" \"$@\" {})",
            q(&self.dir.join("merge.sbatch"))
        );
        let _ = writeln!(
            s,
            "echo \"submitted array job $array and merge job $merge\""
        );
        s
    }
}

/// Writes `array.sbatch`, `merge.sbatch` and `submit.sh` into the job's directory (and its
/// `logs/`); returns their paths.
pub fn write_scripts(job: &Job) -> std::io::Result<Vec<PathBuf>> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(job.dir.join("logs"))?;
    let mut written = Vec::new();
    for (name, text) in [
        ("array.sbatch", job.array_script()),
        ("merge.sbatch", job.merge_script()),
        ("submit.sh", job.submit_script()),
    ] {
        let p = job.dir.join(name);
        crate::report::atomic::write_atomic(&p, text.as_bytes())?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The array script's shard bounds, evaluated as the shell does (integer division), cover
    /// 0..N exactly once in contiguous shards.
    #[test]
    fn shard_bounds_cover_the_replications() {
        for (n, s) in [(8u32, 4u32), (10, 3), (7, 7), (1000, 64), (5, 1)] {
            let mut next = 0;
            for k in 0..s {
                let (a, b) = (k * n / s, (k + 1) * n / s);
                assert_eq!(a, next);
                assert!(b > a, "no empty shard when S <= N");
                next = b;
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn scripts_quote_paths_and_pass_options() {
        let job = Job {
            hasim: "/opt/hasim bin/hasim".into(),
            workdir: "/home/me".into(),
            scenario: "scenarios/q.toml".into(),
            args: vec!["--set".into(), "workloads.web.count=600".into()],
            work: Work::Run { n: 8 },
            shards: 4,
            out: "results/q".into(),
            dir: "results/q.shards".into(),
            name: "q".into(),
            sbatch: vec!["--partition=debug".into()],
            cpus_per_task: 2,
        };
        let a = job.array_script();
        assert!(a.contains("#SBATCH --array=0-3\n"), "{a}");
        assert!(a.contains("#SBATCH --partition=debug\n"));
        assert!(a.contains("exec '/opt/hasim bin/hasim' run scenarios/q.toml --replications \"$A..$B\" --set workloads.web.count=600 --threads \"$THREADS\""), "{a}");
        let m = job.merge_script();
        assert!(
            m.contains("merge results/q.shards/shard-* --out results/q\n"),
            "{m}"
        );
        assert!(job.submit_script().contains("--dependency=afterok:"));
    }
}
