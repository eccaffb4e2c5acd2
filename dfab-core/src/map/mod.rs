//! Container maps: docker-map's YAML descriptions of containers, volumes, networks and their dependencies, read
//! into typed structures, checked completely, and ordered.

mod clients;
mod container;
mod container_map;
mod deps;
mod engine_options;
mod extend;
mod integrity;
mod items;
mod load;
mod naming;
mod network;
mod node;
mod problems;
mod reader;
mod tags;
mod text;
mod volume;
mod write;

pub use clients::{
    check_clients, check_env_logins, load_clients_file, load_clients_str, ClientConfig,
    UnknownLoginKey, LOGIN_KEYS,
};
pub use container::ContainerConfig;
pub use container_map::ContainerMap;
pub use deps::{select, Cycle, Graph, Item};
pub use engine_options::{belongs_under, keywords, translate, Block, Field, OptionError, Target};
pub use items::{
    Attach, Bind, Endpoint, ExecCommand, ExecPolicy, HealthCheck, Link, NetworkMode, Options, Port,
    Use, User,
};
pub use load::{
    configured_clients, configured_maps, load_map_file, load_map_str, register_map,
    validate_map_file, Loaded, BUILD_REPORT,
};
pub use naming::{
    config_image, container_name, domain_name, hostname, image_name, network_name, volume_name,
    DEFAULT_CLIENT,
};
pub use network::{NetworkConfig, PREDEFINED_NETWORKS};
pub use node::{parse, Node, NodeKind, Position, SyntaxError};
pub use problems::{MapError, Problem};
pub use text::{Text, UnsetLazyValue};
pub use volume::{HostPath, VolumeConfig};
pub use write::to_yaml;
