//! Engine throughput benchmark: the "Engine v2" acceptance figures, measured the same way before
//! and after. Run with `cargo bench --bench throughput` (about five minutes on two cores, up to
//! ~1.3 GiB at the 50k point). Wall-clock timing lives here, never in a test.
//!
//! Sections, in this order:
//!
//! - **series**: `benches/scenarios/engine_goal.toml` (host crashes under Instance HA and a
//!   biweekly live-migration campaign, one year, one replication) at 1k, 2k, 5k, 10k, 20k and
//!   50k hosts, 20 VMs per host, the campaign's concurrency and capacity floor scaled with the
//!   hosts. Each point runs in a child process (this binary re-executed with `--point`) so that
//!   its peak RSS (`VmHWM`) is its own. The replication runs on the child's main thread and its
//!   CPU time is that thread's (`/proc/thread-self/schedstat`); ns/event = CPU time / events.
//! - **heap**: a bare `std::collections::BinaryHeap` hold model at the pending-set size of the
//!   10k point, as a floor for what the event queue alone costs.
//! - **threads**: the 10k goal with 4 replications on 1 and 2 threads (wall time, speed-up,
//!   peak RSS), and 1 and 8 replications on 1 thread, to show whether RSS grows with `-n`;
//!   then 4 replications on 1 thread pinned to one CPU (`taskset -c 0`): with `--threads 1`
//!   the reducing thread still uses the second core, so that is the one-core baseline.
//! - **output**: `benches/scenarios/output_200k.toml` (200k VMs, 20 cheap replications): CPU
//!   time to simulate, then CPU time and peak RSS of `hasim::report::write_all` into a
//!   directory under `target/`, and the size of `vms.csv`.
//!
//! Each point prints one readable line as it finishes; at the end every point is printed again
//! as one machine-readable line, `BENCH {json}`.
//!
//! Flags (after `--`, e.g. `cargo bench --bench throughput -- --quick`):
//!
//! - `--quick`: a fast check: series 1k, 2k, 5k; threads on 2k; output with 2 replications.
//! - `--only series|heap|threads|output`: run one section (repeatable).
//! - `--point ...`: internal, one measurement in a child process.
//!
//! Only Linux is supported: CPU time and memory are read from `/proc`.

use hasim::runner::{run, run_replication};
use hasim::scenario::load;
use serde_json::{json, Value};
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const GOAL: &str = "benches/scenarios/engine_goal.toml";
const OUTPUT: &str = "benches/scenarios/output_200k.toml";
/// Hosts of `engine_goal.toml`; its campaign concurrency (40 hosts, 8 per fault domain) and
/// floor (9,800 hosts up) are scaled from this.
const GOAL_HOSTS: u64 = 10_000;
/// Fault domains x hosts per rack in `engine_goal.toml`: hosts per rack-per-fault-domain.
const HOSTS_PER_RACK_ROW: u64 = 5 * 40;
/// Pending-set size per host used by the heap section when the 10k point was not measured:
/// the 10k point's measured mean (3,758 pending events) over its 10,000 hosts. It was 3.1
/// before the engine cancelled stale events.
const PENDING_PER_HOST_FALLBACK: f64 = 0.3758;
/// `/proc/*/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second.
const USER_HZ: f64 = 100.0;

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ----- /proc readings ------------------------------------------------------------------------

fn status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set of this process so far (`VmHWM`), MiB.
fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:").map_or(f64::NAN, |k| k / 1024.0)
}

/// Current resident set (`VmRSS`), MiB.
fn rss_mib() -> f64 {
    status_kib("VmRSS:").map_or(f64::NAN, |k| k / 1024.0)
}

/// Resets `VmHWM` to the current RSS (`/proc/self/clear_refs`, Linux >= 4.0); false if refused.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// utime + stime of a `/proc/.../stat` file, seconds.
fn stat_cpu_s(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of proc(5), counted from 1 with pid and comm as 1 and 2.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// CPU time of the calling thread, seconds: `schedstat` (ns) if present, else `stat` ticks.
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .or_else(|| stat_cpu_s("/proc/thread-self/stat"))
        .expect("thread CPU time from /proc/thread-self")
}

