//! A map written back as YAML in one canonical shape per key (with `extends` already applied), which loads into
//! the same map: for showing what dfab understood, and for the round-trip property tests.

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};

use super::container::ContainerConfig;
use super::container_map::ContainerMap;
use super::items::{Bind, ExecCommand, ExecPolicy, HealthCheck, Link, NetworkMode, User};
use super::text::Text;
use super::volume::HostPath;

fn text(value: &Text) -> Value {
    match value {
        Text::Plain(text) => Value::String(text.clone()),
        Text::EnvLazy { key, .. } => tagged("env_lazy", key),
        Text::PathLazy(text) => tagged("path_lazy", text),
    }
}

fn tagged(tag: &str, value: &str) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(tag),
        value: Value::String(value.to_owned()),
    }))
}

fn string(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn opt_text(value: &Option<Text>) -> Value {
    value.as_ref().map(text).unwrap_or(Value::Null)
}

fn flag(readonly: bool) -> Value {
    string(if readonly { "ro" } else { "rw" })
}

fn list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Sequence(items.into_iter().collect())
}

fn user(value: &User) -> Value {
    match &value.group {
        Some(group) => list([text(&value.user), text(group)]),
        None => text(&value.user),
    }
}

fn link(value: &Link) -> Value {
    list([
        string(&value.container),
        value.alias.as_deref().map(string).unwrap_or(Value::Null),
    ])
}

fn health(value: &HealthCheck) -> Value {
    let mut m = Mapping::new();
    m.insert(string("test"), list(value.test.iter().map(|t| string(t))));
    for (key, field) in [
        ("interval", value.interval),
        ("timeout", value.timeout),
        ("retries", value.retries),
        ("start_period", value.start_period),
    ] {
        if let Some(n) = field {
            m.insert(string(key), Value::Number(n.into()));
        }
    }
    Value::Mapping(m)
}

/// Adds a key unless its value is empty (null, an empty list or mapping).
fn put(m: &mut Mapping, key: &str, value: Value) {
    let empty = matches!(&value, Value::Null)
        || matches!(&value, Value::Sequence(s) if s.is_empty())
        || matches!(&value, Value::Mapping(s) if s.is_empty());
    if !empty {
        m.insert(string(key), value);
    }
}

fn container(config: &ContainerConfig) -> Value {
    let mut m = Mapping::new();
    if config.abstract_ {
        put(&mut m, "abstract", Value::Bool(true));
    }
    put(&mut m, "image", opt_text(&config.image));
    put(
        &mut m,
        "instances",
        list(config.instances.iter().map(|i| string(i))),
    );
    put(
        &mut m,
        "clients",
        list(config.clients.iter().map(|c| string(c))),
    );
    put(&mut m, "shares", list(config.shares.iter().map(text)));
    put(
        &mut m,
        "binds",
        list(config.binds.iter().map(|b| match b {
            Bind::Shared {
                alias, readonly, ..
            } => list([string(alias), flag(*readonly)]),
            Bind::Host {
                path,
                host_path,
                readonly,
                ..
            } => list([text(path), text(host_path), flag(*readonly)]),
        })),
    );
    put(
        &mut m,
        "attaches",
        list(config.attaches.iter().map(|a| match &a.path {
            Some(path) => list([string(&a.alias), text(path)]),
            None => string(&a.alias),
        })),
    );
    put(
        &mut m,
        "uses",
        list(
            config
                .uses
                .iter()
                .map(|u| list([string(&u.name), opt_text(&u.path), flag(u.readonly)])),
        ),
    );
    put(&mut m, "links", list(config.links.iter().map(link)));
    put(
        &mut m,
        "exposes",
        list(config.exposes.iter().map(|p| {
            list([
                string(&p.exposed),
                p.host_port.as_deref().map(string).unwrap_or(Value::Null),
                p.interface.as_deref().map(string).unwrap_or(Value::Null),
                Value::Bool(p.ipv6),
            ])
        })),
    );
    put(
        &mut m,
        "user",
        config.user.as_ref().map(user).unwrap_or(Value::Null),
    );
    put(
        &mut m,
        "permissions",
        config
            .permissions
            .as_deref()
            .map(string)
            .unwrap_or(Value::Null),
    );
    put(
        &mut m,
        "stop_timeout",
        config
            .stop_timeout
            .map(|n| Value::Number(n.into()))
            .unwrap_or(Value::Null),
    );
    put(
        &mut m,
        "stop_signal",
        config
            .stop_signal
            .as_deref()
            .map(string)
            .unwrap_or(Value::Null),
    );
    put(
        &mut m,
        "start_delay",
        config
            .start_delay
            .map(|n| Value::Number(n.into()))
            .unwrap_or(Value::Null),
    );
    if let Some(mode) = &config.network_mode {
        m.insert(
            string("network_mode"),
            match mode {
                NetworkMode::Named(name) | NetworkMode::External(name) => string(name),
                NetworkMode::Config {
                    config,
                    instance: Some(instance),
                    ..
                } => string(&format!("{config}.{instance}")),
                NetworkMode::Config { config, .. } => string(config),
            },
        );
    }
    if let Some(networks) = &config.networks {
        m.insert(
            string("networks"),
            list(networks.iter().map(|e| {
                let mut fields = Mapping::new();
                fields.insert(string("aliases"), list(e.aliases.iter().map(text)));
                fields.insert(string("links"), list(e.links.iter().map(link)));
                fields.insert(string("ipv4_address"), opt_text(&e.ipv4_address));
                fields.insert(string("ipv6_address"), opt_text(&e.ipv6_address));
                fields.insert(
                    string("link_local_ips"),
                    list(e.link_local_ips.iter().map(text)),
                );
                let mut entry = Mapping::new();
                entry.insert(string(&e.network), Value::Mapping(fields));
                Value::Mapping(entry)
            })),
        );
    }
    put(
        &mut m,
        "exec_commands",
        list(config.exec_commands.iter().map(|e| {
            let (command, user, policy) = match e {
                ExecCommand::Shell {
                    command,
                    user,
                    policy,
                } => (text(command), user, policy),
                ExecCommand::Argv { argv, user, policy } => {
                    (list(argv.iter().map(|a| string(a))), user, policy)
                }
            };
            let policy = match policy {
                ExecPolicy::Restart => "restart",
                ExecPolicy::Initial => "initial",
            };
            list([command, opt_text(user), string(policy)])
        })),
    );
    put(
        &mut m,
        "healthcheck",
        config
            .healthcheck
            .as_ref()
            .map(health)
            .unwrap_or(Value::Null),
    );
    if let Some(persistent) = config.persistent {
        m.insert(string("persistent"), Value::Bool(persistent));
    }
    put(
        &mut m,
        "create_options",
        Value::Mapping(
            config
                .create_options
                .iter()
                .map(|(k, v)| (string(k), v.clone()))
                .collect(),
        ),
    );
    put(
        &mut m,
        "host_config",
        Value::Mapping(
            config
                .host_config
                .iter()
                .map(|(k, v)| (string(k), v.clone()))
                .collect(),
        ),
    );
    Value::Mapping(m)
}

