//! The engine options a map passes through: docker-py's `create_container` keywords (`create_options`) and its
//! `create_host_config` keywords (`host_config`, and the older `start_options`), each translated to the engine
//! API's field. The loader translates every option to check it, and the create request uses the same translation,
//! so an option that loads is one the engine request can carry.

use std::fmt;

use serde_json::{json, Map, Value};
use serde_yaml::Value as Yaml;

/// Which options block a key was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// `create_options`: docker-py's `create_container` keywords.
    Create,
    /// `host_config` (or `start_options`): docker-py's `create_host_config` keywords.
    Host,
}

impl Block {
    /// The key the block is written under.
    pub fn key(self) -> &'static str {
        match self {
            Block::Create => "create_options",
            Block::Host => "host_config",
        }
    }
}

/// Where a translated option goes in the create request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The container configuration (the request body).
    Body,
    /// The host configuration (`HostConfig`).
    Host,
}

/// One engine field set by an option.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The part of the request.
    pub target: Target,
    /// The engine API's field name, such as `RestartPolicy`.
    pub name: &'static str,
    /// The field's value in the engine's JSON form.
    pub value: Value,
}

/// Why an option cannot be passed to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// A keyword neither block knows.
    Unknown {
        /// The block it was written in.
        block: Block,
        /// The keyword.
        key: String,
        /// The closest known keyword of that block, if close.
        suggestion: Option<&'static str>,
    },
    /// A keyword of the other block.
    WrongBlock {
        /// The block it was written in.
        block: Block,
        /// The keyword.
        key: String,
    },
    /// A keyword the map itself sets, or one dfab takes elsewhere.
    Reserved {
        /// The keyword.
        key: String,
        /// Where its value comes from instead.
        instead: &'static str,
    },
    /// A value of the wrong shape.
    Value {
        /// What the keyword takes.
        expected: &'static str,
        /// What was found (its shape, never its content, which may be a secret).
        found: String,
    },
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::Unknown {
                block,
                key,
                suggestion: Some(close),
            } => write!(
                f,
                "unknown {} key '{key}'; did you mean '{close}'?",
                block.key()
            ),
            OptionError::Unknown { block, key, .. } => write!(
                f,
                "unknown {} key '{key}' (docker-py's {} keywords are accepted)",
                block.key(),
                match block {
                    Block::Create => "create_container",
                    Block::Host => "create_host_config",
                }
            ),
            OptionError::WrongBlock { block, key } => {
                let other = match block {
                    Block::Create => Block::Host,
                    Block::Host => Block::Create,
                };
                write!(
                    f,
                    "'{key}' is not a {} key: it belongs under {}",
                    block.key(),
                    other.key()
                )
            }
            OptionError::Reserved { key, instead } => {
                write!(f, "'{key}' cannot be set here: {instead}")
            }
            OptionError::Value { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
        }
    }
}

/// How an option's value is read.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Text,
    Bool,
    Int,
    Bytes,
    Texts,
    TextMap,
    Argv,
    Environment,
    Labels,
    Ports,
    PortBindings,
    Volumes,
    Binds,
    Links,
    ExtraHosts,
    RestartPolicy,
    LogConfig,
    Ulimits,
    Devices,
    Tmpfs,
    Healthcheck,
    /// docker-py's `detach`: no field (dfab never attaches to a container it creates).
    Detach,
}

/// `create_options` keywords: (docker-py's name, where it goes, the engine's field, its shape).
const CREATE: &[(&str, Target, &str, Shape)] = &[
    ("command", Target::Body, "Cmd", Shape::Argv),
    ("entrypoint", Target::Body, "Entrypoint", Shape::Argv),
    ("environment", Target::Body, "Env", Shape::Environment),
    ("labels", Target::Body, "Labels", Shape::Labels),
    ("working_dir", Target::Body, "WorkingDir", Shape::Text),
    ("user", Target::Body, "User", Shape::Text),
    ("tty", Target::Body, "Tty", Shape::Bool),
    ("stdin_open", Target::Body, "OpenStdin", Shape::Bool),
    ("detach", Target::Body, "", Shape::Detach),
    ("hostname", Target::Body, "Hostname", Shape::Text),
    ("domainname", Target::Body, "Domainname", Shape::Text),
    ("stop_signal", Target::Body, "StopSignal", Shape::Text),
    ("stop_timeout", Target::Body, "StopTimeout", Shape::Int),
    ("ports", Target::Body, "ExposedPorts", Shape::Ports),
    ("volumes", Target::Body, "Volumes", Shape::Volumes),
    (
        "network_disabled",
        Target::Body,
        "NetworkDisabled",
        Shape::Bool,
    ),
    (
        "healthcheck",
        Target::Body,
        "Healthcheck",
        Shape::Healthcheck,
    ),
    ("runtime", Target::Host, "Runtime", Shape::Text),
];

