//! The scenario schema: reads the `Node` tree into a `Model`, checking every key.
//!
//! Each section has one reader function. A problem is recorded with its origin and reading goes
//! on, so `hasim validate` lists every problem in one pass. Cross-references (host type, flavor
//! and rack names) are resolved after all sections are read.

use super::external::read_external;
use super::limits::{
    check_gzip_inflated, open_regular, quote, MAX_HORIZON_YEARS, MAX_NIC_GBPS, MAX_TRACE_BYTES,
};
use super::model::{Model, Provenance, SimulationConfig};
use super::read::{closest, Diagnostics, DistContext, TableReader};
use super::tree::{Node, Origin, Value};
use crate::core::dist::DurationDist;
use crate::core::time::SimDuration;
use crate::core::time::{US_PER_S, US_PER_Y};
use crate::faults::maintenance::{Campaign, OnAbort, WorkloadMaintenance};
use crate::faults::trace::{map_in_order, read_fta, FtaNode};
use crate::faults::{
    BmcFailures, DomainFailures, FailureModel, GuestFailures, HostFailures, HostOutageProcess,
    RebootFailures,
};
use crate::infra::config::{InfraConfig, StonithAction};
use crate::infra::scheduler::{place_all, AllocationConfig};
use crate::metrics::expect::{parse_condition, Expectation, Stat};
use crate::metrics::summary::registry;
use crate::policy::external::ExternalConfig;
use crate::policy::masakari::RecoveryMethod;
use crate::policy::PolicyConfig;
use crate::policy::POLICY_NAMES;
use crate::world::ids::HostId;
use crate::world::ids::{
    FaultDomainId, FlavorId, HostTypeId, RackId, ServerGroupId, WorkloadId, ZoneId,
};
use crate::world::topology::{DomainLevel, FaultDomain, Host, HostType, Rack, Topology, Zone};
use crate::world::vms::{Flavor, GroupPolicy, ServerGroup, Storage, Vm, Workload};

/// Upper bounds that keep a typo from asking for a billion hosts. "Put a limit on everything."
const MAX_HOSTS: i64 = 1_000_000;
const MAX_VMS: i64 = 10_000_000;
const MAX_REPLICATIONS: i64 = 100_000;

/// The replayed part of a trace (the first `n_hosts` nodes) must fit simulated time: its span
/// in seconds, times 10^6, in a `u64` of microseconds. A wider span (a corrupt or hostile time
/// column) would wrap and replay at the wrong times.
fn check_trace_span(nodes: &[FtaNode], n_hosts: usize) -> Result<(), String> {
    let mapped = &nodes[..nodes.len().min(n_hosts)];
    let (Some(t0), Some(t1)) = (
        mapped.iter().map(|n| n.intervals[0].0).min(),
        mapped
            .iter()
            .flat_map(|n| n.intervals.iter().map(|i| i.1))
            .max(),
    ) else {
        return Ok(());
    };
    let max_s = u64::MAX / US_PER_S;
    match t1.checked_sub(t0) {
        Some(span) if (span as u64) <= max_s => {}
        _ => {
            return Err(format!(
                "the trace spans from {t0} s to {t1} s, more than simulated time holds ({max_s} s)"
            ))
        }
    }
    // A node is down, then up, then down again: two unavailability intervals of one node that
    // overlap have no replay (found by the fuzz harness: the replay scheduled a return to
    // service in the past).
    for n in mapped {
        let mut down = n.intervals.iter().filter(|i| !i.2);
        let Some(mut prev) = down.next() else {
            continue;
        };
        for i in down {
            if i.0 < prev.1 {
                return Err(format!(
                    "node {} is down from {} s to {} s and again from {} s, before it is back: unavailability intervals of a node must not overlap",
                    quote(&n.name),
                    prev.0,
                    prev.1,
                    i.0
                ));
            }
            if i.1 > prev.1 {
                prev = i;
            }
        }
    }
    Ok(())
}

/// The scenario name names the results directory (`results/<name>/`): it must be one plain
/// path component, so that no name writes outside `results/`.
fn check_scenario_name(name: &str, origin: &Origin, d: &mut Diagnostics) -> bool {
    let why = if name.is_empty() {
        Some("must not be empty")
    } else if name == "." || name == ".." {
        Some("must not be \".\" or \"..\"")
    } else if name.contains(['/', '\\']) {
        Some("must not contain a path separator (it names the results directory)")
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    };
    if let Some(why) = why {
        d.push(origin, "name", format!("{} {why}", quote(name)));
    }
    why.is_none()
}

