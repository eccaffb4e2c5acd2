//! `ContainerConfig`: one container configuration of a map, normalised.

use super::items::{
    Attach, Bind, Endpoint, ExecCommand, HealthCheck, Link, NetworkMode, Options, Port, Use, User,
};
use super::node::Position;
use super::text::Text;

/// A container configuration; `None` fields were never given (docker-map's NotSet), which matters for `extends`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerConfig {
    /// Where the configuration starts in its file.
    pub at: Position,
    /// Kept for inheritance only.
    pub abstract_: bool,
    /// Configs this one extends, applied left to right.
    pub extends: Vec<(String, Position)>,
    /// The image; the config name when not given.
    pub image: Option<Text>,
    /// Named copies of the container.
    pub instances: Vec<String>,
    /// Client names (parsed; the engine uses the map's clients).
    pub clients: Vec<String>,
    /// Anonymous volumes other containers may use.
    pub shares: Vec<Text>,
    /// Host paths and host volume aliases.
    pub binds: Vec<Bind>,
    /// Volumes this config owns.
    pub attaches: Vec<Attach>,
    /// Volumes of other configs, or attached volumes.
    pub uses: Vec<Use>,
    /// Links to other containers.
    pub links: Vec<Link>,
    /// Exposed and published ports.
    pub exposes: Vec<Port>,
    /// The process user (and group, for attached volume ownership).
    pub user: Option<User>,
    /// chmod mode for attached volumes.
    pub permissions: Option<String>,
    /// Seconds to wait on stop.
    pub stop_timeout: Option<u64>,
    /// The stop signal, a name or number.
    pub stop_signal: Option<String>,
    /// Seconds to wait after start.
    pub start_delay: Option<f64>,
    /// The network mode.
    pub network_mode: Option<NetworkMode>,
    /// Networks to join; `None` joins the default bridge.
    pub networks: Option<Vec<Endpoint>>,
    /// Commands run in the container after start.
    pub exec_commands: Vec<ExecCommand>,
    /// The health check.
    pub healthcheck: Option<HealthCheck>,
    /// Kept by cleanups and `remove` unless asked.
    pub persistent: Option<bool>,
    /// Extra container-create arguments.
    pub create_options: Options,
    /// Extra host-config arguments (restart policy, limits, …).
    pub host_config: Options,
}

impl ContainerConfig {
    /// The instance names to act on: the configured ones, or the single unnamed instance.
    pub fn instance_slots(&self) -> Vec<Option<String>> {
        if self.instances.is_empty() {
            vec![None]
        } else {
            self.instances.iter().cloned().map(Some).collect()
        }
    }
}
