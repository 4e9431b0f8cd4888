//! Engine throughput: events per second and peak memory on a 10,080-host fleet with node, rack
//! and power-domain failures over ten simulated years (`scenarios/rack_outages.toml` scaled up
//! by overrides). Run with `cargo bench --bench throughput`. Wall-clock timing lives here, never
//! in a test.

use hasim::runner::run;
use hasim::scenario::load;
use std::path::Path;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[allow(clippy::disallowed_methods)] // the benchmark measures wall time on purpose
fn main() {
    let overrides: Vec<String> = [
        "topology.racks_per_fault_domain=70",
        "topology.hosts_per_rack=48",
        "workloads.web.count=40320",
        "workloads.web.server_group.size=1",
        "simulation.horizon=10y",
        "simulation.replications=4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rack_outages.toml");
    let t0 = std::time::Instant::now();
    let model = load(&path, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let load_s = t0.elapsed().as_secs_f64();
    for threads in [1, 2] {
        let t = std::time::Instant::now();
        let r = run(&model, Some(threads)).expect("run");
        let s = t.elapsed().as_secs_f64();
        let events = r.events_total();
        println!(
            "hosts={} vms={} reps={} threads={threads}: {events} events in {s:.3} s = {:.2} M events/s",
            model.topology.hosts.len(),
            model.vms.len(),
            model.simulation.replications,
            events as f64 / s / 1e6
        );
    }
    println!("scenario load + placement: {load_s:.3} s");
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory (VmHWM): {mib:.1} MiB");
    }
}
