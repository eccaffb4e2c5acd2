//! `NetworkConfig`: an entry of the `networks` section.

use std::collections::BTreeMap;

use super::items::Options;
use super::text::Text;

/// The networks Docker predefines: never created or removed, and need no entry.
pub const PREDEFINED_NETWORKS: [&str; 3] = ["bridge", "host", "none"];

/// A user-defined network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// The driver (`bridge`).
    pub driver: String,
    /// Driver options.
    pub driver_options: BTreeMap<String, Text>,
    /// No outside connectivity.
    pub internal: bool,
    /// Extra network-create arguments.
    pub create_options: Options,
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig {
            driver: "bridge".into(),
            driver_options: BTreeMap::new(),
            internal: false,
            create_options: Options::new(),
        }
    }
}