pub fn build(root: &Node, prov: Provenance, d: &mut Diagnostics) -> Option<Model> {
    let mut top = TableReader::new(root, "", d)?;
    let ctx = DistContext {
        base_dir: prov
            .file
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
    };
    let name_origin = top.origin_of("name");
    let name = top
        .str("name", d)
        .filter(|n| check_scenario_name(n, &name_origin, d))
        .map(str::to_string);
    let description = top.opt_str("description", d).unwrap_or("").to_string();
    let simulation = top
        .opt_table("simulation", d)
        .and_then(|t| read_simulation(t, d));
    if !top.has("simulation") {
        top.node("simulation");
        d.push(
            &top.origin,
            "simulation",
            "missing required table [simulation]",
        );
    }
    let host_type_tables = top.opt_table_array("host_types", d);
    let unreadable = unreadable_entries(top.node("host_types"), host_type_tables.len());
    let (host_types, mut host_type_names) = read_host_types(host_type_tables, d);
    host_type_names.extend(unreadable);
    // Present but unreadable (`--set topology=5`) was reported as such: not also as missing.
    let topo_present = top.has("topology") || top.has("racks");
    let topo_table = top.opt_table("topology", d);
    let racks_tables = top.opt_table_array("racks", d);
    let topology = read_topology(
        topo_table,
        racks_tables,
        &host_types,
        &host_type_names,
        (&top.origin, topo_present),
        d,
    );
    let flavor_tables = top.opt_table_array("flavors", d);
    let unreadable = unreadable_entries(top.node("flavors"), flavor_tables.len());
    let (flavors, mut flavor_names) = read_flavors(flavor_tables, d);
    flavor_names.extend(unreadable);
    let workloads_present = top.has("workloads");
    let workload_tables = top.opt_table_array("workloads", d);
    let workloads = read_workloads(workload_tables, workloads_present, &flavor_names, d);
    let mut infra = InfraConfig::default();
    let allocation = match top.opt_table("nova", d) {
        Some(t) => read_nova(t, &mut infra, d),
        None => Some(AllocationConfig::default()),
    };
    let libvirt_ok = top
        .opt_table("libvirt", d)
        .map(|t| read_libvirt(t, &mut infra, d))
        .unwrap_or(true);
    let mut qemu_ok = true;
    if let Some(mut q) = top.opt_table("qemu", d) {
        let mut v = infra.switchover;
        qemu_ok &= set_duration_min(&mut q, "switchover_time", true, &mut v, d);
        infra.switchover = v;
        q.finish(d);
    }
    let maintenance_tables = top.opt_table_array("maintenance", d);
    let pacemaker_ok = top
        .opt_table("pacemaker", d)
        .map(|t| read_pacemaker(t, &mut infra, d))
        .unwrap_or(true);
    let ipmi_ok = top
        .opt_table("ipmi", d)
        .map(|t| read_ipmi(t, &mut infra, d))
        .unwrap_or(true);
    let operator_ok = match top.opt_table("operator", d) {
        Some(t) => {
            infra.operator = super::operator::read_operator(t, d);
            infra.operator.is_some()
        }
        None => true,
    };
    let policy_tables = PolicyTables {
        masakari: top.opt_table("masakari", d),
        monitors: top.opt_table("masakari_monitors", d),
        instance_ha: top.opt_table("instance_ha", d),
        pca: top.opt_table("pca", d),
        gce: top.opt_table("gce", d),
    };
    let failures = match (top.opt_table("failures", d), &topology) {
        (Some(t), Some(topo)) => read_failures(t, topo, &ctx, d),
        (Some(t), None) => {
            // Still check the section's own keys so every problem is reported.
            let empty = Topology::default();
            read_failures(t, &empty, &ctx, d)
        }
        (None, _) => Some(FailureModel::default()),
    };
    let expectations = match top.opt_table("expect", d) {
        Some(t) => read_expect(t, d),
        None => Some(Vec::new()),
    };
    let mut policy_origin = top.origin.clone();
    let (policy_name, external) = match top.opt_table("policy", d) {
        Some(t) => {
            policy_origin = t.origin_of("name");
            read_policy(t, &ctx.base_dir, d)
        }
        None => (Some("none"), Some(None)),
    };
    let policy_and_reserved =
        read_policy_tables(policy_tables, policy_name, &policy_origin, &mut infra, d);
    let policy_and_reserved = match (policy_and_reserved, external) {
        ((Some(_), reserved), Some(Some(ext))) => (Some(PolicyConfig::External(ext)), reserved),
        ((p, reserved), Some(_)) => (p, reserved),
        ((_, reserved), None) => (None, reserved),
    };
    top.finish(d);

    let (name, simulation, topology, (workloads, groups, vms, wl_origins), failures, allocation) = (
        name?,
        simulation?,
        topology?,
        workloads?,
        failures?,
        allocation?,
    );
    let (policy, reserved_names) = policy_and_reserved;
    let mut reserved_hosts = Vec::new();
    for (n, origin) in &reserved_names {
        match topology.hosts.iter().position(|h| &h.name == n) {
            Some(i) => reserved_hosts.push(HostId(i as u32)),
            None => d.push(
                origin,
                "masakari.reserved_hosts",
                format!("no host named \"{n}\""),
            ),
        }
    }
    let maintenance = read_maintenance(maintenance_tables, &topology, d);
    let (Some(policy), true, true, true, true, true, Some(maintenance)) = (
        policy,
        pacemaker_ok,
        ipmi_ok,
        operator_ok,
        libvirt_ok,
        qemu_ok,
        maintenance,
    ) else {
        return None;
    };
    if !d.is_empty() {
        return None;
    }
    for (w, origin) in workloads.iter().zip(&wl_origins) {
        if w.storage == Storage::Local {
            for ht in &topology.host_types {
                if ht.disk_gib.is_none() {
                    d.push(
                        origin,
                        "storage",
                        format!(
                        "workload \"{}\" uses local storage but host type \"{}\" has no disk_gib",
                        w.name, ht.name
                    ),
                    );
                }
            }
        }
    }
    if !d.is_empty() {
        return None;
    }
    let placement = match place_all(
        &topology,
        &flavors,
        &workloads,
        &groups,
        &vms,
        &allocation,
        &reserved_hosts,
    ) {
        Ok(p) => p,
        Err(short) => {
            for (&wi, &n) in &short.unplaced {
                let w = &workloads[wi];
                let mut msg = format!(
                    "cannot place {n} of {} VMs of workload \"{}\"",
                    w.count, w.name
                );
                let mut gaps = Vec::new();
                if short.vcpus_missing > 0 {
                    gaps.push(format!("{} vCPUs", short.vcpus_missing));
                }
                if short.ram_gib_missing > 0 {
                    gaps.push(format!("{} GiB RAM", short.ram_gib_missing));
                }
                if short.disk_gib_missing > 0 {
                    gaps.push(format!("{} GiB local disk", short.disk_gib_missing));
                }
                if gaps.is_empty() {
                    msg.push_str(
                        ": total capacity suffices, so server-group rules or per-host fit block it",
                    );
                } else {
                    msg.push_str(&format!(
                        ": the fleet is short of {} (after allocation ratios and reserved host memory)",
                        gaps.join(", ")
                    ));
                }
                d.push(&wl_origins[wi], &format!("workloads[{wi}]"), msg);
            }
            return None;
        }
    };
    Some(Model {
        name,
        description,
        provenance: prov,
        simulation,
        topology,
        flavors,
        workloads,
        groups,
        vms,
        placement,
        failures,
        policy,
        allocation,
        infra,
        reserved_hosts,
        maintenance,
        expectations: expectations?,
    })
}

