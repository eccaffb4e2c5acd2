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

    /// The configuration that attaches the volume a `uses` entry names, with the volume's alias: `config.alias`
    /// under `use_attached_parent_name`, else an alias a configuration attaches. `None` when the entry names no
    /// attached volume (it then names a container, whose volumes are shared, or nothing).
    pub fn attached_volume<'a>(&'a self, used: &'a str) -> Option<(&'a str, &'a str)> {
        if self.use_attached_parent_name {
            let (parent, alias) = used.split_once('.')?;
            let (name, _) = self
                .containers
                .iter()
                .find(|(n, c)| n == parent && c.attaches.iter().any(|a| a.alias == alias))?;
            Some((name.as_str(), alias))
        } else {
            self.containers
                .iter()
                .find(|(_, c)| c.attaches.iter().any(|a| a.alias == used))
                .map(|(name, _)| (name.as_str(), used))
        }
    }

    /// Whether host names are set on containers (docker-map's default when unset is yes).
    pub fn sets_hostname(&self) -> bool {
        self.set_hostname.unwrap_or(true)
    }
}
