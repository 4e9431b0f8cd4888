//! HA policies: production decision logic behind `api`.
//!
//! Must not import `sim`, `world`, `infra` or anything else in the crate but `api` (a test in
//! `tests/integration/boundary.rs` enforces it): the same code runs behind a production adapter
//! (`hasim policy`).

pub mod api;
pub mod external;
pub mod gce;
pub mod instance_ha;
pub mod masakari;
pub mod none;
pub mod pca;

/// Every policy name a scenario's `policy.name` may use.
pub const POLICY_NAMES: &[&str] = &["none", "masakari", "instance-ha", "pca", "gce", "external"];

/// Each policy's configuration, as read from its scenario table or a `--config` file.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyConfig {
    None,
    Masakari(masakari::MasakariConfig),
    InstanceHa(instance_ha::InstanceHaConfig),
    Pca(pca::PcaConfig),
    Gce(gce::GceConfig),
    /// A controller process of the user's, driven over the protocol of `adapters::external`.
    External(external::ExternalConfig),
}

impl PolicyConfig {
    /// The default configuration of a registered built-in policy (an external one has no
    /// default: it needs its `command`).
    pub fn default_for(name: &str) -> Option<PolicyConfig> {
        match name {
            "none" => Some(PolicyConfig::None),
            "masakari" => Some(PolicyConfig::Masakari(Default::default())),
            "instance-ha" => Some(PolicyConfig::InstanceHa(Default::default())),
            "pca" => Some(PolicyConfig::Pca(Default::default())),
            "gce" => Some(PolicyConfig::Gce(Default::default())),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            PolicyConfig::None => "none",
            PolicyConfig::Masakari(_) => "masakari",
            PolicyConfig::InstanceHa(_) => "instance-ha",
            PolicyConfig::Pca(_) => "pca",
            PolicyConfig::Gce(_) => "gce",
            PolicyConfig::External(_) => "external",
        }
    }

    /// Builds a built-in policy; `None` for an external one, whose process the runner starts
    /// (`runner::policy_for`).
    pub fn build(&self) -> Option<Box<dyn api::Policy>> {
        Some(match self {
            PolicyConfig::None => Box::new(none::NoPolicy),
            PolicyConfig::Masakari(c) => Box::new(masakari::Masakari::new(c.clone())),
            PolicyConfig::InstanceHa(c) => Box::new(instance_ha::InstanceHa::new(c.clone())),
            PolicyConfig::Pca(c) => Box::new(pca::Pca::new(c.clone())),
            PolicyConfig::Gce(c) => Box::new(gce::Gce::new(c.clone())),
            PolicyConfig::External(_) => return None,
        })
    }

    /// Whether the policy recovers VMs from failed hosts (downtime before it notices is then
    /// `detection`; without one it is plain `host_failure`).
    pub fn recovers_hosts(&self) -> bool {
        !matches!(self, PolicyConfig::None)
    }

    /// Whether the platform itself declares unreachable nodes failed after a threshold (PCA's
    /// FAIL, GCE's host error) and tells the policy `NodeFailed`.
    pub fn platform_monitor(&self) -> bool {
        matches!(self, PolicyConfig::Pca(_) | PolicyConfig::Gce(_))
    }

    /// Whether a Pacemaker cluster (node monitoring, stonith) runs under this policy. An
    /// external controller gets Pacemaker's observations, as masakari-monitors' hostmonitor
    /// and Instance HA's fence agents do.
    pub fn uses_pacemaker(&self) -> bool {
        matches!(
            self,
            PolicyConfig::Masakari(_) | PolicyConfig::InstanceHa(_) | PolicyConfig::External(_)
        )
    }
}