/// `host_config` keywords: (docker-py's name, where it goes, the engine's field, its shape).
const HOST: &[(&str, Target, &str, Shape)] = &[
    ("binds", Target::Host, "Binds", Shape::Binds),
    (
        "port_bindings",
        Target::Host,
        "PortBindings",
        Shape::PortBindings,
    ),
    (
        "publish_all_ports",
        Target::Host,
        "PublishAllPorts",
        Shape::Bool,
    ),
    ("links", Target::Host, "Links", Shape::Links),
    ("privileged", Target::Host, "Privileged", Shape::Bool),
    ("dns", Target::Host, "Dns", Shape::Texts),
    ("dns_search", Target::Host, "DnsSearch", Shape::Texts),
    ("dns_opt", Target::Host, "DnsOptions", Shape::Texts),
    ("volumes_from", Target::Host, "VolumesFrom", Shape::Texts),
    ("network_mode", Target::Host, "NetworkMode", Shape::Text),
    (
        "restart_policy",
        Target::Host,
        "RestartPolicy",
        Shape::RestartPolicy,
    ),
    ("cap_add", Target::Host, "CapAdd", Shape::Texts),
    ("cap_drop", Target::Host, "CapDrop", Shape::Texts),
    ("devices", Target::Host, "Devices", Shape::Devices),
    ("extra_hosts", Target::Host, "ExtraHosts", Shape::ExtraHosts),
    ("read_only", Target::Host, "ReadonlyRootfs", Shape::Bool),
    ("pid_mode", Target::Host, "PidMode", Shape::Text),
    ("ipc_mode", Target::Host, "IpcMode", Shape::Text),
    ("uts_mode", Target::Host, "UTSMode", Shape::Text),
    ("userns_mode", Target::Host, "UsernsMode", Shape::Text),
    ("security_opt", Target::Host, "SecurityOpt", Shape::Texts),
    ("ulimits", Target::Host, "Ulimits", Shape::Ulimits),
    ("log_config", Target::Host, "LogConfig", Shape::LogConfig),
    ("mem_limit", Target::Host, "Memory", Shape::Bytes),
    ("memswap_limit", Target::Host, "MemorySwap", Shape::Bytes),
    (
        "mem_reservation",
        Target::Host,
        "MemoryReservation",
        Shape::Bytes,
    ),
    (
        "mem_swappiness",
        Target::Host,
        "MemorySwappiness",
        Shape::Int,
    ),
    ("shm_size", Target::Host, "ShmSize", Shape::Bytes),
    ("cgroup_parent", Target::Host, "CgroupParent", Shape::Text),
    ("group_add", Target::Host, "GroupAdd", Shape::Texts),
    ("cpu_shares", Target::Host, "CpuShares", Shape::Int),
    ("cpu_period", Target::Host, "CpuPeriod", Shape::Int),
    ("cpu_quota", Target::Host, "CpuQuota", Shape::Int),
    (
        "cpu_rt_period",
        Target::Host,
        "CpuRealtimePeriod",
        Shape::Int,
    ),
    (
        "cpu_rt_runtime",
        Target::Host,
        "CpuRealtimeRuntime",
        Shape::Int,
    ),
    ("nano_cpus", Target::Host, "NanoCpus", Shape::Int),
    ("cpuset_cpus", Target::Host, "CpusetCpus", Shape::Text),
    ("cpuset_mems", Target::Host, "CpusetMems", Shape::Text),
    ("blkio_weight", Target::Host, "BlkioWeight", Shape::Int),
    (
        "oom_kill_disable",
        Target::Host,
        "OomKillDisable",
        Shape::Bool,
    ),
    ("oom_score_adj", Target::Host, "OomScoreAdj", Shape::Int),
    ("pids_limit", Target::Host, "PidsLimit", Shape::Int),
    ("tmpfs", Target::Host, "Tmpfs", Shape::Tmpfs),
    ("sysctls", Target::Host, "Sysctls", Shape::TextMap),
    ("storage_opt", Target::Host, "StorageOpt", Shape::TextMap),
    ("isolation", Target::Host, "Isolation", Shape::Text),
    ("auto_remove", Target::Host, "AutoRemove", Shape::Bool),
    ("init", Target::Host, "Init", Shape::Bool),
    ("runtime", Target::Host, "Runtime", Shape::Text),
    ("volume_driver", Target::Host, "VolumeDriver", Shape::Text),
];

