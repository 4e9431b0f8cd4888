//! The registry of every table and key the scenario reader accepts, and the JSON Schema
//! (`hasim schema`) generated from it.
//!
//! `TableReader::node` notes every key it is asked for; a key the registry lacks is remembered
//! (see `unregistered`) so the tests fail when the reader grows a key nobody registered.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// A value's type as the reader accepts it.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Int,
    /// An integer or a float.
    Number,
    Str,
    Bool,
    /// A string such as `"90s"` (units us ms s m h d y).
    Duration,
    StrList,
    Enum(&'static [&'static str]),
    /// A sub-table whose keys are registered under its own path.
    Table,
    /// An array of tables, registered under `path[]`.
    TableArray,
    /// A duration distribution table (`dist = "weibull"`, ...).
    Dist,
    /// A rate: a non-negative number or a rate distribution table.
    Rate,
    /// A table of string values with free keys (`[policy.env]`).
    StrMap,
    /// Any TOML value, passed on as JSON (`[policy.config]`).
    Any,
    /// `[expect]`: `metric.stat = "op value"`.
    Expect,
}

/// One key of one table.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// The table path with array indices removed: `""` (top), `failures.domain[]`.
    pub table: &'static str,
    pub key: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

const fn k(table: &'static str, key: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key {
        table,
        key,
        kind,
        required: false,
        doc,
    }
}

const fn req(table: &'static str, key: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key {
        table,
        key,
        kind,
        required: true,
        doc,
    }
}

use Kind::*;

/// The duration-distribution names (the reader's `DISTS` is this list).
pub const DIST_NAMES: &[&str] = &[
    "exponential",
    "weibull",
    "lognormal",
    "gamma",
    "uniform",
    "fixed",
    "empirical",
];

