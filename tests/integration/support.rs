//! Helpers shared by the integration tests: scenario files in a scratch directory, running the
//! real `hasim` binary, and reading its outputs.

use hasim::metrics::replication::ReplicationOutput;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory for one test, under Cargo's per-target temporary directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` as `<dir>/<name>.toml` and returns its path.
pub fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the `hasim` binary with `args` from the package root.
pub fn hasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run hasim")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The entry names of a directory, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, in subdirectories too, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The `.toml` files of a directory, sorted.
pub fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Writes `text` into a scratch directory named `name`, loads and runs it on `threads`.
pub fn run_text(name: &str, text: &str, threads: Option<usize>) -> hasim::runner::RunResult {
    run_text_outputs(name, text, threads).0
}

/// `run_text`, also keeping every replication's full output (the runner drops them).
pub fn run_text_outputs(
    name: &str,
    text: &str,
    threads: Option<usize>,
) -> (hasim::runner::RunResult, Vec<ReplicationOutput>) {
    let dir = scratch(name);
    let path = write_scenario(&dir, name, text);
    let model = hasim::scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    run_outputs(&model, threads)
}

/// Runs `model` keeping a copy of every replication's output, checking that the sink sees
/// them in replication order.
pub fn run_outputs(
    model: &hasim::scenario::model::Model,
    threads: Option<usize>,
) -> (hasim::runner::RunResult, Vec<ReplicationOutput>) {
    let mut outputs: Vec<ReplicationOutput> = Vec::new();
    let result = hasim::runner::run_streaming(model, threads, &|| {}, &mut |out| {
        assert_eq!(out.replication as usize, outputs.len(), "replication order");
        outputs.push(out.clone());
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e:?}"));
    (result, outputs)
}

/// A one-rack fleet with independent host crashes, for the closed-form tests. Guests start with
/// their host (`resume_guests_state_on_host_boot = true`; Nova's default leaves them off), which
/// is what the renewal formulas assume.
pub struct Fleet<'a> {
    pub name: &'a str,
    pub hosts: u32,
    pub vms_per_host: u32,
    pub horizon: &'a str,
    pub replications: u32,
    pub host_boot: &'a str,
    pub vm_boot: &'a str,
    /// The body of `[failures.host]`.
    pub failures: &'a str,
}

impl Fleet<'_> {
    pub fn run(&self) -> hasim::runner::RunResult {
        run_text(self.name, &self.text(), None)
    }

    /// `run`, also keeping every replication's full output.
    pub fn run_outputs(&self) -> (hasim::runner::RunResult, Vec<ReplicationOutput>) {
        run_text_outputs(self.name, &self.text(), None)
    }

    /// The scenario text (seed 7).
    pub fn text(&self) -> String {
        format!(
            r#"name = "{name}"
[simulation]
horizon = "{horizon}"
replications = {reps}
seed = 7

[[host_types]]
name = "h"
vcpus = 32
ram_gib = 128
nic_gbps = 25
boot_time = "{host_boot}"

[topology]
zones = ["z"]
fault_domains_per_zone = 1
racks_per_fault_domain = 1
hosts_per_rack = {hosts}
host_type = "h"

[[flavors]]
name = "f"
vcpus = 2
ram_gib = 4

[[workloads]]
name = "w"
count = {vms}
flavor = "f"
storage = "shared"
boot_time = "{vm_boot}"

[nova]
resume_guests_state_on_host_boot = true

[failures.host]
{failures}
"#,
            name = self.name,
            horizon = self.horizon,
            reps = self.replications,
            host_boot = self.host_boot,
            hosts = self.hosts,
            vms = self.hosts * self.vms_per_host,
            vm_boot = self.vm_boot,
            failures = self.failures,
        )
    }
}

/// Bundled scenarios that run upstream Masakari in the loop: they need the venv of
/// scenarios/controllers/setup-masakari.sh and take minutes per replication-year, so the
/// every-scenario tests (snapshots, cost estimate, fuzz corpus) leave them to
/// tests/integration/controllers.rs.
pub fn runs_upstream_masakari(p: &Path) -> bool {
    p.file_stem().is_some_and(|s| s == "masakari_upstream")
}