/// Keywords docker-py takes that the map sets itself, that dfab takes in another key, or that the engine dropped.
const RESERVED: &[(&str, &str)] = &[
    ("image", "the configuration's image key names the image"),
    ("name", "the map names its containers (map.config.instance)"),
    (
        "host_config",
        "write host options under the configuration's own host_config key",
    ),
    (
        "networking_config",
        "the configuration's networks key says which networks it joins",
    ),
    // The engine API dfab speaks has no field for these any more; accepting them would drop them silently.
    (
        "mac_address",
        "the engine API sets a MAC address per network endpoint, which dfab does not support",
    ),
    (
        "kernel_memory",
        "Docker no longer supports kernel memory limits",
    ),
];

/// Every keyword `block` accepts.
pub fn keywords(block: Block) -> Vec<&'static str> {
    table(block).iter().map(|(key, ..)| *key).collect()
}

fn table(block: Block) -> &'static [(&'static str, Target, &'static str, Shape)] {
    match block {
        Block::Create => CREATE,
        Block::Host => HOST,
    }
}

/// Translates one option of `block` to the engine fields it sets.
pub fn translate(block: Block, key: &str, value: &Yaml) -> Result<Option<Field>, OptionError> {
    let Some(&(_, target, name, shape)) = table(block).iter().find(|(k, ..)| *k == key) else {
        if let Some((_, instead)) = RESERVED.iter().find(|(k, _)| *k == key) {
            return Err(OptionError::Reserved {
                key: key.to_owned(),
                instead,
            });
        }
        let other = match block {
            Block::Create => Block::Host,
            Block::Host => Block::Create,
        };
        if table(other).iter().any(|(k, ..)| *k == key) {
            return Err(OptionError::WrongBlock {
                block,
                key: key.to_owned(),
            });
        }
        return Err(OptionError::Unknown {
            block,
            key: key.to_owned(),
            suggestion: super::problems::suggestion(key, &keywords(block)),
        });
    };
    let value = convert(shape, value)?;
    Ok((!matches!(shape, Shape::Detach)).then_some(Field {
        target,
        name,
        value,
    }))
}

/// Where a key written directly on a container belongs, for the hint on an unknown container key.
pub fn belongs_under(key: &str) -> Option<Block> {
    [Block::Create, Block::Host]
        .into_iter()
        .find(|block| table(*block).iter().any(|(k, ..)| *k == key))
}

/// What a value is, for messages: its shape, never its content.
fn shape_of(value: &Yaml) -> String {
    match value {
        Yaml::Null => "nothing".into(),
        Yaml::Bool(_) => "a boolean".into(),
        Yaml::Number(_) => "a number".into(),
        Yaml::String(_) => "a string".into(),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a mapping".into(),
        Yaml::Tagged(tagged) => format!("a value tagged {}", tagged.tag),
    }
}

fn wrong(expected: &'static str, value: &Yaml) -> OptionError {
    OptionError::Value {
        expected,
        found: shape_of(value),
    }
}

