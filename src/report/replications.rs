//! Per-replication values: `replications.csv` (one row per replication and metric) and the
//! `per_replication` field of `summary.json`, and reading that field back for `hasim merge`.
//!
//! The JSON field holds everything `summary.json` is computed from — each replication's metric
//! values, its hosts-down time fractions and its engine event count — so the summary of a run
//! can be recomputed from the values of its shards alone. Floats are written in their shortest
//! round-trip form and read back exactly (serde_json's `float_roundtrip`), so the recomputed
//! summary is the same bit for bit.

use crate::metrics::pooled::{MaintenanceCounters, ReplicationStats};
use crate::metrics::replication::HaCounters;
use crate::runner::RunResult;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The `per_replication` array of `summary.json`, in replication order.
pub fn per_replication_json(result: &RunResult) -> Value {
    let rows: Vec<Value> = result
        .replications
        .iter()
        .zip(&result.per_replication)
        .zip(&result.per_replication_concurrency)
        .map(|((stats, metrics), conc)| {
            let m: Map<String, Value> =
                metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({
                "replication": stats.replication,
                "events": stats.events,
                "metrics": m,
                "host_down_concurrency": conc,
            })
        })
        .collect();
    Value::Array(rows)
}

/// `replications.csv`: `replication,seed,metric,value`, in replication order, then metric name
/// order. Values are `float_text` of the `f64` (shortest round-trip form, always with a
/// fraction, so the column reads as floats); metric names never need
/// quoting (they are snake_case).
pub fn replications_csv(seed: u64, result: &RunResult) -> Vec<u8> {
    let mut s = String::from("replication,seed,metric,value\n");
    for (stats, metrics) in result.replications.iter().zip(&result.per_replication) {
        for (name, v) in metrics {
            let v = super::tables::float_text(*v);
            let _ = writeln!(s, "{},{seed},{name},{v}", stats.replication);
        }
    }
    s.into_bytes()
}

/// One replication's values as read back from `summary.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub replication: u32,
    pub events: u64,
    pub metrics: BTreeMap<String, f64>,
    pub concurrency: Vec<f64>,
}

impl Record {
    /// The counters kept of this replication. Only `events` is read back: the HA and
    /// maintenance counters are in the metrics and nothing downstream of a run reads them.
    pub fn stats(&self) -> ReplicationStats {
        ReplicationStats {
            replication: self.replication,
            events: self.events,
            ha: HaCounters::default(),
            maintenance: MaintenanceCounters::default(),
        }
    }
}

/// A JSON number, or `null` (how serde_json writes a non-finite float) as NaN.
fn number(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Null => Ok(f64::NAN),
        v => v.as_f64().ok_or_else(|| format!("{what} is not a number")),
    }
}

/// Reads the `per_replication` array of a `summary.json`.
pub fn parse(summary: &Value) -> Result<Vec<Record>, String> {
    let rows = summary
        .get("per_replication")
        .and_then(Value::as_array)
        .ok_or("no per_replication array (written by an older hasim?)")?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let what = |k: &str| format!("per_replication[{i}].{k}");
            let int = |k: &str| {
                row.get(k)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| format!("{} is not a non-negative integer", what(k)))
            };
            let replication = u32::try_from(int("replication")?)
                .map_err(|_| format!("{} is out of range", what("replication")))?;
            let metrics = row
                .get("metrics")
                .and_then(Value::as_object)
                .ok_or_else(|| format!("{} is not an object", what("metrics")))?
                .iter()
                .map(|(k, v)| Ok((k.clone(), number(v, &what(&format!("metrics.{k}")))?)))
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            let concurrency = row
                .get("host_down_concurrency")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{} is not an array", what("host_down_concurrency")))?
                .iter()
                .map(|v| number(v, &what("host_down_concurrency")))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Record {
                replication,
                events: int("events")?,
                metrics,
                concurrency,
            })
        })
        .collect()
}