/// Every key the reader accepts. Tables of kind `Table`/`TableArray` list their own keys under
/// their path.
pub const KEYS: &[Key] = &[
    // Top level.
    req(
        "",
        "name",
        Str,
        "scenario name; names the results directory",
    ),
    k("", "description", Str, "free text shown in reports"),
    req("", "simulation", Table, "horizon, replications and seed"),
    k("", "host_types", TableArray, "hardware types of hosts"),
    k(
        "",
        "topology",
        Table,
        "a regular zone/fault-domain/rack layout",
    ),
    k(
        "",
        "racks",
        TableArray,
        "racks listed one by one (instead of [topology])",
    ),
    k("", "flavors", TableArray, "VM sizes"),
    req("", "workloads", TableArray, "groups of VMs"),
    k("", "nova", Table, "Nova scheduler and compute settings"),
    k("", "libvirt", Table, "libvirt live-migration settings"),
    k("", "qemu", Table, "QEMU migration settings"),
    k(
        "",
        "maintenance",
        TableArray,
        "planned host maintenance waves",
    ),
    k("", "pacemaker", Table, "Pacemaker fencing settings"),
    k("", "ipmi", Table, "fence_ipmilan timing"),
    k("", "operator", Table, "a human operator's response times"),
    k("", "masakari", Table, "Masakari engine options"),
    k(
        "",
        "masakari_monitors",
        Table,
        "masakari-monitors host monitor options",
    ),
    k(
        "",
        "instance_ha",
        Table,
        "Red Hat Instance HA (fence_compute) options",
    ),
    k("", "pca", Table, "Oracle PCA auto-recovery options"),
    k(
        "",
        "gce",
        Table,
        "GCE host-error recovery options (what-if inputs)",
    ),
    k("", "failures", Table, "failure processes"),
    k(
        "",
        "expect",
        Expect,
        "checks on results: metric.stat = \"op value\"",
    ),
    k("", "policy", Table, "the HA policy under test"),
    // [simulation]
    req(
        "simulation",
        "horizon",
        Duration,
        "simulated time per replication",
    ),
    k(
        "simulation",
        "replications",
        Int,
        "independent replications (default 1)",
    ),
    req("simulation", "seed", Int, "root seed of all random streams"),
    // [[host_types]]
    req("host_types[]", "name", Str, "host type name"),
    req("host_types[]", "vcpus", Int, "vCPUs per host"),
    req("host_types[]", "ram_gib", Int, "RAM per host, GiB"),
    k("host_types[]", "disk_gib", Int, "local disk per host, GiB"),
    k(
        "host_types[]",
        "nic_gbps",
        Number,
        "migration network bandwidth, Gbit/s",
    ),
    req("host_types[]", "boot_time", Duration, "host boot time"),
    // [topology]
    req("topology", "zones", StrList, "availability zone names"),
    req(
        "topology",
        "fault_domains_per_zone",
        Int,
        "fault domains in each zone",
    ),
    req(
        "topology",
        "racks_per_fault_domain",
        Int,
        "racks in each fault domain",
    ),
    req("topology", "hosts_per_rack", Int, "hosts in each rack"),
    req("topology", "host_type", Str, "host type of every host"),
    // [[racks]]
    req("racks[]", "name", Str, "rack name"),
    req("racks[]", "zone", Str, "availability zone of the rack"),
    req("racks[]", "fault_domain", Str, "fault domain of the rack"),
    req("racks[]", "hosts", Int, "hosts in the rack"),
    req("racks[]", "host_type", Str, "host type of the rack's hosts"),
    // [[flavors]]
    req("flavors[]", "name", Str, "flavor name"),
    req("flavors[]", "vcpus", Int, "vCPUs per VM"),
    req("flavors[]", "ram_gib", Int, "RAM per VM, GiB"),
    k(
        "flavors[]",
        "disk_gib",
        Int,
        "local disk per VM, GiB (default 0)",
    ),
    // [[workloads]]
    req("workloads[]", "name", Str, "workload name"),
    req("workloads[]", "count", Int, "number of VMs"),
    req("workloads[]", "flavor", Str, "flavor of the VMs"),
    req(
        "workloads[]",
        "storage",
        Enum(&["shared", "local", "volume"]),
        "where VM disks live",
    ),
    req("workloads[]", "boot_time", Duration, "guest boot time"),
    k(
        "workloads[]",
        "ha",
        Bool,
        "protected by the HA policy (default true)",
    ),
    k(
        "workloads[]",
        "initial_state",
        Enum(&["running", "stopped"]),
        "state at time zero (default running)",
    ),
    k(
        "workloads[]",
        "pin_zone",
        Bool,
        "recover only within the VM's zone (default true)",
    ),
    k(
        "workloads[]",
        "tags",
        StrList,
        "labels for grouping results",
    ),
    k(
        "workloads[]",
        "server_group",
        Table,
        "a Nova server group of the VMs",
    ),
    k(
        "workloads[]",
        "on_host_maintenance",
        Enum(&["migrate", "terminate"]),
        "GCE-style maintenance behaviour",
    ),
    k(
        "workloads[]",
        "automatic_restart",
        Bool,
        "restart after a host error (GCE)",
    ),
    k(
        "workloads[]",
        "maintenance_notice",
        Duration,
        "notice before host maintenance",
    ),
    k(
        "workloads[]",
        "dirty_rate_mib_s",
        Rate,
        "guest memory dirty rate, MiB/s",
    ),
    k("workloads[]", "wws_mib", Int, "writable working set, MiB"),
    req(
        "workloads[].server_group",
        "policy",
        Enum(&["anti-affinity", "affinity", "soft-anti-affinity"]),
        "server group policy",
    ),
    k(
        "workloads[].server_group",
        "size",
        Int,
        "VMs per group (default: all)",
    ),
    // [nova]
    k(
        "nova",
        "report_interval",
        Duration,
        "nova-compute heartbeat interval",
    ),
    k(
        "nova",
        "service_down_time",
        Duration,
        "heartbeat age at which a compute is down",
    ),
    k(
        "nova",
        "max_concurrent_live_migrations",
        Int,
        "live migrations at once per host",
    ),
    k(
        "nova",
        "resume_guests_state_on_host_boot",
        Bool,
        "restart guests when their host boots",
    ),
    k(
        "nova",
        "cpu_allocation_ratio",
        Number,
        "vCPU overcommit ratio",
    ),
    k(
        "nova",
        "ram_allocation_ratio",
        Number,
        "RAM overcommit ratio",
    ),
    k(
        "nova",
        "disk_allocation_ratio",
        Number,
        "disk overcommit ratio",
    ),
    k(
        "nova",
        "reserved_host_memory_mb",
        Int,
        "RAM reserved for the host, MB",
    ),
    // [libvirt]
    k(
        "libvirt",
        "live_migration_downtime",
        Duration,
        "maximum guest pause (at least 100ms)",
    ),
    k(
        "libvirt",
        "live_migration_downtime_steps",
        Int,
        "downtime increase steps",
    ),
    k(
        "libvirt",
        "live_migration_downtime_delay",
        Int,
        "seconds between downtime steps, s",
    ),
    k(
        "libvirt",
        "live_migration_completion_timeout",
        Int,
        "timeout per GiB of RAM, s",
    ),
    k(
        "libvirt",
        "live_migration_bandwidth",
        Int,
        "bandwidth cap, MiB/s (0: none)",
    ),
    k(
        "libvirt",
        "live_migration_permit_post_copy",
        Bool,
        "allow post-copy",
    ),
    k(
        "libvirt",
        "live_migration_permit_auto_converge",
        Bool,
        "allow auto-converge",
    ),
    k(
        "libvirt",
        "live_migration_timeout_action",
        Enum(&["abort", "force_complete"]),
        "on completion timeout",
    ),
    // [qemu]
    k(
        "qemu",
        "switchover_time",
        Duration,
        "final switchover pause",
    ),
    // [[maintenance]]
    k("maintenance[]", "name", Str, "wave name"),
    k(
        "maintenance[]",
        "start",
        Duration,
        "first start (default 0s)",
    ),
    k("maintenance[]", "every", Duration, "repeat period"),
    req(
        "maintenance[]",
        "host_duration",
        Duration,
        "time each host is down",
    ),
    k(
        "maintenance[]",
        "max_concurrent_hosts",
        Int,
        "hosts in maintenance at once",
    ),
    k(
        "maintenance[]",
        "max_concurrent_per_fault_domain",
        Int,
        "hosts at once per fault domain",
    ),
    k(
        "maintenance[]",
        "min_available_hosts",
        Int,
        "hosts that must stay up",
    ),
    k(
        "maintenance[]",
        "migration_retries",
        Int,
        "retries of a failed migration (default 1)",
    ),
    k(
        "maintenance[]",
        "migrate_back",
        Bool,
        "move VMs back after maintenance",
    ),
    k(
        "maintenance[]",
        "on_migration_abort",
        Enum(&["cold-migrate", "skip-host"]),
        "when a migration aborts",
    ),
    k("maintenance[]", "zone", Str, "limit the wave to a zone"),
    k(
        "maintenance[]",
        "fault_domain",
        Str,
        "limit the wave to a fault domain",
    ),
    k(
        "maintenance[]",
        "hosts",
        StrList,
        "limit the wave to listed hosts",
    ),
    // [pacemaker]
    k("pacemaker", "stonith_enabled", Bool, "fence failed nodes"),
    k("pacemaker", "stonith_timeout", Duration, "fencing timeout"),
    k("pacemaker", "stonith_max_attempts", Int, "fencing attempts"),
    k(
        "pacemaker",
        "remote_monitor_interval",
        Duration,
        "pacemaker_remote monitor interval",
    ),
    k(
        "pacemaker",
        "reconnect_interval",
        Duration,
        "pacemaker_remote reconnect interval",
    ),
    k(
        "pacemaker",
        "stonith_action",
        Enum(&["reboot", "off"]),
        "fencing action",
    ),
    // [ipmi]
    k("ipmi", "power_wait", Duration, "wait after a power command"),
    k(
        "ipmi",
        "stonith_status_sleep",
        Duration,
        "sleep between status polls",
    ),
    // [operator]
    req(
        "operator",
        "detection_delay",
        Duration,
        "time until the operator notices",
    ),
    req(
        "operator",
        "instance_action_time",
        Duration,
        "time per instance action",
    ),
    k(
        "operator",
        "relaunch_after",
        Duration,
        "relaunch VMs after this outage",
    ),
    k(
        "operator",
        "volume_reattach_time",
        Duration,
        "time to reattach a volume",
    ),
    k(
        "operator",
        "clear_maintenance_after",
        Duration,
        "time to clear host maintenance",
    ),
    // [masakari]
    k(
        "masakari",
        "wait_period_after_service_update",
        Duration,
        "wait after disabling the compute",
    ),
    k(
        "masakari",
        "wait_period_after_evacuation",
        Duration,
        "wait after an evacuation",
    ),
    k(
        "masakari",
        "process_unfinished_notifications_interval",
        Duration,
        "retry period of unfinished notifications",
    ),
    k(
        "masakari",
        "verify_interval",
        Duration,
        "period of verifying evacuations",
    ),
    k(
        "masakari",
        "wait_period_after_power_off",
        Duration,
        "wait after powering a host off",
    ),
    k(
        "masakari",
        "wait_period_after_power_on",
        Duration,
        "wait after powering a host on",
    ),
    k(
        "masakari",
        "host_failure_recovery_threads",
        Int,
        "evacuations at once",
    ),
    k(
        "masakari",
        "evacuate_all_instances",
        Bool,
        "evacuate VMs without the HA flag too",
    ),
    k(
        "masakari",
        "clear_maintenance_on_host_return",
        Bool,
        "clear maintenance when a host returns",
    ),
    k(
        "masakari",
        "recovery_method",
        Enum(&["auto", "reserved_host", "auto_priority", "rh_priority"]),
        "recovery method",
    ),
    k(
        "masakari",
        "reserved_hosts",
        StrList,
        "hosts kept empty for recovery",
    ),
    // [masakari_monitors]
    k(
        "masakari_monitors",
        "monitoring_interval",
        Duration,
        "host monitor period",
    ),
    k(
        "masakari_monitors",
        "disable_ipmi_check",
        Bool,
        "skip the IPMI power check",
    ),
    k(
        "masakari_monitors",
        "restrict_to_remotes",
        Bool,
        "monitor pacemaker_remote nodes only",
    ),
    k(
        "masakari_monitors",
        "ipmi_timeout",
        Duration,
        "IPMI command timeout",
    ),
    k("masakari_monitors", "ipmi_retry_max", Int, "IPMI retries"),
    k(
        "masakari_monitors",
        "ipmi_retry_interval",
        Duration,
        "wait between IPMI retries",
    ),
    // [instance_ha]
    k(
        "instance_ha",
        "monitor_interval",
        Duration,
        "fence_compute monitor period",
    ),
    k(
        "instance_ha",
        "instance_filtering",
        Bool,
        "evacuate tagged instances only",
    ),
    // [pca]
    k(
        "pca",
        "fail_threshold",
        Duration,
        "time until a host is declared failed",
    ),
    k(
        "pca",
        "hypervisor_restart_attempts",
        Int,
        "restarts before failing over",
    ),
    k(
        "pca",
        "strict_fault_domain",
        Bool,
        "recover only within the fault domain",
    ),
    k(
        "pca",
        "auto_resolve_displaced",
        Bool,
        "move displaced VMs back",
    ),
    // [gce]
    k(
        "gce",
        "host_error_detection",
        Duration,
        "time to detect a host error (what-if input)",
    ),
    // [failures]
    k("failures", "host", Table, "independent host failures"),
    k(
        "failures",
        "domain",
        TableArray,
        "correlated rack / fault domain / zone outages",
    ),
    k(
        "failures",
        "trace",
        Table,
        "host failures replayed from a trace",
    ),
    k("failures", "guest", Table, "guest crashes"),
    k("failures", "control_plane", Table, "control-plane outages"),
    k(
        "failures",
        "partition",
        Table,
        "network partitions of hosts",
    ),
    k(
        "failures",
        "bmc",
        Table,
        "BMC unavailability during fencing",
    ),
    k("failures", "reboot", Table, "failed reboots"),
    req(
        "failures.host",
        "time_between",
        Dist,
        "time between failures of a host",
    ),
    req("failures.host", "repair", Dist, "repair time"),
    req(
        "failures.domain[]",
        "level",
        Enum(&["rack", "fault_domain", "zone"]),
        "what fails together",
    ),
    k(
        "failures.domain[]",
        "name",
        Str,
        "limit to one rack / fault domain / zone",
    ),
    req(
        "failures.domain[]",
        "time_between",
        Dist,
        "time between outages of a domain",
    ),
    req("failures.domain[]", "repair", Dist, "outage duration"),
    req(
        "failures.trace",
        "file",
        Str,
        "trace file, relative to the scenario",
    ),
    req(
        "failures.trace",
        "format",
        Enum(&["fta"]),
        "trace format (Failure Trace Archive)",
    ),
    k(
        "failures.trace",
        "mapping",
        Enum(&["in-order"]),
        "trace nodes to hosts",
    ),
    req(
        "failures.guest",
        "time_between",
        Dist,
        "time between crashes of a guest",
    ),
    req(
        "failures.control_plane",
        "time_between",
        Dist,
        "time between outages",
    ),
    req(
        "failures.control_plane",
        "duration",
        Dist,
        "outage duration",
    ),
    k("failures.control_plane", "hosts", StrList, "hosts affected"),
    req(
        "failures.partition",
        "time_between",
        Dist,
        "time between partitions",
    ),
    req("failures.partition", "duration", Dist, "partition duration"),
    k("failures.partition", "hosts", StrList, "hosts cut off"),
    req(
        "failures.bmc",
        "probability",
        Number,
        "chance a BMC is unreachable, 0..1",
    ),
    req("failures.bmc", "duration", Dist, "unreachable time"),
    req(
        "failures.reboot",
        "probability",
        Number,
        "chance a reboot fails, 0..1",
    ),
    req(
        "failures.reboot",
        "duration",
        Dist,
        "time until a failed reboot is noticed",
    ),
    // [policy]
    req(
        "policy",
        "name",
        Enum(&["none", "masakari", "instance-ha", "pca", "gce", "external"]),
        "the HA policy",
    ),
    k("policy", "command", StrList, "external controller: argv"),
    k("policy", "env", StrMap, "external controller: environment"),
    k(
        "policy",
        "config",
        Any,
        "external controller: configuration sent at start",
    ),
    k(
        "policy",
        "step_timeout",
        Duration,
        "external controller: reply timeout",
    ),
    k(
        "policy",
        "on_crash",
        Enum(&["fail", "outage", "restart"]),
        "external controller: when it dies",
    ),
    k(
        "policy",
        "restart_delay",
        Duration,
        "external controller: wait before restart",
    ),
    k(
        "policy",
        "admin",
        Bool,
        "external controller: may use admin commands",
    ),
];

