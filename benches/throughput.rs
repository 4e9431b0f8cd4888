//! Engine throughput: events per second and peak memory on 10,080-host fleets, one with node,
//! rack and power-domain failures over ten years (`scenarios/rack_outages.toml` scaled up) and
//! one with biweekly rolling maintenance by live migration for a year
//! (`scenarios/openstack_runbook.toml` scaled up). Run with `cargo bench --bench throughput`.
//! Wall-clock timing lives here, never in a test.

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
fn bench(label: &str, scenario: &str, overrides: &[&str], threads: &[usize]) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(scenario);
    let t0 = std::time::Instant::now();
    let model = load(&path, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let load_s = t0.elapsed().as_secs_f64();
    for &n in threads {
        let t = std::time::Instant::now();
        let r = run(&model, Some(n)).expect("run");
        let s = t.elapsed().as_secs_f64();
        let events = r.events_total();
        let migrations: u64 = r
            .replications
            .iter()
            .map(|o| o.maintenance.live_migrations)
            .sum();
        println!(
            "{label}: hosts={} vms={} reps={} threads={n}: {events} events ({migrations} live migrations) in {s:.3} s = {:.2} M events/s",
            model.topology.hosts.len(),
            model.vms.len(),
            model.simulation.replications,
            events as f64 / s / 1e6
        );
    }
    println!("{label}: scenario load + placement {load_s:.3} s");
}

fn main() {
    bench(
        "failures",
        "scenarios/rack_outages.toml",
        &[
            "topology.racks_per_fault_domain=70",
            "topology.hosts_per_rack=48",
            "workloads.web.count=40320",
            "workloads.web.server_group.size=1",
            "simulation.horizon=10y",
            "simulation.replications=4",
        ],
        &[1, 2],
    );
    bench(
        "maintenance",
        "scenarios/openstack_runbook.toml",
        &[
            "topology.racks_per_fault_domain=70",
            "topology.hosts_per_rack=48",
            "workloads.web.count=40320",
            "maintenance.0.max_concurrent_hosts=40",
            "maintenance.0.max_concurrent_per_fault_domain=20",
            "maintenance.0.min_available_hosts=9900",
            "simulation.replications=1",
        ],
        &[1],
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory (VmHWM) over both: {mib:.1} MiB");
    }
}
