//! Failure Trace Archive (FTA) `event_trace.tab` reader and its mapping onto hosts.
//!
//! Format (FTA, Javadi et al. JPDC 2013; see `scenarios/traces/README.md`): one header line, then
//! whitespace-separated `event_id component_id node_id platform_id node_name event_type
//! event_start_time event_stop_time event_end_reason`; `event_type` 1 = available, 0 =
//! unavailable; times in Unix seconds. Zero-length intervals are dropped, as in the published
//! fits. Files ending in `.gz` are decompressed on the fly.
//!
//! Mapping (`mapping = "in-order"`, the only one today): trace nodes sorted by `node_id` go to
//! hosts in host order, node 0 → host 0; extra nodes are ignored, extra hosts have no trace
//! failures. Simulated time 0 is the earliest recorded instant of any mapped node. A host is down
//! for exactly the trace's unavailability intervals: the trace's end time is when the node went
//! back into service, so no host boot time is added. Outside its recorded window (first start to
//! last end) a host is up and its time does not count toward `host_availability`.

use crate::core::time::{SimTime, US_PER_S};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// One node's intervals, in time order: `(start_s, end_s, available)`.
#[derive(Clone, Debug)]
pub struct FtaNode {
    pub node_id: u64,
    pub name: String,
    pub intervals: Vec<(i64, i64, bool)>,
}

/// Reads a whole FTA event trace; nodes sorted by `node_id`.
pub fn read_fta(path: &Path) -> Result<Vec<FtaNode>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut nodes: std::collections::BTreeMap<u64, FtaNode> = Default::default();
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("event_id") {
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() < 8 {
            return Err(format!(
                "line {}: expected 9 columns, found {}",
                i + 1,
                f.len()
            ));
        }
        let num = |k: usize, what: &str| -> Result<i64, String> {
            f[k].parse::<i64>()
                .map_err(|_| format!("line {}: {what} \"{}\" is not an integer", i + 1, f[k]))
        };
        let node_id = num(2, "node_id")? as u64;
        let up = match f[5] {
            "1" => true,
            "0" => false,
            other => {
                return Err(format!(
                    "line {}: event_type \"{other}\" is not 0 or 1",
                    i + 1
                ))
            }
        };
        let (start, end) = (num(6, "event_start_time")?, num(7, "event_stop_time")?);
        if end < start {
            return Err(format!("line {}: interval ends before it starts", i + 1));
        }
        let node = nodes.entry(node_id).or_insert_with(|| FtaNode {
            node_id,
            name: f[4].to_string(),
            intervals: Vec::new(),
        });
        if end > start {
            node.intervals.push((start, end, up));
        }
    }
    let mut out: Vec<FtaNode> = nodes
        .into_values()
        .filter(|n| !n.intervals.is_empty())
        .collect();
    for n in &mut out {
        n.intervals.sort();
    }
    Ok(out)
}

/// What replay needs for one host: its down intervals and its recorded window, in sim time.
#[derive(Clone, Debug)]
pub struct HostTrace {
    pub node_name: String,
    pub down: Vec<(SimTime, SimTime)>,
    pub window: (SimTime, SimTime),
}

/// Maps nodes onto `n_hosts` hosts in order, shifting time so the earliest mapped instant is 0.
pub fn map_in_order(nodes: &[FtaNode], n_hosts: usize) -> Vec<Option<HostTrace>> {
    let mapped = &nodes[..nodes.len().min(n_hosts)];
    let t0 = mapped.iter().map(|n| n.intervals[0].0).min().unwrap_or(0);
    let at = |s: i64| SimTime((s - t0) as u64 * US_PER_S);
    let mut out: Vec<Option<HostTrace>> = mapped
        .iter()
        .map(|n| {
            let down = n
                .intervals
                .iter()
                .filter(|(_, _, up)| !up)
                .map(|&(s, e, _)| (at(s), at(e)))
                .collect();
            let window = (
                at(n.intervals[0].0),
                at(n.intervals.iter().map(|i| i.1).max().unwrap()),
            );
            Some(HostTrace {
                node_name: n.name.clone(),
                down,
                window,
            })
        })
        .collect();
    out.resize(n_hosts, None);
    out
}
