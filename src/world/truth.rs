//! The ground truth at run time: whether each host has power and network, whether it is up,
//! where each VM's record points, whether its guest really runs there, its power state (running,
//! crashed, shut off, stopped by its user) and any stale copy still running on a host it was
//! evacuated from.
//!
//! Changed only through these methods, which keep its invariants: a VM is listed on exactly the
//! host its record names (`residents` is sorted), a guest runs only on an up host, a stale copy
//! is listed on the host it runs on and dies with it. Policies never read this type; infra
//! mechanisms turn it into what a controller sees.

use super::ids::{HostId, VmId};

/// The truth of one host.
#[derive(Clone, Debug, Default)]
pub struct HostTruth {
    /// Hardware outages holding the host down: crash, domain outage, trace interval.
    hw: u16,
    /// Domain outages among them: the power (and so the BMC) is gone.
    power_lost: u16,
    partitions: u16,
    /// nova-compute (or its AMQP link) dead while the host runs.
    control_plane: u16,
    bmc_faults: u16,
    /// Powered off by stonith (`off` action) until what took it down is over.
    fenced: bool,
    /// Booted and running its VMs.
    up: bool,
    /// Bumped on every death; events of older generations are stale.
    gen: u32,
}

impl HostTruth {
    pub fn up(&self) -> bool {
        self.up
    }

    pub fn gen(&self) -> u32 {
        self.gen
    }

    /// Hardware outages in progress.
    pub fn hw_outages(&self) -> u16 {
        self.hw
    }

    pub fn partitioned(&self) -> bool {
        self.partitions > 0
    }

    pub fn fenced(&self) -> bool {
        self.fenced
    }

    /// Up and on the network: Pacemaker and PCA can reach it.
    pub fn reachable(&self) -> bool {
        self.up && self.partitions == 0
    }

    /// nova-compute heartbeats reach the database.
    pub fn reporting(&self) -> bool {
        self.up && self.partitions == 0 && self.control_plane == 0
    }

    pub fn bmc_reachable(&self) -> bool {
        self.bmc_faults == 0 && self.power_lost == 0
    }
}

/// The truth of one VM.
#[derive(Clone, Debug)]
pub struct VmTruth {
    /// The host its record names (during a rebuild, the target).
    host: HostId,
    /// The guest runs on `host` (it may still be unreachable if the host is partitioned).
    booted: bool,
    /// The guest crashed and nobody has started it again.
    crashed: bool,
    /// Nova's record says SHUTOFF (`vm_state` stopped) though nobody asked for it: left off by a
    /// host reboot (`resume_guests_state_on_host_boot = False`) or powered off by a policy.
    /// It stays off until someone starts it.
    shutoff: bool,
    /// Its user wants it running. A user's stop clears it: a stopped VM is neither up nor down
    /// (availability counts only VMs that should run).
    wanted: bool,
    /// A copy still running on a host it was evacuated from.
    stale: Option<HostId>,
    /// Someone asked Nova to start it (`os-start`) and its guest is booting. Nova's record reads
    /// ACTIVE as soon as the hypervisor's domain runs (`ComputeManager._power_on`, then
    /// `vm_state = ACTIVE`), long before the guest's OS is up; the domain start's own latency
    /// is not modelled (no source), so the record reads ACTIVE from the start command on.
    starting: bool,
}

impl VmTruth {
    pub fn host(&self) -> HostId {
        self.host
    }

    pub fn booted(&self) -> bool {
        self.booted
    }

    pub fn crashed(&self) -> bool {
        self.crashed
    }

    pub fn stale(&self) -> Option<HostId> {
        self.stale
    }

    pub fn shutoff(&self) -> bool {
        self.shutoff
    }

    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// Started through Nova and still booting (see the field).
    pub fn starting(&self) -> bool {
        self.starting
    }

    /// Off in Nova's records (`vm_state` stopped): shut off, or stopped by its user. A crashed
    /// guest still reads ACTIVE until the power-state sync, so it is not among them.
    pub fn powered_off(&self) -> bool {
        !self.booted && (self.shutoff || !self.wanted)
    }
}

/// Hosts, VMs and who runs where.
#[derive(Clone, Debug)]
pub struct Truth {
    hosts: Vec<HostTruth>,
    vms: Vec<VmTruth>,
    /// VMs whose record names each host, ascending.
    residents: Vec<Vec<VmId>>,
    /// Stale copies running on each host.
    stale_on: Vec<Vec<VmId>>,
}

impl Truth {
    /// Starts loading a VM's record into the cache (see `core::prefetch`).
    pub fn prefetch_vm(&self, v: VmId) {
        crate::core::prefetch::prefetch(&self.vms[v.index()]);
    }

    /// Every host up, every VM running where `placement` puts it.
    pub fn new(n_hosts: usize, placement: &[HostId]) -> Self {
        let mut residents = vec![Vec::new(); n_hosts];
        for (v, h) in placement.iter().enumerate() {
            residents[h.index()].push(VmId(v as u32));
        }
        Truth {
            hosts: vec![
                HostTruth {
                    up: true,
                    ..HostTruth::default()
                };
                n_hosts
            ],
            vms: placement
                .iter()
                .map(|h| VmTruth {
                    host: *h,
                    booted: true,
                    crashed: false,
                    shutoff: false,
                    wanted: true,
                    stale: None,
                    starting: false,
                })
                .collect(),
            residents,
            stale_on: vec![Vec::new(); n_hosts],
        }
    }