/// The keys of one duration distribution table, by `dist`.
pub const DIST_KEYS: &[(&str, Kind, &str)] = &[
    ("dist", Enum(DIST_NAMES), "distribution family"),
    ("mean", Duration, "mean (exponential, lognormal)"),
    ("shape", Number, "shape (weibull, gamma)"),
    ("scale", Duration, "scale (weibull, gamma)"),
    ("sigma", Number, "log standard deviation (lognormal)"),
    ("median", Duration, "median (lognormal)"),
    ("min", Duration, "minimum (uniform)"),
    ("max", Duration, "maximum (uniform)"),
    ("value", Duration, "the value (fixed)"),
    (
        "file",
        Str,
        "one duration per line, relative to the scenario (empirical)",
    ),
];

/// The keys of a rate distribution table.
pub const RATE_KEYS: &[(&str, Kind, &str)] = &[
    (
        "dist",
        Enum(&["fixed", "uniform", "exponential", "lognormal"]),
        "distribution family",
    ),
    ("value", Number, "the value (fixed)"),
    ("min", Number, "minimum (uniform)"),
    ("max", Number, "maximum (uniform)"),
    ("mean", Number, "mean (exponential)"),
    ("sigma", Number, "log standard deviation (lognormal)"),
    ("median", Number, "median (lognormal)"),
];