/// `[expect]`: `metric.stat = "op value"`, for metrics in the registry.
fn read_expect(t: TableReader<'_>, d: &mut Diagnostics) -> Option<Vec<Expectation>> {
    let names: Vec<String> = registry().into_iter().map(|m| m.name).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut ok = true;
    // Checks are reported in file order, so sort the (alphabetical) table by position.
    let mut entries = t.entries();
    entries.sort_by_key(|(_, origin, _)| match origin {
        Origin::File(span) => (0, span.start),
        Origin::Override(_) => (1, 0),
    });
    for (metric, origin, node) in entries {
        let path = format!("expect.{metric}");
        if !names.iter().any(|n| n == metric) {
            let hint = match closest(metric, &name_refs) {
                Some(s) => format!(" (did you mean \"{s}\"?)"),
                None => " (see README: Results for the metric names)".to_string(),
            };
            d.push(origin, &path, format!("unknown metric{hint}"));
            ok = false;
            continue;
        }
        let Value::Table(stats) = &node.value else {
            d.push(
                &node.origin,
                &path,
                "expected a statistic: write expect.<metric>.mean = \">= 0.999\"",
            );
            ok = false;
            continue;
        };
        for (stat, (stat_origin, cond)) in &stats.entries {
            let key = format!("{path}.{stat}");
            let Some(stat) = Stat::parse(stat) else {
                d.push(
                    stat_origin,
                    &key,
                    format!("unknown statistic (one of {})", Stat::NAMES.join(", ")),
                );
                ok = false;
                continue;
            };
            let Value::Str(text) = &cond.value else {
                d.push(
                    &cond.origin,
                    &key,
                    "expected a string such as \">= 0.9995\"",
                );
                ok = false;
                continue;
            };
            match parse_condition(text) {
                Ok((op, value)) => out.push(Expectation {
                    metric: metric.to_string(),
                    stat,
                    op,
                    value,
                }),
                Err(msg) => {
                    d.push(&cond.origin, &key, msg);
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

fn read_simulation(mut t: TableReader<'_>, d: &mut Diagnostics) -> Option<SimulationConfig> {
    let horizon_origin = t.origin_of("horizon");
    let horizon = t.duration("horizon", false, d).filter(|h| {
        let ok = h.as_us() <= MAX_HORIZON_YEARS * US_PER_Y;
        if !ok {
            d.push(
                &horizon_origin,
                "simulation.horizon",
                format!("{h} is longer than the limit of {MAX_HORIZON_YEARS} years"),
            );
        }
        ok
    });
    let replications = t
        .opt_int("replications", 1, MAX_REPLICATIONS, d)
        .unwrap_or(1);
    let seed = t.int("seed", 0, i64::MAX, d);
    t.finish(d);
    Some(SimulationConfig {
        horizon: horizon?,
        replications: replications as u32,
        seed: seed? as u64,
    })
}

/// Reads `[[host_types]]`. Returns the valid entries and the names of all entries (a broken
/// entry's name still resolves, so one mistake is reported once, not again at every use).
fn read_host_types(
    tables: Vec<TableReader<'_>>,
    d: &mut Diagnostics,
) -> (Vec<HostType>, Vec<String>) {
    let mut out = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for mut t in tables {
        let name = t.str("name", d);
        let vcpus = t.int("vcpus", 1, 100_000, d);
        let ram = t.int("ram_gib", 1, 1_000_000, d);
        let disk = t.opt_int("disk_gib", 1, 1_000_000_000, d);
        let nic_origin = t.origin_of("nic_gbps");
        let nic = t.positive_number("nic_gbps", d).filter(|g| {
            let ok = *g <= MAX_NIC_GBPS;
            if !ok {
                d.push(
                    &nic_origin,
                    &t.key_path("nic_gbps"),
                    format!("{g} Gb/s is more than the limit of {MAX_NIC_GBPS} Gb/s"),
                );
            }
            ok
        });
        let boot = t.duration("boot_time", true, d);
        if let Some(n) = name {
            if names.iter().any(|x| x == n) {
                d.push(
                    &t.origin,
                    &t.key_path("name"),
                    format!("duplicate host type name \"{n}\""),
                );
            }
            names.push(n.to_string());
        }
        t.finish(d);
        if let (Some(name), Some(vcpus), Some(ram), Some(nic), Some(boot)) =
            (name, vcpus, ram, nic, boot)
        {
            out.push(HostType {
                name: name.to_string(),
                vcpus: vcpus as u32,
                ram_gib: ram as u32,
                disk_gib: disk.map(|x| x as u32),
                nic_gbps: nic,
                boot_time: boot,
            });
        }
    }
    (out, names)
}

/// Stands in the list of names for entries that could not be read as tables (`--set
/// host_types.0=1`): their names are unknown, so a reference to an undefined name may be to
/// one of them, and that problem was already reported as the entry's own.
const UNREADABLE: &str = "\0unreadable";

/// `[UNREADABLE]` if the array `node` holds more entries than the `tables` read from it.
fn unreadable_entries(node: Option<&Node>, tables: usize) -> Option<String> {
    let n = match node.map(|n| &n.value) {
        Some(Value::Array(items)) => items.len(),
        Some(_) => tables + 1,
        None => 0,
    };
    (n > tables).then(|| UNREADABLE.to_string())
}

fn resolve(
    name: &str,
    known: &[String],
    what: &str,
    t: &TableReader<'_>,
    key: &'static str,
    d: &mut Diagnostics,
) -> Option<usize> {
    match known.iter().position(|k| k == name && k != UNREADABLE) {
        Some(i) => Some(i),
        None if known.iter().any(|k| k == UNREADABLE) => None,
        None => {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = match closest(name, &names) {
                Some(s) => format!(" (did you mean \"{s}\"?)"),
                None if names.is_empty() => format!(" (no {what}s are defined)"),
                None => format!(" (defined: {})", names.join(", ")),
            };
            d.push(
                &t.origin_of(key),
                &t.key_path(key),
                format!("undefined {what} \"{name}\"{hint}"),
            );
            None
        }
    }
}

fn read_topology(
    uniform: Option<TableReader<'_>>,
    racks: Vec<TableReader<'_>>,
    host_types: &[HostType],
    type_names: &[String],
    (root, present): (&super::tree::Origin, bool),
    d: &mut Diagnostics,
) -> Option<Topology> {
    let mut topo = Topology {
        host_types: host_types.to_vec(),
        ..Topology::default()
    };
    match (uniform, racks.is_empty()) {
        (Some(_), false) => {
            d.push(
                root,
                "racks",
                "give either [topology] or [[racks]], not both",
            );
            None
        }
        (None, true) if present => None,
        (None, true) => {
            d.push(
                root,
                "topology",
                "missing required table [topology] (or a [[racks]] list)",
            );
            None
        }
        (Some(mut t), true) => {
            let zones = t.opt_str_list("zones", d);
            if !t.has("zones") {
                d.push(&t.origin, &t.key_path("zones"), "missing required key");
            }
            let fds = t.int("fault_domains_per_zone", 1, 10_000, d);
            let rpf = t.int("racks_per_fault_domain", 1, 100_000, d);
            let hpr = t.int("hosts_per_rack", 1, 100_000, d);
            let ht = t
                .str("host_type", d)
                .and_then(|n| resolve(n, type_names, "host type", &t, "host_type", d));
            let (origin, path) = (t.origin.clone(), t.path.clone());
            t.finish(d);
            let (zones, fds, rpf, hpr, ht) = (zones?, fds?, rpf?, hpr?, ht?);
            if zones.is_empty() {
                d.push(&origin, "topology.zones", "needs at least one zone");
                return None;
            }
            // Checked: a long zone list times the per-level maxima would wrap an i64.
            let total = [fds, rpf, hpr]
                .into_iter()
                .try_fold(zones.len() as i64, |acc, x| acc.checked_mul(x))
                .filter(|t| *t <= MAX_HOSTS);
            let Some(total) = total else {
                d.push(
                    &origin,
                    &path,
                    format!(
                        "{} zones x {fds} fault domains x {rpf} racks x {hpr} hosts exceed the limit of {MAX_HOSTS} hosts",
                        zones.len()
                    ),
                );
                return None;
            };
            topo.hosts.reserve(total as usize);
            let width = hpr.to_string().len().max(2);
            for z in zones {
                let zid = ZoneId(topo.zones.len() as u32);
                topo.zones.push(Zone {
                    name: z.to_string(),
                });
                for f in 1..=fds {
                    let fid = FaultDomainId(topo.fault_domains.len() as u32);
                    let fname = format!("{z}-fd{f}");
                    topo.fault_domains.push(FaultDomain {
                        name: fname.clone(),
                        zone: zid,
                    });
                    for r in 1..=rpf {
                        let rid = RackId(topo.racks.len() as u32);
                        let rname = format!("{fname}-r{r}");
                        for h in 1..=hpr {
                            topo.hosts.push(Host {
                                name: format!("{rname}-h{h:0width$}"),
                                rack: rid,
                                fault_domain: fid,
                                zone: zid,
                                host_type: HostTypeId(ht as u32),
                            });
                        }
                        topo.racks.push(Rack {
                            name: rname,
                            fault_domain: fid,
                            zone: zid,
                        });
                    }
                }
            }
            Some(topo)
        }
        (None, false) => {
            let mut ok = true;
            let mut seen: Vec<String> = Vec::new();
            for mut t in racks {
                let name = t.str("name", d);
                let zone = t.str("zone", d);
                let fd = t.str("fault_domain", d);
                let hosts = t.int("hosts", 1, MAX_HOSTS, d);
                let ht = t
                    .str("host_type", d)
                    .and_then(|n| resolve(n, type_names, "host type", &t, "host_type", d));
                if let Some(n) = name {
                    if seen.iter().any(|s| s == n) {
                        d.push(
                            &t.origin,
                            &t.key_path("name"),
                            format!("duplicate rack name \"{n}\""),
                        );
                        ok = false;
                    }
                    seen.push(n.to_string());
                }
                let (hosts_origin, hosts_key) = (t.origin_of("hosts"), t.key_path("hosts"));
                t.finish(d);
                let (Some(name), Some(zone), Some(fd), Some(hosts), Some(ht)) =
                    (name, zone, fd, hosts, ht)
                else {
                    ok = false;
                    continue;
                };
                let zid = match topo.zones.iter().position(|z| z.name == zone) {
                    Some(i) => ZoneId(i as u32),
                    None => {
                        topo.zones.push(Zone {
                            name: zone.to_string(),
                        });
                        ZoneId(topo.zones.len() as u32 - 1)
                    }
                };
                let fid = match topo
                    .fault_domains
                    .iter()
                    .position(|f| f.name == fd && f.zone == zid)
                {
                    Some(i) => FaultDomainId(i as u32),
                    None => {
                        topo.fault_domains.push(FaultDomain {
                            name: fd.to_string(),
                            zone: zid,
                        });
                        FaultDomainId(topo.fault_domains.len() as u32 - 1)
                    }
                };
                let rid = RackId(topo.racks.len() as u32);
                topo.racks.push(Rack {
                    name: name.to_string(),
                    fault_domain: fid,
                    zone: zid,
                });
                // The limit is checked before the hosts exist, not after a million racks.
                if topo.hosts.len() as i64 + hosts > MAX_HOSTS {
                    d.push(
                        &hosts_origin,
                        &hosts_key,
                        format!(
                            "this rack brings the fleet to {} hosts, over the limit of {MAX_HOSTS}",
                            topo.hosts.len() as i64 + hosts
                        ),
                    );
                    return None;
                }
                let width = hosts.to_string().len().max(2);
                for h in 1..=hosts {
                    topo.hosts.push(Host {
                        name: format!("{name}-h{h:0width$}"),
                        rack: rid,
                        fault_domain: fid,
                        zone: zid,
                        host_type: HostTypeId(ht as u32),
                    });
                }
            }
            if topo.hosts.len() as i64 > MAX_HOSTS {
                d.push(
                    root,
                    "racks",
                    format!("{} hosts exceed the limit of {MAX_HOSTS}", topo.hosts.len()),
                );
                ok = false;
            }
            ok.then_some(topo)
        }
    }
}

/// Reads `[[flavors]]`: valid entries and the names of all entries (see `read_host_types`).
fn read_flavors(tables: Vec<TableReader<'_>>, d: &mut Diagnostics) -> (Vec<Flavor>, Vec<String>) {
    let mut out: Vec<Flavor> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for mut t in tables {
        let name = t.str("name", d);
        let vcpus = t.int("vcpus", 1, 10_000, d);
        let ram = t.int("ram_gib", 1, 1_000_000, d);
        let disk = t.opt_int("disk_gib", 0, 1_000_000, d).unwrap_or(0);
        if let Some(n) = name {
            if names.iter().any(|x| x == n) {
                d.push(
                    &t.origin,
                    &t.key_path("name"),
                    format!("duplicate flavor name \"{n}\""),
                );
            }
            names.push(n.to_string());
        }
        t.finish(d);
        if let (Some(name), Some(vcpus), Some(ram)) = (name, vcpus, ram) {
            out.push(Flavor {
                name: name.to_string(),
                vcpus: vcpus as u32,
                ram_gib: ram as u32,
                disk_gib: disk as u32,
            });
        }
    }
    (out, names)
}

type WorkloadParts = (
    Vec<Workload>,
    Vec<ServerGroup>,
    Vec<Vm>,
    Vec<super::tree::Origin>,
);

fn read_workloads(
    tables: Vec<TableReader<'_>>,
    present: bool,
    flavor_names: &[String],
    d: &mut Diagnostics,
) -> Option<WorkloadParts> {
    let (mut workloads, mut groups, mut vms, mut origins) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut ok = true;
    if tables.is_empty() {
        ok = false;
    }
    if tables.is_empty() && !present {
        d.push(
            &super::tree::Origin::File(0..0),
            "workloads",
            "missing: at least one [[workloads]] entry is required",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for mut t in tables {
        let name = t.str("name", d);
        let count = t.int("count", 1, MAX_VMS, d);
        let flavor = t
            .str("flavor", d)
            .and_then(|n| resolve(n, flavor_names, "flavor", &t, "flavor", d));
        let storage = t
            .choice("storage", &["shared", "local", "volume"], d)
            .map(|s| match s {
                "shared" => Storage::Shared,
                "local" => Storage::Local,
                _ => Storage::Volume,
            });
        let boot = t.duration("boot_time", true, d);
        let ha = t.opt_bool("ha", d).unwrap_or(true);
        let initially_stopped = t
            .opt_choice("initial_state", &["running", "stopped"], d)
            .map(|s| s == "stopped")
            .unwrap_or(false);
        let pin_zone = t.opt_bool("pin_zone", d).unwrap_or(true);
        let maintenance = read_workload_maintenance(&mut t, d);
        let tags = t.opt_str_list("tags", d).unwrap_or_default();
        let group = match t.opt_table("server_group", d) {
            Some(mut g) => {
                let p = g
                    .choice(
                        "policy",
                        &["anti-affinity", "affinity", "soft-anti-affinity"],
                        d,
                    )
                    .map(|p| match p {
                        "anti-affinity" => GroupPolicy::AntiAffinity,
                        "affinity" => GroupPolicy::Affinity,
                        _ => GroupPolicy::SoftAntiAffinity,
                    });
                let size = g.opt_int("size", 1, MAX_VMS, d);
                g.finish(d);
                p.map(|p| Some((p, size)))
            }
            None => Some(None),
        };
        if let Some(n) = name {
            if seen.iter().any(|s| s == n) {
                d.push(
                    &t.origin,
                    &t.key_path("name"),
                    format!("duplicate workload name \"{n}\""),
                );
                ok = false;
            }
            seen.push(n.to_string());
        }
        let origin = t.origin.clone();
        let (count_origin, count_key) = (t.origin_of("count"), t.key_path("count"));
        t.finish(d);
        let (Some(name), Some(count), Some(flavor), Some(storage), Some(boot), Some(group)) =
            (name, count, flavor, storage, boot, group)
        else {
            ok = false;
            continue;
        };
        // The limit is checked before the VMs exist.
        if vms.len() as i64 + count > MAX_VMS {
            d.push(
                &count_origin,
                &count_key,
                format!(
                    "this workload brings the total to {} VMs, over the limit of {MAX_VMS}",
                    vms.len() as i64 + count
                ),
            );
            return None;
        }
        let wid = WorkloadId(workloads.len() as u32);
        let count = count as u32;
        let first_group = groups.len();
        if let Some((policy, size)) = group {
            let size = size.map(|s| s as u32).unwrap_or(count).max(1);
            for _ in 0..count.div_ceil(size) {
                groups.push(ServerGroup {
                    policy,
                    workload: wid,
                });
            }
            for i in 0..count {
                vms.push(Vm {
                    name: format!("{name}-{}", i + 1),
                    workload: wid,
                    flavor: FlavorId(flavor as u32),
                    group: Some(ServerGroupId((first_group + (i / size) as usize) as u32)),
                });
            }
        } else {
            for i in 0..count {
                vms.push(Vm {
                    name: format!("{name}-{}", i + 1),
                    workload: wid,
                    flavor: FlavorId(flavor as u32),
                    group: None,
                });
            }
        }
        workloads.push(Workload {
            name: name.to_string(),
            count,
            flavor: FlavorId(flavor as u32),
            storage,
            boot_time: boot,
            ha,
            initially_stopped,
            pin_zone,
            tags: tags.into_iter().map(str::to_string).collect(),
            maintenance,
        });
        origins.push(origin);
    }
    if vms.len() as i64 > MAX_VMS {
        d.push(
            &super::tree::Origin::File(0..0),
            "workloads",
            format!("{} VMs exceed the limit of {MAX_VMS}", vms.len()),
        );
        ok = false;
    }
    ok.then_some((workloads, groups, vms, origins))
}

fn read_nova(
    mut t: TableReader<'_>,
    infra: &mut InfraConfig,
    d: &mut Diagnostics,
) -> Option<AllocationConfig> {
    if let Some(v) = t.opt_duration("report_interval", false, d) {
        infra.nova.report_interval = v;
    }
    if let Some(v) = t.opt_duration("service_down_time", false, d) {
        infra.nova.service_down_time = v;
    }
    if let Some(v) = t.opt_int("max_concurrent_live_migrations", 1, 1000, d) {
        infra.max_concurrent_live_migrations = v as u32;
    }
    let mut resume = infra.resume_guests_state_on_host_boot;
    let resume_ok = set_bool(&mut t, "resume_guests_state_on_host_boot", &mut resume, d);
    infra.resume_guests_state_on_host_boot = resume;
    let def = AllocationConfig::default();
    let mut num = |t: &mut TableReader<'_>, key: &'static str, default: f64| {
        if t.has(key) {
            t.positive_number(key, d)
        } else {
            Some(default)
        }
    };
    let cpu = num(&mut t, "cpu_allocation_ratio", def.cpu_allocation_ratio);
    let ram = num(&mut t, "ram_allocation_ratio", def.ram_allocation_ratio);
    let disk = num(&mut t, "disk_allocation_ratio", def.disk_allocation_ratio);
    let reserved = t.opt_int("reserved_host_memory_mb", 0, 1 << 40, d);
    let had_reserved = t.has("reserved_host_memory_mb");
    t.finish(d);
    if (had_reserved && reserved.is_none()) || !resume_ok {
        return None;
    }
    Some(AllocationConfig {
        cpu_allocation_ratio: cpu?,
        ram_allocation_ratio: ram?,
        disk_allocation_ratio: disk?,
        reserved_host_memory_mb: reserved
            .map(|r| r as u64)
            .unwrap_or(def.reserved_host_memory_mb),
    })
}

fn read_failures(
    mut t: TableReader<'_>,
    topo: &Topology,
    ctx: &DistContext,
    d: &mut Diagnostics,
) -> Option<FailureModel> {
    let mut ok = true;
    let host = match t.opt_table("host", d) {
        Some(mut h) => {
            let tb = h.dist("time_between", ctx, d);
            let rep = h.dist("repair", ctx, d);
            h.finish(d);
            match (tb, rep) {
                (Some(time_between), Some(repair)) => Some(HostFailures {
                    time_between,
                    repair,
                }),
                _ => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    let mut domains = Vec::new();
    for (i, mut f) in t.opt_table_array("domain", d).into_iter().enumerate() {
        let level = f
            .choice("level", &["rack", "fault_domain", "zone"], d)
            .map(|l| match l {
                "rack" => DomainLevel::Rack,
                "fault_domain" => DomainLevel::FaultDomain,
                _ => DomainLevel::Zone,
            });
        let name = f.opt_str("name", d).map(str::to_string);
        let tb = f.dist("time_between", ctx, d);
        let rep = f.dist("repair", ctx, d);
        f.finish(d);
        match (level, tb, rep) {
            (Some(level), Some(time_between), Some(repair)) => domains.push(DomainFailures {
                name: name.unwrap_or_else(|| format!("{}-outage-{}", level.name(), i + 1)),
                level,
                time_between,
                repair,
                domains: topo.domains(level),
            }),
            _ => ok = false,
        }
    }
    let trace = match t.opt_table("trace", d) {
        Some(mut tr) => {
            let file_node = tr.node("file");
            let file = tr.str("file", d);
            let format = tr.choice("format", &["fta"], d);
            let mapping = tr.opt_choice("mapping", &["in-order"], d);
            let bad_mapping = tr.has("mapping") && mapping.is_none();
            let file_key = tr.key_path("file");
            tr.finish(d);
            match (file, format) {
                (Some(file), Some(_)) if !bad_mapping => {
                    let path = ctx.base_dir.join(file);
                    let gz = path.extension().is_some_and(|e| e == "gz");
                    let read = open_regular(&path, MAX_TRACE_BYTES)
                        .and_then(|_| match gz {
                            true => check_gzip_inflated(&path, MAX_TRACE_BYTES),
                            false => Ok(()),
                        })
                        .and_then(|_| read_fta(&path))
                        .and_then(|nodes| {
                            check_trace_span(&nodes, topo.hosts.len()).map(|_| nodes)
                        });
                    match read {
                        Ok(nodes) if nodes.is_empty() => {
                            d.push(
                                &file_node.unwrap().origin,
                                &file_key,
                                format!("{}: no intervals in trace", path.display()),
                            );
                            ok = false;
                            None
                        }
                        Ok(nodes) => Some(map_in_order(&nodes, topo.hosts.len())),
                        Err(msg) => {
                            d.push(
                                &file_node.unwrap().origin,
                                &file_key,
                                format!("{}: {msg}", path.display()),
                            );
                            ok = false;
                            None
                        }
                    }
                }
                _ => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    let guest = match t.opt_table("guest", d) {
        Some(mut g) => {
            let tb = g.dist("time_between", ctx, d);
            g.finish(d);
            match tb {
                Some(time_between) => Some(GuestFailures { time_between }),
                None => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    let mut outage = |key: &'static str, d: &mut Diagnostics| match t.opt_table(key, d) {
        Some(mut p) => {
            let tb = p.dist("time_between", ctx, d);
            let du = p.dist("duration", ctx, d);
            let hosts = read_host_list(&mut p, topo, &format!("failures.{key}.hosts"), d);
            p.finish(d);
            match (tb, du) {
                (Some(time_between), Some(duration)) => Some(HostOutageProcess {
                    time_between,
                    duration,
                    hosts,
                }),
                _ => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    let control_plane = outage("control_plane", d);
    let partition = outage("partition", d);
    let bmc = match t.opt_table("bmc", d) {
        Some(mut b) => {
            let pr = b.number_in("probability", 0.0, 1.0, d);
            let du = b.dist("duration", ctx, d);
            b.finish(d);
            match (pr, du) {
                (Some(probability), Some(duration)) => Some(BmcFailures {
                    probability,
                    duration,
                }),
                _ => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    let reboot = match t.opt_table("reboot", d) {
        Some(mut b) => {
            let pr = b.number_in("probability", 0.0, 1.0, d);
            let du = b.dist("duration", ctx, d);
            b.finish(d);
            match (pr, du) {
                (Some(probability), Some(duration)) => Some(RebootFailures {
                    probability,
                    duration,
                }),
                _ => {
                    ok = false;
                    None
                }
            }
        }
        None => None,
    };
    t.finish(d);
    ok.then_some(FailureModel {
        host,
        partition,
        control_plane,
        guest,
        bmc,
        reboot,
        domains,
        trace,
    })
}

/// `[policy]`: the name, and an external controller's keys (`scenario::external`).
fn read_policy(
    mut t: TableReader<'_>,
    base_dir: &std::path::Path,
    d: &mut Diagnostics,
) -> (Option<&'static str>, Option<Option<ExternalConfig>>) {
    let name = t.choice("name", POLICY_NAMES, d);
    let external = read_external(&mut t, name == Some("external"), base_dir, d);
    t.finish(d);
    (name, external)
}

/// Sets `*slot` from an optional duration key; false if the key is present but invalid.
fn set_duration(
    t: &mut TableReader<'_>,
    key: &'static str,
    slot: &mut SimDuration,
    d: &mut Diagnostics,
) -> bool {
    set_duration_min(t, key, false, slot, d)
}

/// `set_duration`, allowing zero when `allow_zero`.
fn set_duration_min(
    t: &mut TableReader<'_>,
    key: &'static str,
    allow_zero: bool,
    slot: &mut SimDuration,
    d: &mut Diagnostics,
) -> bool {
    let present = t.has(key);
    match t.opt_duration(key, allow_zero, d) {
        Some(v) => {
            *slot = v;
            true
        }
        None => !present,
    }
}

fn set_bool(
    t: &mut TableReader<'_>,
    key: &'static str,
    slot: &mut bool,
    d: &mut Diagnostics,
) -> bool {
    let present = t.has(key);
    match t.opt_bool(key, d) {
        Some(v) => {
            *slot = v;
            true
        }
        None => !present,
    }
}

fn set_count(
    t: &mut TableReader<'_>,
    key: &'static str,
    min: i64,
    slot: &mut u32,
    d: &mut Diagnostics,
) -> bool {
    let present = t.has(key);
    match t.opt_int(key, min, 1_000_000, d) {
        Some(v) => {
            *slot = v as u32;
            true
        }
        None => !present,
    }
}

/// `[pacemaker]`: cluster properties and the remote-node timers.
fn read_pacemaker(mut t: TableReader<'_>, infra: &mut InfraConfig, d: &mut Diagnostics) -> bool {
    let c = &mut infra.pacemaker;
    let mut ok = set_bool(&mut t, "stonith_enabled", &mut c.stonith_enabled, d);
    ok &= set_duration(&mut t, "stonith_timeout", &mut c.stonith_timeout, d);
    ok &= set_count(
        &mut t,
        "stonith_max_attempts",
        1,
        &mut c.stonith_max_attempts,
        d,
    );
    ok &= set_duration(
        &mut t,
        "remote_monitor_interval",
        &mut c.remote_monitor_interval,
        d,
    );
    ok &= set_duration(&mut t, "reconnect_interval", &mut c.reconnect_interval, d);
    let present = t.has("stonith_action");
    match t.opt_choice("stonith_action", &["reboot", "off"], d) {
        Some("off") => c.stonith_action = StonithAction::Off,
        Some(_) => c.stonith_action = StonithAction::Reboot,
        None => ok &= !present,
    }
    t.finish(d);
    ok
}

/// `[ipmi]`: fence_ipmilan timing.
fn read_ipmi(mut t: TableReader<'_>, infra: &mut InfraConfig, d: &mut Diagnostics) -> bool {
    let mut ok = set_duration(&mut t, "power_wait", &mut infra.ipmi.power_wait, d);
    ok &= set_duration(
        &mut t,
        "stonith_status_sleep",
        &mut infra.ipmi.status_sleep,
        d,
    );
    t.finish(d);
    ok
}

/// The component tables of the policies. Every table is checked whichever policy runs, so
/// `--set policy.name=...` can switch between them.
struct PolicyTables<'a> {
    masakari: Option<TableReader<'a>>,
    monitors: Option<TableReader<'a>>,
    instance_ha: Option<TableReader<'a>>,
    pca: Option<TableReader<'a>>,
    gce: Option<TableReader<'a>>,
}

type ReservedNames = Vec<(String, super::tree::Origin)>;

fn read_policy_tables(
    tables: PolicyTables<'_>,
    name: Option<&'static str>,
    name_origin: &Origin,
    infra: &mut InfraConfig,
    d: &mut Diagnostics,
) -> (Option<PolicyConfig>, ReservedNames) {
    use crate::policy::instance_ha::InstanceHaConfig;
    use crate::policy::masakari::MasakariConfig;
    use crate::policy::pca::PcaConfig;
    let mut ok = true;
    let mut m = MasakariConfig::default();
    let mut reserved = Vec::new();
    let us = |v: SimDuration| v.as_us();
    if let Some(mut t) = tables.masakari {
        let dur =
            |t: &mut TableReader<'_>, key: &'static str, slot: &mut u64, d: &mut Diagnostics| {
                let mut v = SimDuration(*slot);
                let good = set_duration(t, key, &mut v, d);
                *slot = us(v);
                good
            };
        ok &= dur(
            &mut t,
            "wait_period_after_service_update",
            &mut m.wait_period_after_service_update_us,
            d,
        );
        ok &= dur(
            &mut t,
            "wait_period_after_evacuation",
            &mut m.wait_period_after_evacuation_us,
            d,
        );
        ok &= dur(
            &mut t,
            "process_unfinished_notifications_interval",
            &mut m.process_unfinished_notifications_interval_us,
            d,
        );
        ok &= dur(&mut t, "verify_interval", &mut m.verify_interval_us, d);
        ok &= dur(
            &mut t,
            "wait_period_after_power_off",
            &mut m.wait_period_after_power_off_us,
            d,
        );
        ok &= dur(
            &mut t,
            "wait_period_after_power_on",
            &mut m.wait_period_after_power_on_us,
            d,
        );
        ok &= set_count(
            &mut t,
            "host_failure_recovery_threads",
            1,
            &mut m.host_failure_recovery_threads,
            d,
        );
        ok &= set_bool(
            &mut t,
            "evacuate_all_instances",
            &mut m.evacuate_all_instances,
            d,
        );
        ok &= set_bool(
            &mut t,
            "clear_maintenance_on_host_return",
            &mut m.clear_maintenance_on_host_return,
            d,
        );
        let present = t.has("recovery_method");
        match t
            .opt_choice("recovery_method", RecoveryMethod::NAMES, d)
            .and_then(RecoveryMethod::parse)
        {
            Some(r) => m.recovery_method = r,
            None => ok &= !present,
        }
        let origin = t.origin_of("reserved_hosts");
        if let Some(names) = t.opt_str_list("reserved_hosts", d) {
            reserved = names
                .into_iter()
                .map(|n| (n.to_string(), origin.clone()))
                .collect();
        }
        t.finish(d);
    }
    if let Some(mut t) = tables.monitors {
        let mut v = SimDuration(m.monitoring_interval_us);
        ok &= set_duration(&mut t, "monitoring_interval", &mut v, d);
        m.monitoring_interval_us = us(v);
        ok &= set_bool(&mut t, "disable_ipmi_check", &mut m.disable_ipmi_check, d);
        ok &= set_bool(&mut t, "restrict_to_remotes", &mut m.restrict_to_remotes, d);
        let pc = &mut infra.power_check;
        ok &= set_duration(&mut t, "ipmi_timeout", &mut pc.ipmi_timeout, d);
        ok &= set_count(&mut t, "ipmi_retry_max", 0, &mut pc.ipmi_retry_max, d);
        ok &= set_duration(
            &mut t,
            "ipmi_retry_interval",
            &mut pc.ipmi_retry_interval,
            d,
        );
        t.finish(d);
    }
    let mut ih = InstanceHaConfig::default();
    if let Some(mut t) = tables.instance_ha {
        let mut v = SimDuration(ih.monitor_interval_us);
        ok &= set_duration(&mut t, "monitor_interval", &mut v, d);
        ih.monitor_interval_us = us(v);
        ok &= set_bool(&mut t, "instance_filtering", &mut ih.instance_filtering, d);
        t.finish(d);
    }
    let mut pca = PcaConfig::default();
    if let Some(mut t) = tables.pca {
        ok &= set_duration(&mut t, "fail_threshold", &mut infra.pca.fail_threshold, d);
        ok &= set_count(
            &mut t,
            "hypervisor_restart_attempts",
            0,
            &mut infra.pca.hypervisor_restart_attempts,
            d,
        );
        ok &= set_bool(
            &mut t,
            "strict_fault_domain",
            &mut pca.strict_fault_domain,
            d,
        );
        ok &= set_bool(
            &mut t,
            "auto_resolve_displaced",
            &mut pca.auto_resolve_displaced,
            d,
        );
        t.finish(d);
    }
    let mut gce_detection = false;
    if let Some(mut t) = tables.gce {
        gce_detection = t.has("host_error_detection");
        ok &= set_duration(
            &mut t,
            "host_error_detection",
            &mut infra.gce_host_error_detection,
            d,
        );
        t.finish(d);
    }
    if name == Some("gce") && !gce_detection {
        // GCE publishes no detection time: the scenario must say what it assumes.
        d.push(
            name_origin,
            "policy.name",
            "policy \"gce\" needs [gce] host_error_detection (a what-if input: GCE publishes no \
             detection time for host errors)",
        );
        ok = false;
    }
    let policy = name.map(|name| match name {
        "gce" => PolicyConfig::Gce(Default::default()),
        "masakari" => PolicyConfig::Masakari(m),
        "instance-ha" => PolicyConfig::InstanceHa(ih),
        "pca" => PolicyConfig::Pca(pca),
        _ => PolicyConfig::None,
    });
    (policy.filter(|_| ok), reserved)
}

/// An optional `hosts = ["name", ...]` list resolved to ids; unknown names are problems.
fn read_host_list(
    t: &mut TableReader<'_>,
    topo: &Topology,
    key: &str,
    d: &mut Diagnostics,
) -> Option<Vec<HostId>> {
    let origin = t.origin_of("hosts");
    let names = t.opt_str_list("hosts", d)?;
    Some(
        names
            .iter()
            .filter_map(|n| match topo.hosts.iter().position(|h| h.name == *n) {
                Some(i) => Some(HostId(i as u32)),
                None => {
                    d.push(&origin, key, format!("no host named \"{n}\""));
                    None
                }
            })
            .collect(),
    )
}

/// A rate distribution in MiB/s: a plain number (fixed) or `{ dist = "fixed" | "uniform" |
/// "exponential" | "lognormal", ... }` with numbers. Stored as a `DurationDist` whose "seconds"
/// are MiB/s, so sampling and validation are shared.
fn read_rate_dist(
    t: &mut TableReader<'_>,
    key: &'static str,
    d: &mut Diagnostics,
) -> Option<DurationDist> {
    let node = t.node(key)?;
    let path = t.key_path(key);
    let number = |n: &Node| match n.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    };
    if let Some(x) = number(node) {
        if !(x.is_finite() && x >= 0.0) {
            d.push(
                &node.origin,
                &path,
                format!("{x} must be a non-negative rate"),
            );
            return None;
        }
        return Some(DurationDist::Fixed {
            value: SimDuration::from_secs_f64_round(x),
        });
    }
    let mut r = TableReader::new(node, &path, d)?;
    let kind = r.choice("dist", &["fixed", "uniform", "exponential", "lognormal"], d);
    let dist = match kind {
        Some("fixed") => r
            .number_in("value", 0.0, 1e12, d)
            .map(|v| DurationDist::Fixed {
                value: SimDuration::from_secs_f64_round(v),
            }),
        Some("uniform") => {
            let (lo, hi) = (
                r.number_in("min", 0.0, 1e12, d),
                r.number_in("max", 0.0, 1e12, d),
            );
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo <= hi => Some(DurationDist::Uniform {
                    min_s: lo,
                    max_s: hi,
                }),
                (Some(_), Some(_)) => {
                    d.push(&r.origin, &r.key_path("min"), "min is greater than max");
                    None
                }
                _ => None,
            }
        }
        Some("exponential") => r
            .positive_number("mean", d)
            .map(|m| DurationDist::Exponential { mean_s: m }),
        Some("lognormal") => {
            let sigma = r.positive_number("sigma", d);
            let median = r.positive_number("median", d);
            match (median, sigma) {
                (Some(m), Some(s)) => Some(DurationDist::LogNormal {
                    mu: m.ln(),
                    sigma: s,
                }),
                _ => None,
            }
        }
        _ => None,
    };
    if kind.is_some() {
        r.finish(d);
    } else {
        r.skip_rest();
    }
    dist
}

/// A workload's maintenance keys (GCE `onHostMaintenance` semantics, live-migration inputs).
fn read_workload_maintenance(t: &mut TableReader<'_>, d: &mut Diagnostics) -> WorkloadMaintenance {
    let mut m = WorkloadMaintenance::default();
    if let Some(v) = t.opt_choice("on_host_maintenance", &["migrate", "terminate"], d) {
        m.migrate = v == "migrate";
    }
    if let Some(v) = t.opt_bool("automatic_restart", d) {
        m.automatic_restart = v;
    }
    if let Some(v) = t.opt_duration("maintenance_notice", true, d) {
        m.notice = v;
    }
    if let Some(v) = read_rate_dist(t, "dirty_rate_mib_s", d) {
        m.dirty_rate_mib_s = v;
    }
    if let Some(v) = t.opt_int("wws_mib", 1, 1 << 40, d) {
        m.wws_mib = Some(v as u64);
    }
    m
}

/// `[libvirt]`, `[qemu]` and Nova's migration concurrency.
fn read_libvirt(mut t: TableReader<'_>, infra: &mut InfraConfig, d: &mut Diagnostics) -> bool {
    let c = &mut infra.libvirt;
    let mut ok = true;
    let mut ms = |t: &mut TableReader<'_>,
                  key: &'static str,
                  slot: &mut u64,
                  min: u64,
                  d: &mut Diagnostics| {
        let present = t.has(key);
        match t.opt_duration(key, true, d) {
            Some(v) if v.as_us() / 1000 >= min => *slot = v.as_us() / 1000,
            Some(v) => {
                d.push(
                    &t.origin_of(key),
                    &t.key_path(key),
                    format!("{v} is below Nova's minimum of {min} ms"),
                );
                ok = false;
            }
            None => ok &= !present,
        }
    };
    ms(
        &mut t,
        "live_migration_downtime",
        &mut c.downtime_ms,
        100,
        d,
    );
    let mut ok2 = true;
    let mut count = |t: &mut TableReader<'_>,
                     key: &'static str,
                     slot: &mut u64,
                     min: i64,
                     d: &mut Diagnostics| {
        let present = t.has(key);
        match t.opt_int(key, min, 1 << 40, d) {
            Some(v) => *slot = v as u64,
            None => ok2 &= !present,
        }
    };
    count(
        &mut t,
        "live_migration_downtime_steps",
        &mut c.downtime_steps,
        3,
        d,
    );
    count(
        &mut t,
        "live_migration_downtime_delay",
        &mut c.downtime_delay_s,
        3,
        d,
    );
    count(
        &mut t,
        "live_migration_completion_timeout",
        &mut c.completion_timeout_s,
        0,
        d,
    );
    count(
        &mut t,
        "live_migration_bandwidth",
        &mut c.bandwidth_mib_s,
        0,
        d,
    );
    let mut ok3 = set_bool(
        &mut t,
        "live_migration_permit_post_copy",
        &mut c.permit_post_copy,
        d,
    );
    ok3 &= set_bool(
        &mut t,
        "live_migration_permit_auto_converge",
        &mut c.permit_auto_converge,
        d,
    );
    let present = t.has("live_migration_timeout_action");
    match t.opt_choice(
        "live_migration_timeout_action",
        &["abort", "force_complete"],
        d,
    ) {
        Some("force_complete") => {
            c.timeout_action = crate::infra::migration::TimeoutAction::ForceComplete
        }
        Some(_) => c.timeout_action = crate::infra::migration::TimeoutAction::Abort,
        None => ok3 &= !present,
    }
    t.finish(d);
    ok && ok2 && ok3
}

/// `[[maintenance]]` campaigns.
fn read_maintenance(
    tables: Vec<TableReader<'_>>,
    topo: &Topology,
    d: &mut Diagnostics,
) -> Option<Vec<Campaign>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, mut t) in tables.into_iter().enumerate() {
        let name = t
            .opt_str("name", d)
            .map(str::to_string)
            .unwrap_or_else(|| format!("maintenance-{}", i + 1));
        let start = t
            .opt_duration("start", true, d)
            .unwrap_or(SimDuration::ZERO);
        let every = t.opt_duration("every", false, d);
        let host_duration = t.duration("host_duration", true, d);
        let max_hosts = t
            .opt_int("max_concurrent_hosts", 1, 1_000_000, d)
            .unwrap_or(1) as u32;
        let per_fd = t
            .opt_int("max_concurrent_per_fault_domain", 1, 1_000_000, d)
            .map(|v| v as u32);
        let floor = t
            .opt_int("min_available_hosts", 0, 1_000_000, d)
            .unwrap_or(0) as u32;
        let retries = t.opt_int("migration_retries", 0, 100, d).unwrap_or(1) as u32;
        let migrate_back = t.opt_bool("migrate_back", d).unwrap_or(false);
        let on_abort = match t.opt_choice("on_migration_abort", &["cold-migrate", "skip-host"], d) {
            Some("skip-host") => OnAbort::SkipHost,
            _ => OnAbort::ColdMigrate,
        };
        let zone = t.opt_str("zone", d);
        let fd = t.opt_str("fault_domain", d);
        let listed = read_host_list(&mut t, topo, "maintenance.hosts", d);
        let hosts: Vec<HostId> = match (zone, fd, listed) {
            (_, _, Some(h)) => h,
            (Some(z), _, None) => match topo.zones.iter().position(|x| x.name == z) {
                Some(zi) => topo
                    .host_ids()
                    .filter(|h| topo.host(*h).zone.index() == zi)
                    .collect(),
                None => {
                    d.push(
                        &t.origin_of("zone"),
                        &t.key_path("zone"),
                        format!("no zone named \"{z}\""),
                    );
                    ok = false;
                    Vec::new()
                }
            },
            (None, Some(f), None) => match topo.fault_domains.iter().position(|x| x.name == f) {
                Some(fi) => topo
                    .host_ids()
                    .filter(|h| topo.host(*h).fault_domain.index() == fi)
                    .collect(),
                None => {
                    d.push(
                        &t.origin_of("fault_domain"),
                        &t.key_path("fault_domain"),
                        format!("no fault domain named \"{f}\""),
                    );
                    ok = false;
                    Vec::new()
                }
            },
            (None, None, None) => topo.host_ids().collect(),
        };
        t.finish(d);
        match host_duration {
            Some(host_duration) => out.push(Campaign {
                name,
                hosts,
                start,
                every,
                host_duration,
                max_concurrent_hosts: max_hosts,
                max_concurrent_per_fault_domain: per_fd,
                min_available_hosts: floor,
                on_abort,
                migration_retries: retries,
                migrate_back,
            }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}
