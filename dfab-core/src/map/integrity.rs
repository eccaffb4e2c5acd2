//! The integrity check: every reference in a map resolves, no name is used twice, no dependency cycle.

use std::collections::BTreeMap;

use super::container_map::ContainerMap;
use super::deps::Graph;
use super::items::{Bind, NetworkMode};
use super::network::PREDEFINED_NETWORKS;
use super::node::Position;
use super::problems::{suggestion, Problems};
use crate::env::Env;

/// Checks `map` (already extended) and records every problem.
pub(crate) fn check(map: &ContainerMap, problems: &mut Problems) {
    let concrete: Vec<(&str, &super::container::ContainerConfig)> = map
        .containers
        .iter()
        .filter(|(_, c)| !c.abstract_)
        .map(|(n, c)| (n.as_str(), c))
        .collect();
    let config_names: Vec<&str> = concrete.iter().map(|(n, _)| *n).collect();
    let by_name: std::collections::HashMap<&str, &super::container::ContainerConfig> =
        concrete.iter().copied().collect();

    // A container reference: `config` (all its instances) or `config.instance` of a configured instance.
    let resolve = |name: &str| -> Result<(), String> {
        let (config, instance) = match name.split_once('.') {
            Some((c, i)) if !i.is_empty() => (c, Some(i)),
            _ => (name.trim_end_matches('.'), None),
        };
        match by_name.get(config).map(|c| (config, *c)) {
            None => Err(match suggestion(config, &config_names) {
                Some(close) => {
                    format!("no container configuration '{config}'; did you mean '{close}'?")
                }
                None => format!("no container configuration '{config}'"),
            }),
            Some((_, c)) => match instance {
                Some(i) if !c.instances.iter().any(|x| x == i) => Err(format!(
                    "'{config}' has no instance '{i}' (its instances: {})",
                    if c.instances.is_empty() {
                        "none".to_owned()
                    } else {
                        c.instances.join(", ")
                    }
                )),
                _ => Ok(()),
            },
        }
    };

    // Groups: names distinct from configs, members resolve.
    for (group, members) in &map.groups {
        if config_names.contains(&group.as_str()) {
            let at = members.first().map(|(_, at)| *at).unwrap_or_default();
            problems.error(
                at,
                &format!("groups.{group}"),
                format!("group '{group}' has the name of a container configuration"),
            );
        }
        for (member, at) in members {
            if let Err(message) = resolve(member) {
                problems.error(*at, &format!("groups.{group}"), message);
            }
        }
    }

    // Attached volumes: one owner per name, a path for each.
    let mut attached: BTreeMap<String, (&str, Position)> = BTreeMap::new();
    for (name, config) in &concrete {
        for attach in &config.attaches {
            let key = if map.use_attached_parent_name {
                format!("{name}.{}", attach.alias)
            } else {
                attach.alias.clone()
            };
            if let Some((owner, first)) = attached.get(&key) {
                problems.error(
                    attach.at,
                    &format!("{name}.attaches"),
                    format!(
                        "volume '{}' is already attached by '{owner}' (at {first}); each attached volume has one owner{}",
                        attach.alias,
                        if map.use_attached_parent_name { "" } else { " unless use_attached_parent_name is set" }
                    ),
                );
            } else {
                attached.insert(key, (name, attach.at));
            }
            if attach.path.is_none() && !has_path(map, &attach.alias) {
                let aliases: Vec<&str> = map.volumes.keys().map(String::as_str).collect();
                let hint = match suggestion(&attach.alias, &aliases) {
                    // The alias itself is in the volumes section, only without a path.
                    Some(close) if close == attach.alias => format!(
                        ": give it a path in the volumes section ({close}: /path) or write [{close}, /path]"
                    ),
                    Some(close) => format!("; did you mean '{close}'?"),
                    None => format!(
                        ": add it to the volumes section or write [{}, /path]",
                        attach.alias
                    ),
                };
                problems.error(
                    attach.at,
                    &format!("{name}.attaches"),
                    format!("volume '{}' has no path{hint}", attach.alias),
                );
            }
        }
    }
    let inline_paths: Vec<&str> = concrete
        .iter()
        .flat_map(|(_, c)| c.attaches.iter())
        .filter(|a| a.path.is_some())
        .map(|a| a.alias.as_str())
        .collect();

    for (name, config) in &concrete {
        for used in &config.uses {
            // In parent-name mode the attached names are `config.alias`, so a bare alias does not resolve.
            let found = map.attached_volume(&used.name).is_some() || resolve(&used.name).is_ok();
            if !found {
                let mut known: Vec<&str> = attached.keys().map(String::as_str).collect();
                known.extend(&config_names);
                let hint = suggestion(&used.name, &known)
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                problems.error(
                    used.at,
                    &format!("{name}.uses"),
                    format!(
                        "'{}' is neither an attached volume nor a container configuration{hint}",
                        used.name
                    ),
                );
            }
        }
        for bind in &config.binds {
            if let Bind::Shared { alias, at, .. } = bind {
                match map.host.get(alias) {
                    None => problems.error(
                        *at,
                        &format!("{name}.binds"),
                        format!("host volume '{alias}' is not in the host section"),
                    ),
                    // Per-instance host paths must cover every instance (or give a default).
                    Some(super::volume::HostPath::PerInstance(paths)) => {
                        let slots: Vec<String> = if config.instances.is_empty() {
                            vec!["default".to_owned()]
                        } else {
                            config.instances.clone()
                        };
                        for slot in slots {
                            if !paths.contains_key(&slot) && !paths.contains_key("default") {
                                problems.error(
                                    *at,
                                    &format!("{name}.binds"),
                                    format!(
                                        "host volume '{alias}' has no path for instance '{slot}' (nor a default)"
                                    ),
                                );
                            }
                        }
                    }
                    Some(_) => {}
                }
                if !has_path(map, alias) && !inline_paths.contains(&alias.as_str()) {
                    problems.error(
                        *at,
                        &format!("{name}.binds"),
                        format!("volume '{alias}' has no container path in the volumes section"),
                    );
                }
            }
        }
        let links = config.links.iter().chain(
            config
                .networks
                .iter()
                .flatten()
                .flat_map(|e| e.links.iter()),
        );
        for link in links {
            if let Err(message) = resolve(&link.container) {
                problems.error(link.at, &format!("{name}.links"), message);
            }
        }
        for endpoint in config.networks.iter().flatten() {
            let network = endpoint.network.as_str();
            if !PREDEFINED_NETWORKS.contains(&network) && !map.networks.contains_key(network) {
                problems.error(
                    endpoint.at,
                    &format!("{name}.networks"),
                    format!("network '{network}' is not in the networks section"),
                );
            }
        }
        if let Some(NetworkMode::Config {
            config: other,
            instance,
            at,
        }) = &config.network_mode
        {
            let reference = match instance {
                Some(i) => format!("{other}.{i}"),
                None => other.clone(),
            };
            if let Err(message) = resolve(&reference) {
                problems.error(*at, &format!("{name}.network_mode"), message);
            }
        }
        let shared_stack = match &config.network_mode {
            Some(NetworkMode::Config { config: other, .. }) => Some(other.clone()),
            Some(NetworkMode::External(mode)) if mode.starts_with("container:") => {
                Some(mode.clone())
            }
            _ => None,
        };
        if let Some(other) = shared_stack {
            for (key, present) in stack_conflicts(config) {
                if present {
                    problems.error(
                        config.at,
                        &format!("{name}.{key}"),
                        format!(
                            "cannot be used with network_mode '{other}': the container shares that container's \
                             network, and the engine refuses a host name, domain name, ports, DNS settings and \
                             links there"
                        ),
                    );
                }
            }
        }
        for (parent, at) in &config.extends {
            if *parent == **name {
                problems.error(
                    *at,
                    &format!("{name}.extends"),
                    "a configuration cannot extend itself",
                );
            }
        }
    }

    for cycle in Graph::cycles(map, &Env::default()) {
        let at = cycle
            .0
            .first()
            .and_then(|item| match item {
                super::deps::Item::Container { config, .. } => map.container(config).map(|c| c.at),
                _ => None,
            })
            .unwrap_or_default();
        problems.error(at, "", cycle.to_string());
    }
}

/// What a configuration sets explicitly that a container sharing another's network stack may not have (the engine
/// answers "conflicting options"), by the key it is written under.
fn stack_conflicts(config: &super::container::ContainerConfig) -> Vec<(String, bool)> {
    let mut found = vec![
        ("exposes".to_owned(), !config.exposes.is_empty()),
        ("links".to_owned(), !config.links.is_empty()),
    ];
    for key in ["hostname", "domainname", "mac_address", "ports"] {
        found.push((
            format!("create_options.{key}"),
            config.create_options.contains_key(key),
        ));
    }
    for key in [
        "port_bindings",
        "publish_all_ports",
        "dns",
        "dns_search",
        "dns_opt",
        "extra_hosts",
        "links",
    ] {
        found.push((
            format!("host_config.{key}"),
            config.host_config.contains_key(key),
        ));
    }
    found
}

/// Whether the volumes section gives `alias` a container path.
fn has_path(map: &ContainerMap, alias: &str) -> bool {
    map.volumes
        .get(alias)
        .is_some_and(|v| v.default_path.is_some())
}