/// A scalar as text (numbers and booleans as written).
fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean, also in PyYAML's spellings (`yes`, `off`, …), which unquoted values in real maps use.
fn boolean(value: &Yaml) -> Option<bool> {
    match value {
        Yaml::Bool(b) => Some(*b),
        Yaml::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" => Some(true),
            "false" | "no" | "off" | "n" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn integer(value: &Yaml) -> Option<i64> {
    match value {
        Yaml::Number(n) => n.as_i64(),
        Yaml::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A byte size: a number, or a number with `b`, `k`, `m`, `g` (powers of 1024), as docker-py reads it.
fn bytes(value: &Yaml) -> Option<i64> {
    match value {
        Yaml::Number(n) => n.as_i64(),
        Yaml::String(text) => {
            let lower = text.trim().to_ascii_lowercase();
            let (digits, factor) = match lower.chars().last() {
                Some('b') => (&lower[..lower.len() - 1], 1),
                Some('k') => (&lower[..lower.len() - 1], 1 << 10),
                Some('m') => (&lower[..lower.len() - 1], 1 << 20),
                Some('g') => (&lower[..lower.len() - 1], 1 << 30),
                _ => (lower.as_str(), 1),
            };
            digits
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(factor))
        }
        _ => None,
    }
}

/// A list of scalars; one scalar is a list of one.
fn texts(value: &Yaml) -> Option<Vec<String>> {
    match value {
        Yaml::Sequence(items) => items.iter().map(scalar).collect(),
        Yaml::Null => Some(Vec::new()),
        other => scalar(other).map(|s| vec![s]),
    }
}

/// A mapping of scalar keys to scalar values (null values as empty text).
fn text_map(value: &Yaml) -> Option<Map<String, Value>> {
    let Yaml::Mapping(pairs) = value else {
        return None;
    };
    pairs
        .iter()
        .map(|(k, v)| {
            let value = if v.is_null() {
                Some(String::new())
            } else {
                scalar(v)
            };
            Some((scalar(k)?, json!(value?)))
        })
        .collect()
}

/// Reads a mapping's field by any of its spellings (docker-py's and the engine's).
fn field<'v>(pairs: &'v serde_yaml::Mapping, names: &[&str]) -> Option<&'v Yaml> {
    pairs
        .iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| names.contains(&k)))
        .map(|(_, v)| v)
}

/// Checks that a mapping has only the given fields (each by any of its spellings).
fn only(
    pairs: &serde_yaml::Mapping,
    fields: &[&[&str]],
    expected: &'static str,
) -> Result<(), OptionError> {
    for (key, _) in pairs {
        let known = key
            .as_str()
            .is_some_and(|k| fields.iter().any(|names| names.contains(&k)));
        if !known {
            return Err(OptionError::Value {
                expected,
                found: format!(
                    "the field '{}'",
                    scalar(key).unwrap_or_else(|| shape_of(key))
                ),
            });
        }
    }
    Ok(())
}

/// `80`, `"80/udp"` or `[80, udp]` as the engine's `80/tcp` key.
fn port_key(value: &Yaml) -> Option<String> {
    let (port, protocol) = match value {
        Yaml::Sequence(pair) if pair.len() == 2 => (scalar(&pair[0])?, scalar(&pair[1])?),
        other => {
            let text = scalar(other)?;
            match text.split_once('/') {
                Some((port, protocol)) => (port.to_owned(), protocol.to_owned()),
                None => (text, "tcp".to_owned()),
            }
        }
    };
    let valid = port.parse::<u16>().is_ok() && ["tcp", "udp", "sctp"].contains(&protocol.as_str());
    valid.then(|| format!("{port}/{protocol}"))
}

/// One host side of a port binding: `8080`, `"127.0.0.1:8080"`, `[127.0.0.1, 8080]`, `[127.0.0.1]` or null.
fn binding(value: &Yaml) -> Option<Value> {
    let (ip, port) = match value {
        Yaml::Null => (String::new(), String::new()),
        Yaml::Sequence(pair) if pair.len() == 2 => (scalar(&pair[0])?, scalar(&pair[1])?),
        Yaml::Sequence(one) if one.len() == 1 => (scalar(&one[0])?, String::new()),
        other => {
            let text = scalar(other)?;
            match text.rsplit_once(':') {
                Some((ip, port)) => (ip.to_owned(), port.to_owned()),
                None => (String::new(), text),
            }
        }
    };
    let port_ok = port.is_empty()
        || port.parse::<u16>().is_ok()
        || port
            .split_once('-')
            .is_some_and(|(a, b)| a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok());
    port_ok.then(|| json!({"HostIp": ip, "HostPort": port}))
}

/// Whether a list is one `[address, port]` (or `[address]`) binding rather than a list of bindings: its first
/// element is not a port number.
fn address_pair(list: &[Yaml]) -> bool {
    (1..=2).contains(&list.len())
        && list.iter().all(|v| scalar(v).is_some())
        && scalar(&list[0]).is_some_and(|first| first.parse::<u16>().is_err())
}

