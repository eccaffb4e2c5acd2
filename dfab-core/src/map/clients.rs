//! Client configurations (`example_clients.yaml`): the Docker hosts maps run on.

use std::collections::BTreeMap;
use std::path::Path;

use super::container_map::ContainerMap;
use super::node::{parse, Node, NodeKind, Position};
use super::problems::{read_file, unknown_key, MapError, Problems};
use super::reader::{to_value, Reader};
use super::tags;
use super::text::Text;
use crate::env::{env, Env};

const CLIENT_KEYS: [&str; 17] = [
    "fabric_host",
    "base_url",
    "version",
    "timeout",
    "tls",
    "interfaces",
    "interfaces_ipv6",
    "domainname",
    "stop_timeout",
    "wait_timeout",
    "auth_configs",
    "tunnel_local_port",
    "tunnel_remote_port",
    "features",
    "constraints",
    "info",
    "use_host_config",
];

/// One client: a Docker host and how to reach and use it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientConfig {
    /// The host string to connect through.
    pub fabric_host: Option<String>,
    /// The engine's address on that host.
    pub base_url: Option<String>,
    /// The API version (`auto` or unset negotiates); kept as written, so `1.20` stays `1.20`.
    pub version: Option<String>,
    /// Seconds per request.
    pub timeout: Option<u64>,
    /// Use TLS.
    pub tls: bool,
    /// Interface alias → address, for publishing ports.
    pub interfaces: BTreeMap<String, Text>,
    /// Interface alias → IPv6 address.
    pub interfaces_ipv6: BTreeMap<String, Text>,
    /// Overrides the map's `default_domain` when present, even when null (`Some(None)`).
    pub domainname: Option<Option<Text>>,
    /// Stop timeout for configs without one.
    pub stop_timeout: Option<u64>,
    /// Timeout of wait calls.
    pub wait_timeout: Option<u64>,
    /// Registry → login arguments.
    pub auth_configs: BTreeMap<String, serde_yaml::Value>,
    /// docker-fabric's local tunnel port.
    pub tunnel_local_port: Option<u16>,
    /// docker-fabric's remote tunnel port.
    pub tunnel_remote_port: Option<u16>,
    /// Feature overrides (`volumes: false`, …).
    pub features: BTreeMap<String, serde_yaml::Value>,
}

fn number<T: std::str::FromStr>(reader: &mut Reader<'_>, node: &Node, path: &str) -> Option<T> {
    match node.text().map(str::parse::<T>) {
        Some(Ok(n)) => Some(n),
        _ if node.is_null() => None,
        _ => {
            reader.problems.error(
                node.at,
                path,
                format!("expected a number, found {}", node.describe()),
            );
            None
        }
    }
}

fn text_map(reader: &mut Reader<'_>, node: &Node, path: &str) -> BTreeMap<String, Text> {
    node.entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let key = reader.string(k, path)?;
            let value = reader.text(v, &format!("{path}.{key}"))?;
            Some((key, value))
        })
        .collect()
}

fn value_map(node: &Node) -> BTreeMap<String, serde_yaml::Value> {
    node.entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.text()?.to_owned(), to_value(v))))
        .collect()
}

/// Reads a clients document (client name → settings); `source` names it in messages.
pub fn load_clients_str(
    text: &str,
    source: &str,
    env: &Env,
) -> Result<BTreeMap<String, ClientConfig>, MapError> {
    let mut problems = Problems::new(source);
    let mut root = match parse(text) {
        Ok(root) => root,
        Err(e) => {
            problems.error(e.at, "", format!("not valid YAML: {}", e.message));
            problems.into_result()?;
            return Ok(BTreeMap::new());
        }
    };
    tags::resolve(&mut root, env, &mut problems);
    let mut clients = BTreeMap::new();
    let mut reader = Reader {
        problems: &mut problems,
    };
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries.as_slice(),
        NodeKind::Null => &[],
        _ => {
            reader.problems.error(
                Position { line: 1, col: 1 },
                "",
                format!(
                    "expected a mapping of client names to settings, found {}",
                    root.describe()
                ),
            );
            &[]
        }
    };
    for (k, body) in entries {
        let Some(name) = reader.string(k, "") else {
            continue;
        };
        let Some(pairs) = body.entries() else {
            reader.problems.error(
                k.at,
                &name,
                format!(
                    "expected a mapping of client settings, found {}",
                    body.describe()
                ),
            );
            continue;
        };
        let mut client = ClientConfig::default();
        for (key_node, v) in pairs {
            let key = key_node.text().unwrap_or_default();
            let p = format!("{name}.{key}");
            match key {
                "fabric_host" => client.fabric_host = reader.string(v, &p),
                "base_url" => client.base_url = reader.string(v, &p),
                "version" => client.version = reader.string(v, &p),
                "timeout" => client.timeout = number(&mut reader, v, &p),
                "tls" => client.tls = v.truthy(),
                "interfaces" => client.interfaces = text_map(&mut reader, v, &p),
                "interfaces_ipv6" => client.interfaces_ipv6 = text_map(&mut reader, v, &p),
                "domainname" => client.domainname = Some(reader.text(v, &p)),
                "stop_timeout" => client.stop_timeout = number(&mut reader, v, &p),
                "wait_timeout" => client.wait_timeout = number(&mut reader, v, &p),
                "auth_configs" => {
                    check_auth_configs(&mut reader, v, &p);
                    client.auth_configs = value_map(v)
                }
                "tunnel_local_port" => client.tunnel_local_port = number(&mut reader, v, &p),
                "tunnel_remote_port" => client.tunnel_remote_port = number(&mut reader, v, &p),
                "features" => client.features = value_map(v),
                // Read by docker-map's feature detection only; dfab asks the engine.
                "constraints" | "info" | "use_host_config" => {}
                other => {
                    // Feature names as keys override that single feature.
                    if FEATURES.contains(&other) {
                        client.features.insert(other.to_owned(), to_value(v));
                    } else {
                        reader.problems.error(
                            key_node.at,
                            &p,
                            unknown_key(other, &CLIENT_KEYS, "client"),
                        );
                    }
                }
            }
        }
        clients.insert(name, client);
    }
    problems.into_result()?;
    Ok(clients)
}

