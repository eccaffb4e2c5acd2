//! The container-create request for one container of a map (docs/docker-map-semantics.md#the-create-request), in
//! the engine's own JSON form and then as bollard's typed body, so that every option of `create_options` and
//! `host_config` is checked by name.

use serde_json::{json, Map, Value};

use bollard::models::{ContainerCreateBody, EndpointIpamConfig, EndpointSettings};

use super::errors::{RequestError, RequestProblems};
use crate::env::Env;
use crate::map::{
    config_image, container_name, hostname, network_name, translate, volume_name, Bind, Block,
    ClientConfig, ContainerMap, Endpoint, HealthCheck, HostPath, Item, Link, NetworkMode, Target,
    Text,
};

fn resolve(text: &Text, env: &Env) -> Result<String, RequestError> {
    Ok(text.resolve(env)?)
}

/// The host path of `alias` for `instance` (`default` when there is none), joined to the host root when
/// relative.
fn host_path(
    map: &ContainerMap,
    alias: &str,
    instance: Option<&str>,
    env: &Env,
) -> Result<String, RequestError> {
    let path = match map.host.get(alias) {
        Some(HostPath::Single(text)) => resolve(text, env)?,
        Some(HostPath::PerInstance(paths)) => {
            let key = instance.unwrap_or("default");
            let text = paths
                .get(key)
                .or_else(|| paths.get("default"))
                .ok_or_else(|| RequestError::NoInstancePath {
                    alias: alias.to_owned(),
                    instance: key.to_owned(),
                })?;
            resolve(text, env)?
        }
        None => return Err(RequestError::NotInHostSection(alias.to_owned())),
    };
    rooted(map, &path, env)
}

fn rooted(map: &ContainerMap, path: &str, env: &Env) -> Result<String, RequestError> {
    match &map.host_root {
        Some(root) if !path.starts_with('/') => Ok(format!(
            "{}/{}",
            resolve(root, env)?.trim_end_matches('/'),
            path
        )),
        _ => Ok(path.to_owned()),
    }
}

fn volume_path(map: &ContainerMap, alias: &str, env: &Env) -> Result<String, RequestError> {
    let text = map
        .volumes
        .get(alias)
        .and_then(|v| v.default_path.as_ref())
        .ok_or_else(|| RequestError::NoVolumePath(alias.to_owned()))?;
    resolve(text, env)
}

fn mode(readonly: bool) -> &'static str {
    if readonly {
        "ro"
    } else {
        "rw"
    }
}

fn health(check: &HealthCheck) -> Value {
    let mut m = Map::new();
    m.insert("Test".into(), json!(check.test));
    for (key, value) in [
        ("Interval", check.interval),
        ("Timeout", check.timeout),
        ("Retries", check.retries),
        ("StartPeriod", check.start_period),
    ] {
        if let Some(value) = value {
            m.insert(key.into(), json!(value));
        }
    }
    Value::Object(m)
}

/// `container:alias` for a link of `map`'s configuration; the alias defaults to the target's host name.
fn link_of(map: &ContainerMap, link: &Link) -> String {
    let (config, instance) = match link.container.split_once('.') {
        Some((c, i)) => (c, Some(i)),
        None => (link.container.as_str(), None),
    };
    let alias = link
        .alias
        .clone()
        .unwrap_or_else(|| hostname(&link.container, None));
    format!("{}:{alias}", container_name(&map.name, config, instance))
}

/// A container's settings on one of its networks: aliases, links and fixed addresses.
pub(crate) fn endpoint_settings(
    map: &ContainerMap,
    endpoint: &Endpoint,
    env: &Env,
) -> Result<EndpointSettings, RequestError> {
    let aliases = endpoint
        .aliases
        .iter()
        .map(|a| resolve(a, env))
        .collect::<Result<Vec<_>, _>>()?;
    let links: Vec<String> = endpoint.links.iter().map(|l| link_of(map, l)).collect();
    let link_local_ips = endpoint
        .link_local_ips
        .iter()
        .map(|a| resolve(a, env))
        .collect::<Result<Vec<_>, _>>()?;
    let ipv4_address = endpoint
        .ipv4_address
        .as_ref()
        .map(|ip| resolve(ip, env))
        .transpose()?;
    let ipv6_address = endpoint
        .ipv6_address
        .as_ref()
        .map(|ip| resolve(ip, env))
        .transpose()?;
    let addressed = ipv4_address.is_some() || ipv6_address.is_some() || !link_local_ips.is_empty();
    Ok(EndpointSettings {
        aliases: (!aliases.is_empty()).then_some(aliases),
        links: (!links.is_empty()).then_some(links),
        ipam_config: addressed.then(|| EndpointIpamConfig {
            ipv4_address,
            ipv6_address,
            link_local_ips: (!link_local_ips.is_empty()).then_some(link_local_ips),
        }),
        ..Default::default()
    })
}

