//! `summary.json`: the machine-readable result of a run. Keys are sorted (serde_json's default
//! map), floats printed shortest-exact, and nothing time- or host-dependent is included, so the
//! same seed gives byte-identical files. The seed is a string: JSON numbers lose u64 precision.
//!
//! `replications` counts the replications the metrics are computed from: all of the run's, or,
//! in a shard's summary (`run --replications A..B`), B − A, with `shard` saying which of how
//! many. `per_replication` holds each replication's values (see `replications`).

use crate::metrics::expect::evaluate;
use crate::metrics::summary::MetricSummary;
use crate::runner::RunResult;
use crate::scenario::model::Model;
use serde_json::{json, Map, Value};

/// Bump when a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

fn metric_json(m: &MetricSummary) -> Value {
    json!({
        "mean": m.mean,
        "ci95": m.ci95.map(|(lo, hi)| json!([lo, hi])).unwrap_or(Value::Null),
        "unit": m.unit,
    })
}

pub fn summary(model: &Model, result: &RunResult) -> Value {
    let metrics: Map<String, Value> = result
        .metrics
        .iter()
        .map(|(k, m)| (k.clone(), metric_json(m)))
        .collect();
    let concurrency: Vec<Value> = result
        .hosts_down_concurrency
        .iter()
        .enumerate()
        .map(|(k, m)| json!({ "hosts_down": k, "time_fraction": metric_json(m) }))
        .collect();
    let checks: Vec<Value> = evaluate(&model.expectations, &result.metrics)
        .iter()
        .map(|c| json!({ "check": c.expectation.to_string(), "measured": c.measured, "passed": c.passed }))
        .collect();
    let topo = &model.topology;
    let mut v = json!({
        "schema_version": SCHEMA_VERSION,
        "hasim_version": env!("CARGO_PKG_VERSION"),
        "scenario": {
            "name": model.name,
            "description": model.description,
            "file": model.provenance.file.display().to_string(),
            "sha256": model.provenance.sha256,
            "overrides": model.provenance.overrides,
        },
        "seed": model.simulation.seed.to_string(),
        "replications": result.range.len(),
        "horizon": model.simulation.horizon.to_string(),
        "horizon_s": model.simulation.horizon.as_secs_f64(),
        "policy": model.policy.name(),
        "fleet": {
            "zones": topo.zones.len(),
            "fault_domains": topo.fault_domains.len(),
            "racks": topo.racks.len(),
            "hosts": topo.hosts.len(),
            "vms": model.vms.len(),
        },
        "metrics": metrics,
        "host_down_concurrency": concurrency,
        "expectations": checks,
        "engine": { "events_total": result.events_total() },
        "per_replication": super::replications::per_replication_json(result),
    });
    if result.is_shard(model) {
        v["shard"] = json!({
            "first": result.range.start,
            "end": result.range.end,
            "of": model.simulation.replications,
        });
    }
    v
}