/// Tables whose keys are data, not schema.
fn free_table(table: &str) -> bool {
    table.starts_with("policy.env") || table.starts_with("policy.config")
}

/// Whether the reader may ask for `key` in the table at `path` (indices allowed).
pub fn is_registered(path: &str, key: &str) -> bool {
    let table = normalize(path);
    if free_table(&table) || KEYS.iter().any(|k| k.table == table && k.key == key) {
        return true;
    }
    // A distribution table: the parent key is of kind Dist or Rate.
    let (parent, last) = match table.rsplit_once('.') {
        Some((p, l)) => (p, l),
        None => ("", table.as_str()),
    };
    KEYS.iter()
        .find(|k| k.table == parent && k.key == last)
        .is_some_and(|k| match k.kind {
            Dist => DIST_KEYS.iter().any(|(n, _, _)| *n == key),
            Rate => RATE_KEYS.iter().any(|(n, _, _)| *n == key),
            _ => false,
        })
}

static UNREGISTERED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Called by the reader for every key it reads; remembers keys the registry lacks.
pub fn note(path: &str, key: &str) {
    if !is_registered(path, key) {
        let full = super::read::join(&normalize(path), key);
        UNREGISTERED.lock().expect("not poisoned").insert(full);
    }
}

/// Every key read so far in this process that the registry lacks (the tests want none).
pub fn unregistered() -> Vec<String> {
    UNREGISTERED
        .lock()
        .expect("not poisoned")
        .iter()
        .cloned()
        .collect()
}

/// `host_types[3].name` style paths with array indices removed: `host_types[].name`.
pub fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}