/// CPU time of the whole process, every thread including exited ones, seconds.
fn process_cpu_s() -> f64 {
    stat_cpu_s("/proc/self/stat").expect("process CPU time from /proc/self/stat")
}

#[allow(clippy::disallowed_methods)] // the benchmark measures wall time on purpose
fn wall<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = std::time::Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

// ----- the goal scenario at N hosts ----------------------------------------------------------

/// `--set` overrides that scale `engine_goal.toml` to `hosts` hosts (a multiple of 200).
fn goal_overrides(hosts: u64, replications: u32) -> Vec<String> {
    assert_eq!(
        hosts % HOSTS_PER_RACK_ROW,
        0,
        "hosts must be a multiple of 200"
    );
    let scaled = |x: u64| (x * hosts).div_ceil(GOAL_HOSTS).max(1);
    vec![
        format!(
            "topology.racks_per_fault_domain={}",
            hosts / HOSTS_PER_RACK_ROW
        ),
        format!("workloads.web.count={}", 20 * hosts),
        format!("maintenance.0.max_concurrent_hosts={}", scaled(40)),
        format!(
            "maintenance.0.max_concurrent_per_fault_domain={}",
            scaled(8)
        ),
        format!("maintenance.0.min_available_hosts={}", hosts - scaled(200)),
        format!("simulation.replications={replications}"),
    ]
}

fn load_model(rel: &str, overrides: &[String]) -> (hasim::scenario::model::Model, f64) {
    let path = scenario(rel);
    let (model, s) = wall(|| load(&path, overrides));
    (model.unwrap_or_else(|e| panic!("{e}")), s)
}

// ----- child-process points ------------------------------------------------------------------

/// `key=value,key=value` of a `--point` argument.
fn param(spec: &str, key: &str) -> u64 {
    spec.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("--point {spec}: missing {key}=N"))
}

/// One series point: one replication on this thread.
fn point_series(hosts: u64) -> Value {
    let (model, load_s) = load_model(GOAL, &goal_overrides(hosts, 1));
    let cpu0 = thread_cpu_s();
    let out = run_replication(&model, 0).expect("run");
    let cpu_s = thread_cpu_s() - cpu0;
    json!({
        "section": "series",
        "hosts": model.topology.hosts.len(),
        "vms": model.vms.len(),
        "events": out.events,
        "ns_per_event": cpu_s * 1e9 / out.events.max(1) as f64,
        "cpu_s": cpu_s,
        "peak_rss_mib": peak_rss_mib(),
        "live_migrations": out.maintenance.live_migrations,
        "evacuations": out.ha.evacuations,
        "pending_events_mean": out.pending_events_mean,
        "load_s": load_s,
    })
}

/// One threads point: `reps` replications of the goal on `threads` threads.
fn point_threads(hosts: u64, reps: u32, threads: usize) -> Value {
    let (model, load_s) = load_model(GOAL, &goal_overrides(hosts, reps));
    let cpu0 = process_cpu_s();
    let (r, wall_s) = wall(|| run(&model, Some(threads)).expect("run"));
    let cpu_s = process_cpu_s() - cpu0;
    json!({
        "section": "threads",
        "hosts": model.topology.hosts.len(),
        "vms": model.vms.len(),
        "replications": reps,
        "threads": threads,
        "events": r.events_total(),
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "peak_rss_mib": peak_rss_mib(),
        "load_s": load_s,
    })
}

