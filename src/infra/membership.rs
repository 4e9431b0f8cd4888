//! What the cluster manager (Pacemaker, or the PCA appliance) believes of each node, and where
//! each host is in the HA pipeline — for observations and for downtime attribution.
//!
//! `epoch` changes whenever a node's reachability changes, so a monitor's pending check of an
//! older epoch is stale. An incident that began without a hardware failure (a partition) makes
//! its evacuation a false failover, counted once per incident.

/// Where a host is in the HA pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incident {
    None,
    /// Unreachable, nobody has noticed yet.
    Undetected,
    /// Noticed; fencing in progress.
    Fencing,
    /// Noticed (and fenced, where fencing runs); recovery is up to the policy.
    Recovering,
}

#[derive(Clone, Debug)]
pub struct NodeState {
    pub epoch: u32,
    /// The cluster manager counts the node as a member.
    pub online: bool,
    pub incident: Incident,
    /// The current incident began without a hardware failure.
    pub incident_false: bool,
    pub false_failover_counted: bool,
}

#[derive(Clone, Debug)]
pub struct Membership {
    nodes: Vec<NodeState>,
}

impl Membership {
    pub fn new(n_hosts: usize) -> Self {
        Membership {
            nodes: vec![
                NodeState {
                    epoch: 0,
                    online: true,
                    incident: Incident::None,
                    incident_false: false,
                    false_failover_counted: false,
                };
                n_hosts
            ],
        }
    }

    pub fn node(&self, h: usize) -> &NodeState {
        &self.nodes[h]
    }

    pub fn node_mut(&mut self, h: usize) -> &mut NodeState {
        &mut self.nodes[h]
    }

    /// The node dropped off the network; returns the new epoch. `planned` (maintenance mode)
    /// opens no incident; `hardware` says whether a hardware failure caused it.
    pub fn unreachable(&mut self, h: usize, hardware: bool, planned: bool) -> u32 {
        let n = &mut self.nodes[h];
        n.epoch = n.epoch.wrapping_add(1);
        n.incident = if planned {
            Incident::None
        } else {
            Incident::Undetected
        };
        n.incident_false = !hardware;
        n.epoch
    }

    /// The node is reachable again; returns the new epoch and whether it was offline.
    pub fn reachable(&mut self, h: usize) -> (u32, bool) {
        let n = &mut self.nodes[h];
        n.epoch = n.epoch.wrapping_add(1);
        n.incident = Incident::None;
        n.false_failover_counted = false;
        (n.epoch, !n.online)
    }

    /// An evacuation from the node: true if it is the incident's first false failover.
    pub fn count_false_failover(&mut self, h: usize) -> bool {
        let n = &mut self.nodes[h];
        if n.incident_false && !n.false_failover_counted {
            n.false_failover_counted = true;
            return true;
        }
        false
    }
}
