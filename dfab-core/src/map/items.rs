//! The normalised values of container-configuration keys: volumes, links, ports, network endpoints, exec commands,
//! health checks, network modes.

use std::collections::BTreeMap;

use super::node::Position;
use super::text::Text;

/// A `binds` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bind {
    /// A host volume alias from the `host` section.
    Shared {
        /// The alias.
        alias: String,
        /// Mounted read-only.
        readonly: bool,
        /// Where it was written.
        at: Position,
    },
    /// A container path bound to a host path.
    Host {
        /// The path in the container (`/x` or `./x`).
        path: Text,
        /// The path on the host (relative ones are under the host root).
        host_path: Text,
        /// Mounted read-only.
        readonly: bool,
        /// Where it was written.
        at: Position,
    },
}

impl Bind {
    /// The alias or container path, which `extends` merges by.
    pub fn key(&self) -> String {
        match self {
            Bind::Shared { alias, .. } => alias.clone(),
            Bind::Host { path, .. } => path.to_string(),
        }
    }
}

/// An `attaches` entry: a volume the config owns, shared with whoever `uses` it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attach {
    /// The volume alias.
    pub alias: String,
    /// A path given inline (`[alias, path]`), else the `volumes` section's.
    pub path: Option<Text>,
    /// Where it was written.
    pub at: Position,
}

/// A `uses` entry: another config's volumes, or an attached volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    /// `alias`, `parent.alias`, `config` or `config.instance`.
    pub name: String,
    /// A path override for named volumes.
    pub path: Option<Text>,
    /// Mounted read-only.
    pub readonly: bool,
    /// Where it was written.
    pub at: Position,
}

/// A `links` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// `config` or `config.instance`.
    pub container: String,
    /// The alias in the linking container; `None` uses the target's host name.
    pub alias: Option<String>,
    /// Where it was written.
    pub at: Position,
}

/// An `exposes` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// The container port, with an optional `/udp`.
    pub exposed: String,
    /// The host port to publish on; `None` only exposes.
    pub host_port: Option<String>,
    /// The client interface alias whose address to publish on.
    pub interface: Option<String>,
    /// Publish on the interface's IPv6 address.
    pub ipv6: bool,
}

/// A `networks` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The network name from the map's `networks` section (or `bridge`, `host`, `none`).
    pub network: String,
    /// Aliases on that network.
    pub aliases: Vec<Text>,
    /// Links on that network.
    pub links: Vec<Link>,
    /// A fixed IPv4 address.
    pub ipv4_address: Option<Text>,
    /// A fixed IPv6 address.
    pub ipv6_address: Option<Text>,
    /// Link-local addresses.
    pub link_local_ips: Vec<Text>,
    /// Where it was written.
    pub at: Position,
}

/// When an exec command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecPolicy {
    /// Every time the container starts.
    Restart,
    /// Only the first time it starts.
    Initial,
}

/// An `exec_commands` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecCommand {
    /// A shell command line.
    Shell {
        /// The command line.
        command: Text,
        /// The user to run it as.
        user: Option<Text>,
        /// When to run it.
        policy: ExecPolicy,
    },
    /// An argv list.
    Argv {
        /// The arguments.
        argv: Vec<String>,
        /// The user to run it as.
        user: Option<Text>,
        /// When to run it.
        policy: ExecPolicy,
    },
}

impl ExecCommand {
    /// When it runs.
    pub fn policy(&self) -> ExecPolicy {
        match self {
            ExecCommand::Shell { policy, .. } | ExecCommand::Argv { policy, .. } => *policy,
        }
    }
}

/// A `healthcheck`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// The test: `[NONE]` disables, `[CMD, …]` or `[CMD-SHELL, line]`.
    pub test: Vec<String>,
    /// Nanoseconds between checks.
    pub interval: Option<u64>,
    /// Nanoseconds one check may take.
    pub timeout: Option<u64>,
    /// Failures before unhealthy.
    pub retries: Option<u64>,
    /// Nanoseconds before checks count.
    pub start_period: Option<u64>,
}

/// A `network_mode`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkMode {
    /// `bridge`, `host` or `none` (also what `null`, `false` and `disabled` mean).
    Named(String),
    /// `container:<id>` of a container outside the map (no dependency).
    External(String),
    /// Join the network stack of another config of the map (a dependency).
    Config {
        /// The config.
        config: String,
        /// One of its instances.
        instance: Option<String>,
        /// Where it was written.
        at: Position,
    },
}

/// A `user`: a name or id, optionally with a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user name or id.
    pub user: Text,
    /// The group, from `u:g` or `[u, g]`.
    pub group: Option<Text>,
}

impl User {
    /// The container process user (the user part only).
    pub fn process_user(&self) -> &Text {
        &self.user
    }
}

/// A mapping of extra API arguments (`create_options`, `host_config`), values kept as YAML.
pub type Options = BTreeMap<String, serde_yaml::Value>;
