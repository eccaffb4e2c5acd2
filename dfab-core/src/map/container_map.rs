//! `ContainerMap`: one named map of containers, volumes, networks and groups.

use std::collections::BTreeMap;

use super::container::ContainerConfig;
use super::network::NetworkConfig;
use super::node::Position;
use super::text::Text;
use super::volume::{HostPath, VolumeConfig};

/// A loaded, normalised container map. Configs keep document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerMap {
    /// The map's name (the prefix of every object it names).
    pub name: String,
    /// The file it came from, for messages.
    pub source: String,
    /// Prefix for image names without a `/`.
    pub repository: Option<Text>,
    /// Tag for images without one (`latest` when unset).
    pub default_tag: Option<Text>,
    /// Base of relative host paths.
    pub host_root: Option<Text>,
    /// Container domain name.
    pub default_domain: Option<Text>,
    /// Set container host names (unset means yes).
    pub set_hostname: Option<bool>,
    /// Name attached volumes `map.config.alias` and reference them as `config.alias`.
    pub use_attached_parent_name: bool,
    /// Clients every config runs on.
    pub clients: Vec<String>,
    /// Where the `clients` key's value stands, for messages about unknown clients.
    pub clients_at: Position,
    /// Group name → members (`config` or `config.instance`).
    pub groups: BTreeMap<String, Vec<(String, Position)>>,
    /// Volume aliases.
    pub volumes: BTreeMap<String, VolumeConfig>,
    /// Host paths per alias.
    pub host: BTreeMap<String, HostPath>,
    /// User-defined networks.
    pub networks: BTreeMap<String, NetworkConfig>,
    /// Container configurations, in document order.
    pub containers: Vec<(String, ContainerConfig)>,
}

impl ContainerMap {
    /// The configuration named `name`.
    pub fn container(&self, name: &str) -> Option<&ContainerConfig> {
        self.containers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    /// Whether host names are set on containers (docker-map's default when unset is yes).
    pub fn sets_hostname(&self) -> bool {
        self.set_hostname.unwrap_or(true)
    }
}