/// The output point: simulate `output_200k.toml` on all cores, then write its tables.
fn point_output(reps: u32) -> Value {
    let overrides = vec![format!("simulation.replications={reps}")];
    let (model, load_s) = load_model(OUTPUT, &overrides);
    // Tables are streamed while replications run (`runner::run_streaming`), so the cost of
    // writing them is measured as the difference between a run with the table sink (plus
    // `write_all`) and the same run with an empty sink.
    let cpu0 = process_cpu_s();
    let (r, sim_wall_s) = wall(|| run(&model, None).expect("run"));
    let sim_cpu_s = process_cpu_s() - cpu0;
    let sim_peak = peak_rss_mib();
    let rss_before_write = rss_mib();
    drop(r);
    let reset = reset_peak_rss();
    let dir = scenario("target").join(format!("bench-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("output dir");
    let cpu1 = process_cpu_s();
    let (written, write_wall_s) = wall(|| {
        let mut tables =
            hasim::report::run_tables::RunTables::create(&dir, &model).expect("tables");
        // The sink runs on this thread: its CPU time is what the two tables cost.
        let mut tables_cpu_s = 0.0;
        let r = hasim::runner::run_streaming(&model, None, &|| {}, &mut |out| {
            let c0 = thread_cpu_s();
            let done = tables.write(out);
            tables_cpu_s += thread_cpu_s() - c0;
            done
        })
        .map_err(|_| "run failed")
        .expect("run");
        let c0 = thread_cpu_s();
        let written = hasim::report::write_all(&dir, &model, &r, tables);
        let write_all_cpu_s = thread_cpu_s() - c0;
        (written, r, tables_cpu_s, write_all_cpu_s)
    });
    let (written, r, tables_cpu_s, write_all_cpu_s) = written;
    let write_cpu_s = process_cpu_s() - cpu1 - sim_cpu_s;
    let written = written.expect("write_all");
    let write_peak = peak_rss_mib();
    let vms_csv_bytes = std::fs::metadata(dir.join("vms.csv")).map_or(0, |m| m.len());
    let total_bytes: u64 = written
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    std::fs::remove_dir_all(&dir).expect("remove output dir");
    json!({
        "section": "output",
        "hosts": model.topology.hosts.len(),
        "vms": model.vms.len(),
        "replications": reps,
        "events": r.events_total(),
        "sim_cpu_s": sim_cpu_s,
        "sim_wall_s": sim_wall_s,
        "sim_peak_rss_mib": sim_peak,
        "rss_before_write_mib": rss_before_write,
        // Peak during the write alone if VmHWM could be reset, else the peak of the process.
        "write_peak_rss_mib": write_peak,
        "write_peak_is_write_only": reset,
        "write_cpu_s": write_cpu_s,
        // Inside the table sink (vms.csv and hosts.csv rows), and in write_all (flushing and
        // renaming the tables, summary, charts, report), both on the writing thread.
        "tables_cpu_s": tables_cpu_s,
        "write_all_cpu_s": write_all_cpu_s,
        "write_wall_s": write_wall_s,
        "files_written": written.len(),
        "bytes_written": total_bytes,
        "vms_csv_bytes": vms_csv_bytes,
        "load_s": load_s,
    })
}

fn child_main(spec: &str) {
    let (kind, params) = spec.split_once(':').unwrap_or((spec, ""));
    let v = match kind {
        "series" => point_series(param(params, "hosts")),
        "threads" => point_threads(
            param(params, "hosts"),
            param(params, "reps") as u32,
            param(params, "threads") as usize,
        ),
        "output" => point_output(param(params, "reps") as u32),
        _ => panic!("--point {spec}: unknown kind {kind}"),
    };
    println!("POINT {v}");
}

/// Runs one point in a child process and returns what it measured.
fn in_child(spec: &str) -> Value {
    in_child_on(spec, None).expect("child point")
}

/// Runs a point in a child process, pinned to one CPU with `taskset` when `cpu` is given;
/// None if it is and `taskset` cannot be run.
fn in_child_on(spec: &str, cpu: Option<u32>) -> Option<Value> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = match cpu {
        Some(c) => {
            let mut t = Command::new("taskset");
            t.args(["-c", &c.to_string()]).arg(exe);
            t
        }
        None => Command::new(exe),
    };
    let out = match cmd
        .args(["--point", spec])
        .stderr(Stdio::inherit())
        .output()
    {
        Ok(out) => out,
        Err(_) if cpu.is_some() => return None,
        Err(e) => panic!("spawn child: {e}"),
    };
    assert!(
        out.status.success(),
        "--point {spec} failed: {}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("POINT "))
        .unwrap_or_else(|| panic!("--point {spec} printed no POINT line"));
    Some(serde_json::from_str(line).expect("POINT json"))
}

// ----- the heap reference --------------------------------------------------------------------

/// Shaped like `sim::queue`'s entries: `(time, seq)` key and a 16-byte payload.
struct HoldEntry {
    time: u64,
    seq: u64,
    _payload: [u64; 2],
}

impl PartialEq for HoldEntry {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl Eq for HoldEntry {}
impl PartialOrd for HoldEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HoldEntry {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest `(time, seq)` must pop first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// The classic hold model. The heap is filled with `size` entries at exponentially distributed
/// times (mean 1 s, in µs); each operation then pops the minimum and pushes one entry at the
/// popped time plus an exponential increment of the same mean, with the next sequence number, so
/// the set stays at `size`. The draws come from a table of 2^20 made before timing (no RNG is
/// timed). `size` operations warm it up untimed; then `ops` operations are timed by this thread's
/// CPU time (`/proc/thread-self/schedstat`). Returns pop+push pairs per CPU second.
fn hold_model(size: usize, ops: u64) -> f64 {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp1};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let table: Vec<u64> = (0..1 << 20)
        .map(|_| {
            let x: f64 = Exp1.sample(&mut rng);
            (x * 1e6) as u64
        })
        .collect();
    let mask = table.len() - 1;
    let mut heap = BinaryHeap::with_capacity(size + 1);
    let mut seq = 0u64;
    for i in 0..size {
        heap.push(HoldEntry {
            time: table[i & mask],
            seq,
            _payload: [seq, 0],
        });
        seq += 1;
    }
    let mut k = size;
    let mut step = |heap: &mut BinaryHeap<HoldEntry>, k: &mut usize| {
        let e = heap.pop().expect("non-empty");
        heap.push(HoldEntry {
            time: e.time + table[*k & mask],
            seq,
            _payload: [seq, e.time],
        });
        seq += 1;
        *k += 1;
    };
    for _ in 0..size {
        step(&mut heap, &mut k);
    }
    let cpu0 = thread_cpu_s();
    for _ in 0..ops {
        step(&mut heap, &mut k);
    }
    let cpu_s = thread_cpu_s() - cpu0;
    std::hint::black_box(&heap);
    ops as f64 / cpu_s
}

// ----- sections ------------------------------------------------------------------------------

fn section_series(hosts: &[u64], results: &mut Vec<Value>) -> Option<f64> {
    println!("== series: {GOAL}, one replication per child process");
    let mut pending_10k = None;
    for &n in hosts {
        let v = in_child(&format!("series:hosts={n}"));
        println!(
            "series hosts={} vms={}: {} events, {:.0} ns/event, {:.2} CPU-s, peak RSS {:.0} MiB, \
             {} live migrations, {} evacuations, pending mean {:.0}, load {:.2} s",
            v["hosts"],
            v["vms"],
            v["events"],
            v["ns_per_event"].as_f64().unwrap_or(f64::NAN),
            v["cpu_s"].as_f64().unwrap_or(f64::NAN),
            v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
            v["live_migrations"],
            v["evacuations"],
            v["pending_events_mean"].as_f64().unwrap_or(f64::NAN),
            v["load_s"].as_f64().unwrap_or(f64::NAN),
        );
        if n == GOAL_HOSTS {
            pending_10k = v["pending_events_mean"].as_f64();
        }
        results.push(v);
    }
    pending_10k
}

fn section_heap(pending_10k: Option<f64>, results: &mut Vec<Value>) {
    let (size, source) = match pending_10k {
        Some(p) => (p.round() as usize, "pending mean of the 10k point"),
        None => (
            (PENDING_PER_HOST_FALLBACK * GOAL_HOSTS as f64) as usize,
            "0.3758 x 10,000 hosts (10k point not run)",
        ),
    };
    println!("== heap: std BinaryHeap hold model, 32-byte entries");
    let ops = 20_000_000;
    let per_s = hold_model(size, ops);
    println!(
        "heap size={size} ({source}): {:.1} M pop+push/s, {:.1} ns per pop+push",
        per_s / 1e6,
        1e9 / per_s
    );
    results.push(json!({
        "section": "heap",
        "size": size,
        "size_source": source,
        "ops": ops,
        "pop_push_per_s": per_s,
        "ns_per_pop_push": 1e9 / per_s,
    }));
}

fn section_threads(hosts: u64, results: &mut Vec<Value>) {
    println!("== threads: {GOAL} at {hosts} hosts");
    let mut wall_4 = Vec::new();
    // -n 8 on one thread shows whether peak RSS grows with -n past the reorder window.
    for (reps, threads) in [(4, 1), (4, 2), (1, 1), (8, 1)] {
        let v = in_child(&format!(
            "threads:hosts={hosts},reps={reps},threads={threads}"
        ));
        println!(
            "threads hosts={} -n {reps} --threads {threads}: {} events, {:.2} wall-s, {:.2} CPU-s, \
             peak RSS {:.0} MiB",
            v["hosts"],
            v["events"],
            v["wall_s"].as_f64().unwrap_or(f64::NAN),
            v["cpu_s"].as_f64().unwrap_or(f64::NAN),
            v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
        );
        if reps == 4 {
            wall_4.push(v["wall_s"].as_f64().unwrap_or(f64::NAN));
        }
        results.push(v);
    }
    let speedup = wall_4[0] / wall_4[1];
    println!("threads -n 4: speed-up 2 threads over 1 = {speedup:.2}x");
    // With --threads 1 the reducing thread still runs beside the worker, on the other core;
    // pinned to one CPU the run shows what two cores buy over one.
    let pinned = in_child_on(&format!("threads:hosts={hosts},reps=4,threads=1"), Some(0));
    let pinned_wall = pinned.as_ref().and_then(|v| v["wall_s"].as_f64());
    match pinned_wall {
        Some(w) => println!(
            "threads -n 4 --threads 1 pinned to one CPU (taskset -c 0): {w:.2} wall-s; \
             speed-up of 2 threads on 2 CPUs over 1 CPU = {:.2}x",
            w / wall_4[1]
        ),
        None => println!("threads -n 4 pinned to one CPU: taskset not available, skipped"),
    }
    results.push(json!({
        "section": "threads_speedup",
        "hosts": hosts,
        "replications": 4,
        "speedup_2_over_1": speedup,
        "one_cpu_wall_s": pinned_wall,
        "speedup_2_cpus_over_1_cpu": pinned_wall.map(|w| w / wall_4[1]),
    }));
}

fn section_output(reps: u32, results: &mut Vec<Value>) {
    println!("== output: {OUTPUT}, write_all into target/");
    let v = in_child(&format!("output:reps={reps}"));
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "output vms={} -n {reps}: simulate {:.2} CPU-s ({:.2} wall-s, peak RSS {:.0} MiB); \
         write_all {:.2} CPU-s ({:.2} wall-s, peak RSS {:.0} MiB{} from {:.0} MiB), \
         of which the table rows {:.2} CPU-s and write_all {:.2} CPU-s; \
         vms.csv {:.1} MiB, {} files {:.1} MiB",
        v["vms"],
        f("sim_cpu_s"),
        f("sim_wall_s"),
        f("sim_peak_rss_mib"),
        f("write_cpu_s"),
        f("write_wall_s"),
        f("write_peak_rss_mib"),
        if v["write_peak_is_write_only"].as_bool() == Some(true) {
            " during the write"
        } else {
            " of the process"
        },
        f("rss_before_write_mib"),
        f("tables_cpu_s"),
        f("write_all_cpu_s"),
        f("vms_csv_bytes") / 1048576.0,
        v["files_written"],
        f("bytes_written") / 1048576.0,
    );
    results.push(v);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--point") {
        child_main(args.get(i + 1).expect("--point needs a spec"));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--only")
        .map(|w| w[1].as_str())
        .collect();
    for s in &only {
        assert!(
            ["series", "heap", "threads", "output"].contains(s),
            "--only {s}: expected series, heap, threads or output"
        );
    }
    let wanted = |s: &str| only.is_empty() || only.contains(&s);
    let mut results = Vec::new();
    let mut pending_10k = None;
    if wanted("series") {
        let hosts: &[u64] = if quick {
            &[1_000, 2_000, 5_000]
        } else {
            &[1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
        };
        pending_10k = section_series(hosts, &mut results);
    }
    if wanted("heap") {
        section_heap(pending_10k, &mut results);
    }
    if wanted("threads") {
        section_threads(if quick { 2_000 } else { GOAL_HOSTS }, &mut results);
    }
    if wanted("output") {
        section_output(if quick { 2 } else { 20 }, &mut results);
    }
    for v in &results {
        println!("BENCH {v}");
    }
}
