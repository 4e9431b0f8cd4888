//! What the HA mechanisms notice and do: a node dropping off the network starts Pacemaker's
//! remote-monitor check and the PCA threshold; a noticed node is fenced over IPMI (which takes
//! the host down); a returning node rejoins; IPMI power checks answer. Each turns into an
//! observation for the policy.

use super::Simulation;
use crate::infra::config::StonithAction;
use crate::infra::membership::Incident;
use crate::infra::{pacemaker, pca_monitor, power_check};
use crate::policy::api::Observation;
use crate::policy::PolicyConfig;
use crate::world::ids::HostId;

impl Simulation<'_> {
    pub(super) fn became_unreachable(&mut self, h: HostId) {
        let hardware = self.truth.host(h).hw_outages() > 0;
        // Planned: the node was put in maintenance mode, no controller fails it over.
        let planned = self.campaigns.in_maintenance(h);
        let epoch = self.membership.unreachable(h.index(), hardware, planned);
        if planned {
            return;
        }
        if self.model.policy.uses_pacemaker() {
            let interval = self.model.infra.pacemaker.remote_monitor_interval;
            let after = self.service.next_tick(h.index(), interval, self.now());
            self.schedule(after, pacemaker::Event::NodeCheck { host: h, epoch });
        }
        if self.model.policy.platform_monitor() {
            let threshold = match self.model.policy {
                PolicyConfig::Gce(_) => self.model.infra.gce_host_error_detection,
                _ => self.model.infra.pca.fail_threshold,
            };
            pca_monitor::node_unreachable(h, epoch, threshold, &mut self.sched);
        }
    }

    pub(super) fn became_reachable(&mut self, h: HostId) {
        let (epoch, offline) = self.membership.reachable(h.index());
        if self.model.policy.uses_pacemaker() && offline {
            let interval = self.model.infra.pacemaker.reconnect_interval;
            let after = self.service.next_tick(h.index(), interval, self.now());
            self.schedule(after, pacemaker::Event::NodeRejoin { host: h, epoch });
        }
        if self.model.policy.platform_monitor() && offline {
            // The appliance sees a failed node reconnect at once.
            self.membership.node_mut(h.index()).online = true;
            self.observe(Observation::NodeOnline { host: h.0 });
        }
    }

    pub(super) fn pacemaker_event(&mut self, e: pacemaker::Event) {
        match e {
            pacemaker::Event::NodeCheck { host, epoch } => {
                if self.membership.node(host.index()).epoch != epoch
                    || self.truth.host(host).reachable()
                {
                    return;
                }
                self.membership.node_mut(host.index()).online = false;
                self.pacemaker.reset_attempts(host);
                if self.model.infra.pacemaker.stonith_enabled {
                    self.membership.node_mut(host.index()).incident = Incident::Fencing;
                    self.start_fencing_attempt(host);
                } else {
                    self.membership.node_mut(host.index()).incident = Incident::Recovering;
                }
                self.refresh_host(host);
                self.observe(Observation::NodeOffline { host: host.0 });
            }
            pacemaker::Event::FenceDone { host, seq, ok } => {
                if self.pacemaker.is_current(host, seq) {
                    self.fence_done(host, ok);
                }
            }
            pacemaker::Event::NodeRejoin { host, epoch } => {
                let node = self.membership.node(host.index());
                if node.epoch != epoch || !self.truth.host(host).reachable() || node.online {
                    return;
                }
                self.membership.node_mut(host.index()).online = true;
                self.observe(Observation::NodeOnline { host: host.0 });
            }
        }
    }

    fn start_fencing_attempt(&mut self, h: HostId) {
        let bmc = self.truth.host(h).bmc_reachable();
        let infra = &self.model.infra;
        self.pacemaker
            .start_attempt(h, bmc, &infra.pacemaker, &infra.ipmi, &mut self.sched);
    }

    fn fence_done(&mut self, h: HostId, ok: bool) {
        if !ok || !self.truth.host(h).bmc_reachable() {
            self.accounts.ha.fencing_failures += 1;
            self.observe(Observation::Fenced {
                host: h.0,
                ok: false,
            });
            let again = self
                .pacemaker
                .failed_attempt(h, &self.model.infra.pacemaker);
            if again && !self.membership.node(h.index()).online {
                self.start_fencing_attempt(h);
            }
            return;
        }
        self.membership.node_mut(h.index()).incident = Incident::Recovering;
        self.kill(h, false);
        match self.model.infra.pacemaker.stonith_action {
            StonithAction::Off => self.truth.set_fenced(h, true),
            StonithAction::Reboot => {
                if self.truth.host(h).hw_outages() == 0 {
                    self.power_on(h, true);
                }
            }
        }
        self.refresh_host(h);
        self.observe(Observation::Fenced {
            host: h.0,
            ok: true,
        });
    }

    pub(super) fn pca_event(&mut self, e: pca_monitor::Event) {
        let pca_monitor::Event::Fail { host, epoch } = e;
        if self.membership.node(host.index()).epoch != epoch || self.truth.host(host).reachable() {
            return;
        }
        let node = self.membership.node_mut(host.index());
        node.incident = Incident::Recovering;
        node.online = false;
        self.refresh_host(host);
        if matches!(self.model.policy, PolicyConfig::Gce(_)) {
            // GCE logs a hostError for every VM the failure terminated.
            let residents = self.truth.residents(host);
            let n = residents
                .iter()
                .filter(|v| self.truth.vm(**v).wanted())
                .count();
            self.accounts.ha.host_errors += n as u64;
        }
        self.observe(Observation::NodeFailed { host: host.0 });
    }

    pub(super) fn start_power_check(&mut self, h: HostId) {
        let bmc = self.truth.host(h).bmc_reachable();
        power_check::start(h, bmc, &self.model.infra.power_check, &mut self.sched);
    }

    pub(super) fn power_event(&mut self, e: power_check::Event) {
        let power_check::Event::Reply { host } = e;
        let state = power_check::reading(self.truth.host(host));
        self.observe(Observation::PowerStatus {
            host: host.0,
            state,
        });
    }
}