/// The fields of a registry login (docker-py's `login` keywords and the engine's names).
pub const LOGIN_KEYS: [&str; 7] = [
    "username",
    "password",
    "email",
    "registry",
    "serveraddress",
    "identitytoken",
    "reauth",
];

/// Checks `auth_configs`: registry → login fields, each a scalar. Messages name the fields and the shapes found,
/// never a value (they hold passwords).
fn check_auth_configs(reader: &mut Reader<'_>, node: &Node, path: &str) {
    let Some(registries) = node.entries() else {
        if !node.is_null() {
            reader.problems.error(
                node.at,
                path,
                format!(
                    "expected a mapping of registries to logins, found {}",
                    node.describe()
                ),
            );
        }
        return;
    };
    for (registry, login) in registries {
        let at = format!("{path}.{}", registry.text().unwrap_or("?"));
        let Some(fields) = login.entries() else {
            reader.problems.error(
                login.at,
                &at,
                format!(
                    "expected a login mapping (username, password, …), found {}",
                    login.describe()
                ),
            );
            continue;
        };
        for (key, value) in fields {
            let name = key.text().unwrap_or_default();
            if !LOGIN_KEYS.contains(&name) {
                reader.problems.error(
                    key.at,
                    &format!("{at}.{name}"),
                    unknown_key(name, &LOGIN_KEYS, "login"),
                );
            } else if !matches!(value.kind, NodeKind::Scalar { .. } | NodeKind::Null) {
                reader.problems.error(
                    value.at,
                    &format!("{at}.{name}"),
                    format!("expected a string, found {}", value.describe()),
                );
            }
        }
    }
}

/// A key in `env.docker_auth_configs` that no login has.
#[derive(Debug, thiserror::Error)]
#[error("docker_auth_configs.{registry}.{key}: {reason}")]
pub struct UnknownLoginKey {
    /// The registry whose login has the key.
    pub registry: String,
    /// The key.
    pub key: String,
    /// What is wrong, with the keys a login takes.
    pub reason: String,
}

/// Checks the logins of `env.docker_auth_configs` the way a clients file's are checked, naming fields, never values.
pub fn check_env_logins(env: &Env) -> Result<(), UnknownLoginKey> {
    for (registry, login) in &env.docker_auth_configs {
        for key in login.keys() {
            if !LOGIN_KEYS.contains(&key.as_str()) {
                return Err(UnknownLoginKey {
                    registry: registry.clone(),
                    key: key.clone(),
                    reason: unknown_key(key, &LOGIN_KEYS, "login"),
                });
            }
        }
    }
    Ok(())
}

/// docker-map's feature names, which a client entry may set directly.
const FEATURES: [&str; 8] = [
    "host_config",
    "networks",
    "volumes",
    "stop_signal",
    "container_update",
    "container_update_restart_policy",
    "healthcheck",
    "stop_timeout",
];

/// Loads a clients file with the current env (for `!env`).
pub fn load_clients_file(
    path: impl AsRef<Path>,
) -> Result<BTreeMap<String, ClientConfig>, MapError> {
    let path = path.as_ref();
    let source = path.display().to_string();
    let text = read_file(path, "clients")?;
    load_clients_str(&text, &source, &env())
}

/// Checks that every client a map names is configured and has a host to connect through.
pub fn check_clients(
    map: &ContainerMap,
    clients: &BTreeMap<String, ClientConfig>,
) -> Result<(), MapError> {
    let mut problems = Problems::new(&map.source);
    let named = map
        .clients
        .iter()
        .map(|c| (c, map.clients_at, "clients".to_owned()))
        .chain(map.containers.iter().flat_map(|(name, config)| {
            config
                .clients
                .iter()
                .map(move |c| (c, config.at, format!("{name}.clients")))
        }));
    for (client, at, path) in named {
        match clients.get(client) {
            None => {
                let known: Vec<&str> = clients.keys().map(String::as_str).collect();
                problems.error(
                    at,
                    &path,
                    match super::problems::suggestion(client, &known) {
                        Some(close) => {
                            format!("client '{client}' is not configured; did you mean '{close}'?")
                        }
                        None => format!("client '{client}' is not configured in the clients file"),
                    },
                );
            }
            Some(config) if config.fabric_host.is_none() => problems.error(
                at,
                &path,
                format!("client '{client}' has no fabric_host to connect through"),
            ),
            Some(_) => {}
        }
    }
    problems.into_result().map(drop)
}
