//! `vms.csv` and `hosts.csv`: one row per VM (or host) per replication, each carrying the seed
//! so any row can be traced back to the run that made it.

use crate::metrics::ledger::VmState;
use crate::metrics::summary::vm_figures;
use crate::runner::RunResult;
use crate::scenario::model::Model;

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory cannot fail")
}

pub fn vms_csv(model: &Model, result: &RunResult) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "replication",
        "seed",
        "vm",
        "workload",
        "host",
        "availability",
        "downtime_min_per_year",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(VmState::ALL.iter().map(|s| format!("{}_s", s.name())));
    w.write_record(&header)?;
    let seed = model.simulation.seed.to_string();
    for out in &result.outputs {
        let figs = vm_figures(out);
        for (i, vm) in model.vms.iter().enumerate() {
            let mut row = vec![
                out.replication.to_string(),
                seed.clone(),
                vm.name.clone(),
                model.workloads[vm.workload.index()].name.clone(),
                model.topology.hosts[model.placement[i].index()]
                    .name
                    .clone(),
                figs[i].availability.to_string(),
                figs[i].downtime_min_per_year.to_string(),
            ];
            row.extend(
                out.vm_time_us[i]
                    .iter()
                    .map(|us| (*us as f64 / 1e6).to_string()),
            );
            w.write_record(&row)?;
        }
    }
    Ok(finish(w))
}

pub fn hosts_csv(model: &Model, result: &RunResult) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "replication",
        "seed",
        "host",
        "rack",
        "fault_domain",
        "zone",
        "host_type",
        "failures",
        "down_s",
        "observed_s",
        "availability",
    ])?;
    let seed = model.simulation.seed.to_string();
    let topo = &model.topology;
    for out in &result.outputs {
        for (i, h) in topo.hosts.iter().enumerate() {
            let (down, obs) = (out.host_down_us[i], out.host_observed_us[i]);
            let avail = if obs == 0 {
                1.0
            } else {
                1.0 - down as f64 / obs as f64
            };
            w.write_record([
                out.replication.to_string(),
                seed.clone(),
                h.name.clone(),
                topo.racks[h.rack.index()].name.clone(),
                topo.fault_domains[h.fault_domain.index()].name.clone(),
                topo.zones[h.zone.index()].name.clone(),
                topo.host_types[h.host_type.index()].name.clone(),
                out.host_failures[i].to_string(),
                (down as f64 / 1e6).to_string(),
                (obs as f64 / 1e6).to_string(),
                avail.to_string(),
            ])?;
        }
    }
    Ok(finish(w))
}