    pub fn host(&self, h: HostId) -> &HostTruth {
        &self.hosts[h.index()]
    }

    pub fn vm(&self, v: VmId) -> &VmTruth {
        &self.vms[v.index()]
    }

    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    pub fn vm_count(&self) -> usize {
        self.vms.len()
    }

    /// VMs whose record names `h`, ascending.
    pub fn residents(&self, h: HostId) -> &[VmId] {
        &self.residents[h.index()]
    }

    // ----- hosts ---------------------------------------------------------------------------

    /// A hardware outage begins; true if it is the first (the host dies).
    pub fn hw_begin(&mut self, h: HostId) -> bool {
        let t = &mut self.hosts[h.index()];
        t.hw += 1;
        t.hw == 1
    }

    /// A hardware outage ends; true if none is left.
    pub fn hw_end(&mut self, h: HostId) -> bool {
        let t = &mut self.hosts[h.index()];
        t.hw -= 1;
        t.hw == 0
    }

    pub fn power_lost(&mut self, h: HostId, lost: bool) {
        step(&mut self.hosts[h.index()].power_lost, lost);
    }

    /// A partition begins (`true`) or ends; returns how many are left.
    pub fn partition(&mut self, h: HostId, begins: bool) -> u16 {
        let t = &mut self.hosts[h.index()];
        step(&mut t.partitions, begins);
        t.partitions
    }

    pub fn control_plane(&mut self, h: HostId, dies: bool) {
        step(&mut self.hosts[h.index()].control_plane, dies);
    }

    pub fn bmc_fault(&mut self, h: HostId, begins: bool) {
        step(&mut self.hosts[h.index()].bmc_faults, begins);
    }

    pub fn set_fenced(&mut self, h: HostId, fenced: bool) {
        self.hosts[h.index()].fenced = fenced;
    }

    /// The host stops running: a new generation, its guests and any stale copies on it die.
    /// Returns whether it was up.
    pub fn die(&mut self, h: HostId) -> bool {
        let t = &mut self.hosts[h.index()];
        t.gen = t.gen.wrapping_add(1);
        let was_up = std::mem::replace(&mut t.up, false);
        for v in std::mem::take(&mut self.stale_on[h.index()]) {
            self.vms[v.index()].stale = None;
        }
        for &v in &self.residents[h.index()] {
            let vm = &mut self.vms[v.index()];
            vm.booted = false;
            vm.starting = false;
        }
        was_up
    }

    /// The host finished booting (its guests are not running yet).
    pub fn boot(&mut self, h: HostId) {
        self.hosts[h.index()].up = true;
    }

    // ----- VMs -----------------------------------------------------------------------------

    /// Moves a VM's record to `to` (its guest is not running until it starts there).
    pub fn move_vm(&mut self, v: VmId, to: HostId) {
        let from = self.vms[v.index()].host;
        let r = &mut self.residents[from.index()];
        if let Ok(i) = r.binary_search(&v) {
            r.remove(i);
        }
        let r = &mut self.residents[to.index()];
        if let Err(i) = r.binary_search(&v) {
            r.insert(i, v);
        }
        self.vms[v.index()].host = to;
    }

    /// The guest runs on its host.
    pub fn guest_start(&mut self, v: VmId) {
        debug_assert!(self.hosts[self.vms[v.index()].host.index()].up);
        let vm = &mut self.vms[v.index()];
        vm.booted = true;
        vm.crashed = false;
        vm.shutoff = false;
        vm.starting = false;
    }

    /// Nova was asked to start the VM and its guest boots (cleared when the boot ends or
    /// anything else changes the guest's power state).
    pub fn begin_start(&mut self, v: VmId) {
        self.vms[v.index()].starting = true;
    }

    /// The guest is off and Nova's record says SHUTOFF, though its user still wants it
    /// running (a host reboot left it off, or a policy powered it off).
    pub fn shut_off(&mut self, v: VmId) {
        let vm = &mut self.vms[v.index()];
        vm.booted = false;
        vm.crashed = false;
        vm.shutoff = true;
        vm.starting = false;
    }

    /// Its user stops the VM (`os-stop`), or starts it again (`os-start`): what it should be.
    pub fn set_wanted(&mut self, v: VmId, wanted: bool) {
        let vm = &mut self.vms[v.index()];
        vm.wanted = wanted;
        if !wanted {
            vm.booted = false;
            vm.crashed = false;
            vm.shutoff = false;
            vm.starting = false;
        }
    }

    /// The guest stops (stopped by someone, or its host went away).
    pub fn guest_stop(&mut self, v: VmId) {
        let vm = &mut self.vms[v.index()];
        vm.booted = false;
        vm.starting = false;
    }

    /// The guest crashed on its host.
    pub fn guest_crash(&mut self, v: VmId) {
        let vm = &mut self.vms[v.index()];
        vm.booted = false;
        vm.crashed = true;
        vm.starting = false;
    }

    /// Forgets a crash (the guest will be started afresh).
    pub fn clear_crash(&mut self, v: VmId) {
        self.vms[v.index()].crashed = false;
    }

    /// The guest keeps running on `source` while its record moves elsewhere (evacuation of a
    /// host that had not really failed).
    pub fn leave_stale_copy(&mut self, v: VmId, source: HostId) {
        self.vms[v.index()].stale = Some(source);
        self.stale_on[source.index()].push(v);
    }
}

/// Counts an overlapping outage in or out.
fn step(count: &mut u16, begins: bool) {
    if begins {
        *count += 1;
    } else {
        *count -= 1;
    }
}