/// Builds the create request of every container among `items` without sending it, so that what only the
/// fabfile's env or the client settles (deferred `!env_lazy` values, interface aliases) fails before the first
/// step, each problem with its configuration's position.
pub(super) fn check_requests(
    map: &ContainerMap,
    items: &[Item],
    client: Option<&ClientConfig>,
    env: &Env,
) -> Result<(), RequestProblems> {
    let mut problems: Vec<String> = Vec::new();
    for item in items {
        let Item::Container { config, instance } = item else {
            continue;
        };
        let at = map.container(config).map(|c| c.at).unwrap_or_default();
        let name = container_name(&map.name, config, instance.as_deref());
        let problem = match config_image(map, config, env) {
            Ok(image) => create_body(map, config, instance.as_deref(), &image, client, env)
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(format!("image: {e}")),
        };
        if let Some(problem) = problem {
            let line = format!(
                "{}:{at}: {config}: '{name}' cannot be created: {problem}",
                map.source
            );
            if !problems.contains(&line) {
                problems.push(line);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RequestProblems(problems))
    }
}

/// The label dfab puts on the containers it creates, naming their map.
pub(super) const OWNER_LABEL: &str = "dfab.map";

/// The create request for `config` (one of its `instance`s) of `map`, on a host described by `client`.
pub fn create_body(
    map: &ContainerMap,
    config_name: &str,
    instance: Option<&str>,
    image: &str,
    client: Option<&ClientConfig>,
    env: &Env,
) -> Result<ContainerCreateBody, RequestError> {
    let config = map
        .container(config_name)
        .ok_or_else(|| RequestError::NoConfiguration(config_name.to_owned()))?;
    let name = container_name(&map.name, config_name, instance);
    let mut body = Map::new();
    let mut host = Map::new();
    body.insert("Image".into(), json!(image));
    if map.sets_hostname() {
        body.insert("Hostname".into(), json!(hostname(&name, None)));
    }
    let domain = match client.and_then(|c| c.domainname.clone()) {
        Some(from_client) => from_client,
        None => map.default_domain.clone(),
    };
    if let Some(domain) = domain {
        body.insert("Domainname".into(), json!(resolve(&domain, env)?));
    }
    if let Some(user) = &config.user {
        body.insert("User".into(), json!(resolve(&user.user, env)?));
    }

    // Volumes: anonymous shares, host binds, attached and used named volumes, other containers' volumes.
    let mut anonymous: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut volumes_from: Vec<String> = Vec::new();
    for share in &config.shares {
        anonymous.push(resolve(share, env)?);
    }
    for bind in &config.binds {
        match bind {
            Bind::Shared {
                alias, readonly, ..
            } => binds.push(format!(
                "{}:{}:{}",
                host_path(map, alias, instance, env)?,
                volume_path(map, alias, env)?,
                mode(*readonly)
            )),
            Bind::Host {
                path,
                host_path: on_host,
                readonly,
                ..
            } => binds.push(format!(
                "{}:{}:{}",
                rooted(map, &resolve(on_host, env)?, env)?,
                resolve(path, env)?,
                mode(*readonly)
            )),
        }
    }
    for attach in &config.attaches {
        let path = match &attach.path {
            Some(path) => resolve(path, env)?,
            None => volume_path(map, &attach.alias, env)?,
        };
        binds.push(format!(
            "{}:{path}:rw",
            volume_name(map, config_name, &attach.alias)
        ));
    }
    for used in &config.uses {
        match map.attached_volume(&used.name) {
            Some((parent, alias)) => {
                let path = match &used.path {
                    Some(path) => resolve(path, env)?,
                    None => match map
                        .container(parent)
                        .and_then(|p| p.attaches.iter().find(|a| a.alias == alias))
                        .and_then(|a| a.path.as_ref())
                    {
                        Some(path) => resolve(path, env)?,
                        None => volume_path(map, alias, env)?,
                    },
                };
                binds.push(format!(
                    "{}:{path}:{}",
                    volume_name(map, parent, alias),
                    mode(used.readonly)
                ));
            }
            None => {
                let suffix = if used.readonly { ":ro" } else { "" };
                let targets: Vec<String> = match used.name.split_once('.') {
                    Some((c, i)) => vec![container_name(&map.name, c, Some(i))],
                    None => map
                        .container(&used.name)
                        .map(|c| {
                            c.instance_slots()
                                .iter()
                                .map(|i| container_name(&map.name, &used.name, i.as_deref()))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                volumes_from.extend(targets.into_iter().map(|t| format!("{t}{suffix}")));
            }
        }
    }
    if !anonymous.is_empty() {
        body.insert(
            "Volumes".into(),
            Value::Object(anonymous.iter().map(|p| (p.clone(), json!({}))).collect()),
        );
    }
    if !binds.is_empty() {
        host.insert("Binds".into(), json!(binds));
    }
    if !volumes_from.is_empty() {
        host.insert("VolumesFrom".into(), json!(volumes_from));
    }

    // Links, ports, network mode, networks.
    let links: Vec<String> = config.links.iter().map(|l| link_of(map, l)).collect();
    // On a user-defined network the engine ignores legacy links; they go to that network's endpoint instead.
    let on_user_network = config
        .networks
        .as_ref()
        .and_then(|n| n.first())
        .is_some_and(|e| !crate::map::PREDEFINED_NETWORKS.contains(&e.network.as_str()));
    if !links.is_empty() && !on_user_network {
        host.insert("Links".into(), json!(links));
    }
    let mut exposed = Map::new();
    let mut bindings = Map::new();
    for port in &config.exposes {
        let key = if port.exposed.contains('/') {
            port.exposed.clone()
        } else {
            format!("{}/tcp", port.exposed)
        };
        exposed.insert(key.clone(), json!({}));
        if let Some(host_port) = &port.host_port {
            let ip = match &port.interface {
                None => String::new(),
                Some(alias) => {
                    let table = client.map(|c| {
                        if port.ipv6 {
                            &c.interfaces_ipv6
                        } else {
                            &c.interfaces
                        }
                    });
                    let text = table.and_then(|t| t.get(alias)).ok_or_else(|| {
                        RequestError::UnknownInterface {
                            port: port.exposed.to_string(),
                            alias: alias.clone(),
                        }
                    })?;
                    resolve(text, env)?
                }
            };
            let entry = bindings.entry(key).or_insert_with(|| json!([]));
            if let Value::Array(list) = entry {
                list.push(json!({"HostIp": ip, "HostPort": host_port}));
            }
        }
    }
    if !exposed.is_empty() {
        body.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    if !bindings.is_empty() {
        host.insert("PortBindings".into(), Value::Object(bindings));
    }
    match &config.network_mode {
        Some(NetworkMode::Named(mode)) => {
            host.insert("NetworkMode".into(), json!(mode));
            if mode == "none" {
                body.insert("NetworkDisabled".into(), json!(true));
            }
        }
        Some(NetworkMode::External(mode)) => {
            host.insert("NetworkMode".into(), json!(mode));
        }
        Some(NetworkMode::Config {
            config: other,
            instance: other_instance,
            ..
        }) => {
            let instance = other_instance.clone().or_else(|| {
                map.container(other)
                    .and_then(|c| c.instances.first().cloned())
            });
            host.insert(
                "NetworkMode".into(),
                json!(format!(
                    "container:{}",
                    container_name(&map.name, other, instance.as_deref())
                )),
            );
        }
        None => {}
    }
    if let Some(first) = config.networks.as_ref().and_then(|n| n.first()) {
        let network = network_name(&map.name, &first.network);
        host.entry("NetworkMode")
            .or_insert_with(|| json!(network.clone()));
        let mut endpoint = endpoint_settings(map, first, env)?;
        if on_user_network && !links.is_empty() {
            endpoint
                .links
                .get_or_insert_with(Vec::new)
                .extend(links.iter().cloned());
        }
        let endpoint = serde_json::to_value(endpoint).map_err(|e| RequestError::DoesNotFit {
            config: config_name.to_owned(),
            reason: e.to_string(),
        })?;
        body.insert(
            "NetworkingConfig".into(),
            json!({"EndpointsConfig": {network: endpoint}}),
        );
    }
    if let Some(signal) = &config.stop_signal {
        body.insert("StopSignal".into(), json!(signal));
    }
    if let Some(timeout) = config.stop_timeout {
        body.insert("StopTimeout".into(), json!(timeout));
    }
    if let Some(check) = &config.healthcheck {
        body.insert("Healthcheck".into(), health(check));
    }

    // The configuration's own options, by docker-py's names (checked when the map loaded), merged over the
    // computed values by docker-map's rule: lists are appended without repeats, mappings updated, anything else
    // (and `command`, `entrypoint`) replaced.
    let options = [
        (Block::Create, &config.create_options),
        (Block::Host, &config.host_config),
    ];
    for (block, options) in options {
        for (key, value) in options {
            let field = translate(block, key, value).map_err(|reason| RequestError::Option {
                config: config_name.to_owned(),
                block: block.key(),
                key: key.clone(),
                reason,
            })?;
            let Some(field) = field else {
                continue;
            };
            let part = match field.target {
                Target::Body => &mut body,
                Target::Host => &mut host,
            };
            let replace = matches!(key.as_str(), "command" | "entrypoint");
            merge(part, field.name, field.value, replace);
        }
    }
    // A container on another container's network stack may not have a host name, domain name or DNS settings of
    // its own (the engine refuses "conflicting options"), as `docker run --network container:x` leaves them out.
    // What the map set explicitly was refused when it loaded; this drops what dfab computed (set_hostname).
    let shared_stack = host
        .get("NetworkMode")
        .and_then(Value::as_str)
        .is_some_and(|mode| mode.starts_with("container:"));
    if shared_stack {
        for field in ["Hostname", "Domainname"] {
            body.remove(field);
        }
    }
    body.insert("HostConfig".into(), Value::Object(host));
    // The owner's mark: a later run tells the map's containers from others of the same name (see `Observed`).
    if let Value::Object(labels) = body
        .entry("Labels")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        labels.insert(OWNER_LABEL.into(), json!(map.name));
    }
    serde_json::from_value(Value::Object(body)).map_err(|e| RequestError::DoesNotFit {
        config: config_name.to_owned(),
        reason: e.to_string(),
    })
}

/// Sets `name` in `part` to `value` by docker-map's merge rule.
fn merge(part: &mut Map<String, Value>, name: &str, value: Value, replace: bool) {
    match (part.get_mut(name), value) {
        (Some(Value::Array(current)), Value::Array(more)) if !replace => {
            for item in more {
                if !current.contains(&item) {
                    current.push(item);
                }
            }
        }
        (Some(Value::Object(current)), Value::Object(more)) if !replace => current.extend(more),
        (_, value) => {
            part.insert(name.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_merge_over_computed_values() {
        let mut part = Map::new();
        part.insert("Binds".into(), json!(["a:/a:rw"]));
        part.insert("Labels".into(), json!({"x": "1"}));
        part.insert("Cmd".into(), json!(["old"]));
        merge(&mut part, "Binds", json!(["a:/a:rw", "b:/b:ro"]), false);
        merge(&mut part, "Labels", json!({"y": "2"}), false);
        merge(&mut part, "Cmd", json!(["new"]), true);
        assert_eq!(part["Binds"], json!(["a:/a:rw", "b:/b:ro"]));
        assert_eq!(part["Labels"], json!({"x": "1", "y": "2"}));
        assert_eq!(part["Cmd"], json!(["new"]));
    }
}
