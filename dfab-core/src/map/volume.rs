//! `VolumeConfig` (the `volumes` section) and `HostPath` (the `host` section).

use std::collections::BTreeMap;

use super::items::Options;
use super::text::Text;

/// A volume alias: its path in containers and how a named volume is made.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VolumeConfig {
    /// The path inside containers.
    pub default_path: Option<Text>,
    /// The volume driver (`local`).
    pub driver: String,
    /// Driver options.
    pub driver_options: BTreeMap<String, Text>,
    /// Extra volume-create arguments.
    pub create_options: Options,
    /// Owner applied when attached (beats the attaching config's `user`).
    pub user: Option<super::items::User>,
    /// chmod mode applied when attached.
    pub permissions: Option<String>,
}

/// A host path of the `host` section: one for all, or one per instance (`default` for the unnamed one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPath {
    /// The same path for every instance.
    Single(Text),
    /// Instance name → path.
    PerInstance(BTreeMap<String, Text>),
}