/// The map as canonical YAML (with its `name`).
pub fn to_yaml(map: &ContainerMap) -> String {
    let mut m = Mapping::new();
    m.insert(string("name"), string(&map.name));
    for (key, value) in [
        ("repository", &map.repository),
        ("default_tag", &map.default_tag),
        ("host_root", &map.host_root),
        ("default_domain", &map.default_domain),
    ] {
        if let Some(value) = value {
            m.insert(string(key), text(value));
        }
    }
    if let Some(set) = map.set_hostname {
        m.insert(string("set_hostname"), Value::Bool(set));
    }
    if map.use_attached_parent_name {
        m.insert(string("use_attached_parent_name"), Value::Bool(true));
    }
    if !map.clients.is_empty() {
        m.insert(
            string("clients"),
            list(map.clients.iter().map(|c| string(c))),
        );
    }
    let groups: Mapping = map
        .groups
        .iter()
        .map(|(g, members)| (string(g), list(members.iter().map(|(n, _)| string(n)))))
        .collect();
    let volumes: Mapping = map
        .volumes
        .iter()
        .map(|(alias, v)| {
            let mut fields = Mapping::new();
            fields.insert(string("default_path"), opt_text(&v.default_path));
            fields.insert(string("driver"), string(&v.driver));
            fields.insert(
                string("driver_options"),
                Value::Mapping(
                    v.driver_options
                        .iter()
                        .map(|(k, t)| (string(k), text(t)))
                        .collect(),
                ),
            );
            fields.insert(
                string("create_options"),
                Value::Mapping(
                    v.create_options
                        .iter()
                        .map(|(k, x)| (string(k), x.clone()))
                        .collect(),
                ),
            );
            if let Some(u) = &v.user {
                fields.insert(string("user"), user(u));
            }
            if let Some(p) = &v.permissions {
                fields.insert(string("permissions"), string(p));
            }
            (string(alias), Value::Mapping(fields))
        })
        .collect();
    let host: Mapping = map
        .host
        .iter()
        .map(|(alias, path)| {
            let value = match path {
                HostPath::Single(t) => text(t),
                HostPath::PerInstance(paths) => {
                    Value::Mapping(paths.iter().map(|(i, t)| (string(i), text(t))).collect())
                }
            };
            (string(alias), value)
        })
        .collect();
    let networks: Mapping = map
        .networks
        .iter()
        .map(|(name, n)| {
            let mut fields = Mapping::new();
            fields.insert(string("driver"), string(&n.driver));
            fields.insert(
                string("driver_options"),
                Value::Mapping(
                    n.driver_options
                        .iter()
                        .map(|(k, t)| (string(k), text(t)))
                        .collect(),
                ),
            );
            fields.insert(string("internal"), Value::Bool(n.internal));
            fields.insert(
                string("create_options"),
                Value::Mapping(
                    n.create_options
                        .iter()
                        .map(|(k, x)| (string(k), x.clone()))
                        .collect(),
                ),
            );
            (string(name), Value::Mapping(fields))
        })
        .collect();
    let containers: Mapping = map
        .containers
        .iter()
        .map(|(name, config)| (string(name), container(config)))
        .collect();
    for (key, section) in [
        ("groups", groups),
        ("volumes", volumes),
        ("host", host),
        ("networks", networks),
        ("containers", containers),
    ] {
        if !section.is_empty() {
            m.insert(string(key), Value::Mapping(section));
        }
    }
    serde_yaml::to_string(&Value::Mapping(m)).unwrap_or_default()
}