fn convert(shape: Shape, value: &Yaml) -> Result<Value, OptionError> {
    let converted = match shape {
        Shape::Text => scalar(value).map(Value::String),
        Shape::Bool => boolean(value).map(Value::Bool),
        Shape::Detach => boolean(value).map(|_| Value::Null),
        Shape::Int => integer(value).map(|n| json!(n)),
        Shape::Bytes => {
            return bytes(value).map(|n| json!(n)).ok_or_else(|| wrong("a byte size such as 512m or 3g", value))
        }
        Shape::Texts => texts(value).map(|t| json!(t)),
        Shape::TextMap => text_map(value).map(Value::Object),
        Shape::Argv => match value {
            Yaml::String(line) => {
                return shlex::split(line).map(|words| json!(words)).ok_or(OptionError::Value {
                    expected: "a command with balanced quotes",
                    found: "unbalanced quotes".into(),
                })
            }
            Yaml::Sequence(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>().map(|w| json!(w)),
            Yaml::Null => Some(Value::Null),
            _ => None,
        },
        Shape::Environment => match value {
            Yaml::Mapping(pairs) => pairs
                .iter()
                .map(|(k, v)| {
                    let v = if v.is_null() { Some(String::new()) } else { scalar(v) };
                    Some(format!("{}={}", scalar(k)?, v?))
                })
                .collect::<Option<Vec<_>>>()
                .map(|lines| json!(lines)),
            Yaml::Sequence(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>().map(|l| json!(l)),
            _ => None,
        },
        // docker-py takes labels as a mapping, or as a list of names with empty values.
        Shape::Labels => match value {
            Yaml::Sequence(items) => items
                .iter()
                .map(|i| scalar(i).map(|k| (k, json!(""))))
                .collect::<Option<Map<_, _>>>()
                .map(Value::Object),
            other => text_map(other).map(Value::Object),
        },
        Shape::Ports => match value {
            Yaml::Sequence(items) => items
                .iter()
                .map(|p| port_key(p).map(|k| (k, json!({}))))
                .collect::<Option<Map<_, _>>>()
                .map(Value::Object),
            _ => None,
        },
        Shape::PortBindings => match value {
            Yaml::Mapping(pairs) => pairs
                .iter()
                .map(|(port, host)| {
                    let hosts = match host {
                        Yaml::Sequence(list) if !address_pair(list) => {
                            list.iter().map(binding).collect::<Option<Vec<_>>>()?
                        }
                        one => vec![binding(one)?],
                    };
                    Some((port_key(port)?, json!(hosts)))
                })
                .collect::<Option<Map<_, _>>>()
                .map(Value::Object),
            _ => None,
        },
        Shape::Volumes => texts(value).map(|paths| {
            Value::Object(paths.into_iter().map(|p| (p, json!({}))).collect())
        }),
        // `host:container[:mode]` lines, or docker-py's `{host: {bind: container, mode: ro}}`.
        Shape::Binds => match value {
            Yaml::Mapping(pairs) => pairs
                .iter()
                .map(|(host, spec)| {
                    let host = scalar(host)?;
                    match spec {
                        Yaml::Mapping(spec) => {
                            let bind = scalar(field(spec, &["bind"])?)?;
                            let mode = match field(spec, &["mode"]) {
                                Some(mode) => scalar(mode)?,
                                None if field(spec, &["ro"]).and_then(boolean) == Some(true) => "ro".into(),
                                None => "rw".into(),
                            };
                            Some(format!("{host}:{bind}:{mode}"))
                        }
                        other => Some(format!("{host}:{}:rw", scalar(other)?)),
                    }
                })
                .collect::<Option<Vec<_>>>()
                .map(|b| json!(b)),
            other => texts(other)
                .filter(|lines| lines.iter().all(|l| l.contains(':')))
                .map(|b| json!(b)),
        },
        // `{container: alias}`, or a list of `container:alias` / `[container, alias]`.
        Shape::Links => match value {
            Yaml::Mapping(pairs) => pairs
                .iter()
                .map(|(name, alias)| Some(format!("{}:{}", scalar(name)?, scalar(alias)?)))
                .collect::<Option<Vec<_>>>()
                .map(|l| json!(l)),
            Yaml::Sequence(items) => items
                .iter()
                .map(|item| match item {
                    Yaml::Sequence(pair) if pair.len() == 2 => {
                        Some(format!("{}:{}", scalar(&pair[0])?, scalar(&pair[1])?))
                    }
                    other => {
                        let text = scalar(other)?;
                        Some(if text.contains(':') { text } else { format!("{text}:{text}") })
                    }
                })
                .collect::<Option<Vec<_>>>()
                .map(|l| json!(l)),
            _ => None,
        },
        Shape::ExtraHosts => match value {
            Yaml::Mapping(pairs) => pairs
                .iter()
                .map(|(host, ip)| Some(format!("{}:{}", scalar(host)?, scalar(ip)?)))
                .collect::<Option<Vec<_>>>()
                .map(|l| json!(l)),
            other => texts(other).filter(|l| l.iter().all(|h| h.contains(':'))).map(|l| json!(l)),
        },
        Shape::RestartPolicy => match value {
            Yaml::Mapping(pairs) => {
                only(pairs, &[&["Name", "name"], &["MaximumRetryCount", "maximum_retry_count"]], "a restart policy: {Name: always|unless-stopped|on-failure|no, MaximumRetryCount: N}")?;
                let name = field(pairs, &["Name", "name"]).and_then(scalar);
                let count = match field(pairs, &["MaximumRetryCount", "maximum_retry_count"]) {
                    Some(count) => integer(count),
                    None => Some(0),
                };
                restart_policy(name, count)
            }
            other => restart_policy(scalar(other), Some(0)),
        },
        Shape::LogConfig => match value {
            Yaml::Mapping(pairs) => {
                only(pairs, &[&["type", "Type"], &["config", "Config"]], "a log config: {type: json-file, config: {max-size: 10m}}")?;
                let kind = field(pairs, &["type", "Type"]).and_then(scalar);
                let config = match field(pairs, &["config", "Config"]) {
                    Some(config) if !config.is_null() => text_map(config),
                    _ => Some(Map::new()),
                };
                kind.zip(config).map(|(kind, config)| json!({"Type": kind, "Config": config}))
            }
            _ => None,
        },
        Shape::Ulimits => match value {
            Yaml::Sequence(items) => items
                .iter()
                .map(|item| {
                    let Yaml::Mapping(pairs) = item else { return Ok(None) };
                    only(pairs, &[&["name", "Name"], &["soft", "Soft"], &["hard", "Hard"]], "ulimits: a list of {name: nofile, soft: N, hard: N}")?;
                    let name = field(pairs, &["name", "Name"]).and_then(scalar);
                    let soft = field(pairs, &["soft", "Soft"]).map(integer);
                    let hard = field(pairs, &["hard", "Hard"]).map(integer);
                    Ok(match (name, soft, hard) {
                        (Some(name), Some(Some(soft)), hard) => {
                            let hard = match hard { Some(Some(h)) => h, None => soft, Some(None) => return Ok(None) };
                            Some(json!({"Name": name, "Soft": soft, "Hard": hard}))
                        }
                        _ => None,
                    })
                })
                .collect::<Result<Option<Vec<_>>, OptionError>>()?
                .map(|l| json!(l)),
            _ => None,
        },
        // `/dev/x[:/dev/y[:rwm]]` lines, as docker-py reads them.
        Shape::Devices => texts(value).map(|lines| {
            json!(lines
                .iter()
                .map(|line| {
                    let mut parts = line.splitn(3, ':');
                    let host = parts.next().unwrap_or_default();
                    let container = parts.next().unwrap_or(host);
                    let permissions = parts.next().unwrap_or("rwm");
                    json!({"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions})
                })
                .collect::<Vec<_>>())
        }),
        // `{path: options}`, or `path[:options]` lines.
        Shape::Tmpfs => match value {
            Yaml::Mapping(_) => text_map(value).map(Value::Object),
            other => texts(other).map(|lines| {
                Value::Object(
                    lines
                        .into_iter()
                        .map(|l| match l.split_once(':') {
                            Some((path, options)) => (path.to_owned(), json!(options)),
                            None => (l, json!("")),
                        })
                        .collect(),
                )
            }),
        },
        Shape::Healthcheck => match value {
            Yaml::Mapping(pairs) => {
                only(pairs, &[&["test", "Test"], &["interval", "Interval"], &["timeout", "Timeout"], &["retries", "Retries"], &["start_period", "StartPeriod"]], "a healthcheck: {test: [CMD, …], interval: ns, timeout: ns, retries: N, start_period: ns}")?;
                let test = match field(pairs, &["test", "Test"]) {
                    Some(Yaml::String(line)) => Some(json!(["CMD-SHELL", line])),
                    Some(list @ Yaml::Sequence(_)) => texts(list).map(|t| json!(t)),
                    _ => None,
                };
                let mut check = Map::new();
                check.extend(test.map(|t| ("Test".to_owned(), t)));
                let mut ok = check.contains_key("Test");
                for (names, api) in [(["interval", "Interval"], "Interval"), (["timeout", "Timeout"], "Timeout"), (["retries", "Retries"], "Retries"), (["start_period", "StartPeriod"], "StartPeriod")] {
                    if let Some(v) = field(pairs, &names) {
                        match integer(v) {
                            Some(n) => {
                                check.insert(api.to_owned(), json!(n));
                            }
                            None => ok = false,
                        }
                    }
                }
                ok.then_some(Value::Object(check))
            }
            _ => None,
        },
    };
    converted.ok_or_else(|| wrong(expected(shape), value))
}

fn restart_policy(name: Option<String>, count: Option<i64>) -> Option<Value> {
    let name = name?;
    ["always", "unless-stopped", "on-failure", "no", ""]
        .contains(&name.as_str())
        .then_some(())?;
    Some(json!({"Name": name, "MaximumRetryCount": count?}))
}

/// What a shape accepts, in messages.
fn expected(shape: Shape) -> &'static str {
    match shape {
        Shape::Text => "a string",
        Shape::Bool | Shape::Detach => "true or false",
        Shape::Int => "a whole number",
        Shape::Bytes => "a byte size such as 512m or 3g",
        Shape::Texts => "a list of strings",
        Shape::TextMap => "a mapping of names to values",
        Shape::Argv => "a command line or a list of words",
        Shape::Environment => "a mapping of variables to values, or a list of VAR=value",
        Shape::Labels => "a mapping of labels to values, or a list of labels",
        Shape::Ports => "a list of ports such as 80, \"53/udp\" or [53, udp]",
        Shape::PortBindings => "a mapping of container ports to host ports: {80: 8080}, {80: [127.0.0.1, 8080]}, {80: null}",
        Shape::Volumes => "a list of container paths",
        Shape::Binds => "a list of host:container[:ro] or {host: {bind: container, mode: ro}}",
        Shape::Links => "a mapping of container names to aliases, or a list of name:alias",
        Shape::ExtraHosts => "a mapping of host names to addresses, or a list of host:address",
        Shape::RestartPolicy => "a restart policy: {Name: always|unless-stopped|on-failure|no, MaximumRetryCount: N}",
        Shape::LogConfig => "a log config: {type: json-file, config: {max-size: 10m}}",
        Shape::Ulimits => "ulimits: a list of {name: nofile, soft: N, hard: N}",
        Shape::Devices => "a list of /dev/host[:/dev/container[:rwm]]",
        Shape::Tmpfs => "a mapping of paths to mount options, or a list of path[:options]",
        Shape::Healthcheck => "a healthcheck: {test: [CMD, …], interval: ns, timeout: ns, retries: N, start_period: ns}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes(&"3g".into()), Some(3_221_225_472));
        assert_eq!(bytes(&"512m".into()), Some(536_870_912));
        assert_eq!(bytes(&Yaml::from(1024)), Some(1024));
        assert_eq!(bytes(&"lots".into()), None);
    }

    fn yaml(text: &str) -> Yaml {
        serde_yaml::from_str(text).expect("test YAML")
    }

    fn value(block: Block, key: &str, text: &str) -> Value {
        translate(block, key, &yaml(text))
            .unwrap_or_else(|e| panic!("{key}: {text}: {e}"))
            .map(|f| f.value)
            .unwrap_or(Value::Null)
    }

    #[test]
    fn docker_py_shapes_become_engine_fields() {
        use Block::*;
        assert_eq!(
            value(Create, "command", "sh -c 'echo hi'"),
            json!(["sh", "-c", "echo hi"])
        );
        assert_eq!(
            value(Create, "environment", "{A: 1, B: null}"),
            json!(["A=1", "B="])
        );
        assert_eq!(value(Create, "labels", "[a, b]"), json!({"a": "", "b": ""}));
        assert_eq!(
            value(Create, "ports", "[80, 53/udp, [9, sctp]]"),
            json!({"80/tcp": {}, "53/udp": {}, "9/sctp": {}})
        );
        assert_eq!(value(Create, "detach", "true"), Value::Null);
        assert_eq!(value(Create, "tty", "yes"), json!(true));
        assert_eq!(
            value(
                Host,
                "port_bindings",
                "{80: 8080, 443: [127.0.0.1, 8443], 53/udp: null, 22: [[127.0.0.1, 2222], 2223]}"
            ),
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8443"}],
                "53/udp": [{"HostIp": "", "HostPort": ""}],
                "22/tcp": [{"HostIp": "127.0.0.1", "HostPort": "2222"}, {"HostIp": "", "HostPort": "2223"}],
            })
        );
        assert_eq!(
            value(Host, "binds", "{/srv/a: {bind: /a, mode: ro}, /srv/b: /b}"),
            json!(["/srv/a:/a:ro", "/srv/b:/b:rw"])
        );
        assert_eq!(
            value(Host, "links", "{db: database}"),
            json!(["db:database"])
        );
        assert_eq!(
            value(Host, "extra_hosts", "{db: 10.0.0.5}"),
            json!(["db:10.0.0.5"])
        );
        assert_eq!(
            value(Host, "restart_policy", "{Name: always}"),
            json!({"Name": "always", "MaximumRetryCount": 0})
        );
        assert_eq!(
            value(Host, "restart_policy", "on-failure"),
            json!({"Name": "on-failure", "MaximumRetryCount": 0})
        );
        assert_eq!(value(Host, "mem_limit", "3g"), json!(3_221_225_472_i64));
        assert_eq!(
            value(
                Host,
                "log_config",
                "{type: json-file, config: {max-size: 10m}}"
            ),
            json!({"Type": "json-file", "Config": {"max-size": "10m"}})
        );
        assert_eq!(
            value(
                Host,
                "ulimits",
                "[{name: nofile, soft: 1024, hard: 2048}, {name: core, soft: 0}]"
            ),
            json!([{"Name": "nofile", "Soft": 1024, "Hard": 2048}, {"Name": "core", "Soft": 0, "Hard": 0}])
        );
        assert_eq!(
            value(Host, "devices", "[/dev/fuse, /dev/a:/dev/b:r]"),
            json!([
                {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"},
                {"PathOnHost": "/dev/a", "PathInContainer": "/dev/b", "CgroupPermissions": "r"}
            ])
        );
        assert_eq!(
            value(Host, "tmpfs", "[/run:size=1m, /tmp]"),
            json!({"/run": "size=1m", "/tmp": ""})
        );
        assert_eq!(value(Host, "dns", "8.8.8.8"), json!(["8.8.8.8"]));
    }

    #[test]
    fn mistakes_are_named() {
        use Block::*;
        let error = |block, key: &str, text: &str| {
            translate(block, key, &yaml(text))
                .expect_err(key)
                .to_string()
        };
        assert_eq!(
            error(Create, "comand", "x"),
            "unknown create_options key 'comand'; did you mean 'command'?"
        );
        assert_eq!(
            error(Host, "restart_polcy", "x"),
            "unknown host_config key 'restart_polcy'; did you mean 'restart_policy'?"
        );
        assert_eq!(
            error(Create, "restart_policy", "x"),
            "'restart_policy' is not a create_options key: it belongs under host_config"
        );
        assert_eq!(
            error(Host, "environment", "{}"),
            "'environment' is not a host_config key: it belongs under create_options"
        );
        assert_eq!(
            error(Create, "name", "x"),
            "'name' cannot be set here: the map names its containers (map.config.instance)"
        );
        assert_eq!(
            error(Host, "mem_limit", "lots"),
            "expected a byte size such as 512m or 3g, found a string"
        );
        assert_eq!(error(Host, "restart_policy", "{Name: sometimes}"), "expected a restart policy: {Name: always|unless-stopped|on-failure|no, MaximumRetryCount: N}, found a mapping");
        assert_eq!(error(Host, "restart_policy", "{nmae: always}"), "expected a restart policy: {Name: always|unless-stopped|on-failure|no, MaximumRetryCount: N}, found the field 'nmae'");
        assert_eq!(
            error(Create, "command", "\"sh -c 'x\""),
            "expected a command with balanced quotes, found unbalanced quotes"
        );
        assert_eq!(
            error(Create, "tty", "maybe"),
            "expected true or false, found a string"
        );
        assert_eq!(
            error(Host, "ulimits", "{nofile: 1}"),
            "expected ulimits: a list of {name: nofile, soft: N, hard: N}, found a mapping"
        );
        assert_eq!(
            error(Create, "mac_address", "02:42:ac:11:00:02"),
            "'mac_address' cannot be set here: the engine API sets a MAC address per network endpoint, which dfab \
             does not support"
        );
        assert_eq!(belongs_under("environment"), Some(Create));
        assert_eq!(belongs_under("port_bindings"), Some(Host));
        assert_eq!(belongs_under("colour"), None);
    }
}
