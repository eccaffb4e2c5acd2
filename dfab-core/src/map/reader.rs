//! Reads a YAML map document into a `ContainerMap`, normalising every input shape docker-map accepts and
//! recording every problem instead of stopping at the first.

use std::collections::BTreeMap;

use super::container::ContainerConfig;
use super::container_map::ContainerMap;
use super::engine_options::{belongs_under, translate, Block, OptionError};
use super::items::{
    Attach, Bind, Endpoint, ExecCommand, ExecPolicy, HealthCheck, Link, NetworkMode, Options, Port,
    Use, User,
};
use super::network::{NetworkConfig, PREDEFINED_NETWORKS};
use super::node::{Node, NodeKind, Position};
use super::problems::{suggestion, unknown_key, Problems};
use super::text::Text;
use super::volume::{HostPath, VolumeConfig};

/// Keys of the map document itself; every other top-level key is a container configuration.
pub(super) const MAP_KEYS: [&str; 13] = [
    "name",
    "repository",
    "default_tag",
    "host_root",
    "default_domain",
    "set_hostname",
    "use_attached_parent_name",
    "clients",
    "groups",
    "containers",
    "volumes",
    "host",
    "networks",
];

/// Keys of a container configuration.
pub(super) const CONTAINER_KEYS: [&str; 26] = [
    "abstract",
    "extends",
    "image",
    "instances",
    "clients",
    "shares",
    "binds",
    "attaches",
    "uses",
    "links",
    "exposes",
    "user",
    "permissions",
    "stop_timeout",
    "stop_signal",
    "start_delay",
    "network_mode",
    "networks",
    "exec_commands",
    "healthcheck",
    "persistent",
    "create_options",
    "host_config",
    // Keys of older docker-map versions, accepted with a warning.
    "start_options",
    "host_config_options",
    "restart_policy",
];

/// Keys older docker-map versions used, and what replaced them.
const LEGACY_KEYS: [(&str, &str); 3] = [
    ("start_options", "host_config"),
    ("host_config_options", "host_config"),
    ("restart_policy", "host_config: {restart_policy: …}"),
];

const VOLUME_KEYS: [&str; 6] = [
    "default_path",
    "driver",
    "driver_options",
    "create_options",
    "user",
    "permissions",
];

const NETWORK_KEYS: [&str; 4] = ["driver", "driver_options", "internal", "create_options"];

/// Reads values, recording problems with their key paths.
pub(crate) struct Reader<'p> {
    pub(crate) problems: &'p mut Problems,
}

/// `parent.child` or `parent[index]` key paths.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl Reader<'_> {
    fn expected(&mut self, node: &Node, path: &str, what: &str) {
        self.problems.error(
            node.at,
            path,
            format!("expected {what}, found {}", node.describe()),
        );
    }

    /// A scalar as text; tagged lazy values stay deferred.
    pub(crate) fn text(&mut self, node: &Node, path: &str) -> Option<Text> {
        match (&node.kind, node.tag.as_deref()) {
            (NodeKind::Scalar { text, .. }, Some("env_lazy")) => Some(Text::EnvLazy {
                key: text.clone(),
                at: node.at,
            }),
            (NodeKind::Scalar { text, .. }, Some("path_lazy")) => {
                Some(Text::PathLazy(text.clone()))
            }
            (NodeKind::Scalar { text, .. }, _) => Some(Text::Plain(text.clone())),
            (NodeKind::Null, _) => None,
            _ => {
                self.expected(node, path, "a string");
                None
            }
        }
    }

    /// A scalar as a plain string (names, modes); lazy values are not allowed here.
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match self.text(node, path)? {
            Text::Plain(text) => Some(text),
            _ => {
                self.problems
                    .error(node.at, path, "a deferred (lazy) value cannot be used here");
                None
            }
        }
    }

    fn bool(&mut self, node: &Node) -> bool {
        node.truthy()
    }

    fn number(&mut self, node: &Node, path: &str) -> Option<u64> {
        match node.text().and_then(|t| t.parse().ok()) {
            Some(n) => Some(n),
            None if node.is_null() => None,
            None => {
                self.expected(node, path, "a whole number");
                None
            }
        }
    }

    /// docker-map's list coercion: null → [], a list → each, a single string → [it].
    pub(crate) fn list<T>(
        &mut self,
        node: &Node,
        path: &str,
        mut item: impl FnMut(&mut Self, &Node, &str) -> Option<T>,
    ) -> Vec<T> {
        match &node.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, n)| item(self, n, &index(path, i)))
                .collect(),
            NodeKind::Scalar { .. } => item(self, node, path).into_iter().collect(),
            NodeKind::Map(_) => {
                self.expected(node, path, "a string or a list");
                Vec::new()
            }
        }
    }

    fn strings(&mut self, node: &Node, path: &str) -> Vec<String> {
        self.list(node, path, |r, n, p| r.string(n, p))
    }

    fn texts(&mut self, node: &Node, path: &str) -> Vec<Text> {
        self.list(node, path, |r, n, p| r.text(n, p))
    }

    /// Tuple-list keys: null → [], a string → one item, a mapping → each pair as a 2-element item, a list → each.
    fn entries<T>(
        &mut self,
        node: &Node,
        path: &str,
        mut item: impl FnMut(&mut Self, Vec<&Node>, &Node, &str) -> Option<T>,
    ) -> Vec<T> {
        match &node.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Scalar { .. } => {
                if node.as_int().is_some() && node.tag.is_none() {
                    self.expected(node, path, "a string or a list (write [8080] or \"8080\")");
                    return Vec::new();
                }
                item(self, vec![node], node, path).into_iter().collect()
            }
            NodeKind::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| {
                    let p = join(path, k.text().unwrap_or("?"));
                    item(self, vec![k, v], k, &p)
                })
                .collect(),
            NodeKind::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let p = index(path, i);
                    let parts = match &n.kind {
                        NodeKind::Seq(parts) => parts.iter().collect(),
                        NodeKind::Map(pairs) if pairs.len() == 1 => {
                            vec![&pairs[0].0, &pairs[0].1]
                        }
                        _ => vec![n],
                    };
                    item(self, parts, n, &p)
                })
                .collect(),
        }
    }

    /// A mapping item (`{name: a, readonly: true}`) as a field lookup, when the element is a keyword form.
    fn keyword<'n>(parts: &[&'n Node], element: &'n Node) -> Option<&'n [(Node, Node)]> {
        match (&element.kind, parts.len()) {
            (NodeKind::Map(pairs), _) if pairs.len() > 1 => Some(pairs),
            (NodeKind::Map(pairs), 2) if pairs.len() == 1 && parts.len() == 2 => {
                // `{name: a}` and `{container: c}` are keyword forms too.
                let key = pairs[0].0.text().unwrap_or_default();
                ["name", "container", "network", "exposed_port", "cmd"]
                    .contains(&key)
                    .then_some(pairs.as_slice())
            }
            _ => None,
        }
    }

    fn field<'n>(pairs: &'n [(Node, Node)], key: &str) -> Option<&'n Node> {
        pairs
            .iter()
            .find(|(k, _)| k.text() == Some(key))
            .map(|(_, v)| v)
    }

    /// Read-only indicator: truthy and not the string `rw`.
    fn readonly(node: &Node) -> bool {
        node.truthy() && node.text() != Some("rw")
    }

    /// Whether a second tuple element is a read-only flag (a boolean or `ro`/`rw`) rather than a path.
    fn is_flag(node: &Node) -> bool {
        node.as_bool().is_some() || matches!(node.text(), Some("ro" | "rw"))
    }

    fn bind(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Bind> {
        if let Some(pairs) = Self::keyword(&parts, element) {
            let readonly = Self::field(pairs, "readonly").is_some_and(Self::readonly);
            return match (Self::field(pairs, "path"), Self::field(pairs, "name")) {
                (Some(p), _) => Some(Bind::Host {
                    path: self.text(p, path)?,
                    host_path: self.text(Self::field(pairs, "host_path")?, path)?,
                    readonly,
                    at: element.at,
                }),
                (None, Some(name)) => Some(Bind::Shared {
                    alias: self.string(name, path)?,
                    readonly,
                    at: element.at,
                }),
                (None, None) => {
                    self.problems
                        .error(element.at, path, "a bind mapping needs 'name' or 'path'");
                    None
                }
            };
        }
        let parts = unpack_nested(parts);
        match parts.as_slice() {
            [alias] => Some(Bind::Shared {
                alias: self.string(alias, path)?,
                readonly: false,
                at: element.at,
            }),
            [alias, flag] if Self::is_flag(flag) || flag.is_null() => Some(Bind::Shared {
                alias: self.string(alias, path)?,
                readonly: Self::readonly(flag),
                at: element.at,
            }),
            [cpath, hpath] => Some(Bind::Host {
                path: self.text(cpath, path)?,
                host_path: self.text(hpath, path)?,
                readonly: false,
                at: element.at,
            }),
            [cpath, hpath, flag] => Some(Bind::Host {
                path: self.text(cpath, path)?,
                host_path: self.text(hpath, path)?,
                readonly: Self::readonly(flag),
                at: element.at,
            }),
            _ => {
                self.problems.error(
                    element.at,
                    path,
                    "expected alias, [alias, ro], [path, host_path] or [path, host_path, ro]",
                );
                None
            }
        }
    }

    fn attach(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Attach> {
        if let Some(pairs) = Self::keyword(&parts, element) {
            let alias = self.string(Self::field(pairs, "name")?, path)?;
            let at_path = match Self::field(pairs, "path") {
                Some(p) => self.text(p, path),
                None => None,
            };
            return Some(Attach {
                alias,
                path: at_path,
                at: element.at,
            });
        }
        match parts.as_slice() {
            [alias] => Some(Attach {
                alias: self.string(alias, path)?,
                path: None,
                at: element.at,
            }),
            [alias, p] => Some(Attach {
                alias: self.string(alias, path)?,
                path: self.text(p, path),
                at: element.at,
            }),
            _ => {
                self.problems
                    .error(element.at, path, "expected alias or [alias, path]");
                None
            }
        }
    }

    fn uses(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Use> {
        if let Some(pairs) = Self::keyword(&parts, element) {
            let name = self.string(Self::field(pairs, "name")?, path)?;
            let used_path = match Self::field(pairs, "path") {
                Some(p) => self.text(p, path),
                None => None,
            };
            return Some(Use {
                name,
                path: used_path,
                readonly: Self::field(pairs, "readonly").is_some_and(Self::readonly),
                at: element.at,
            });
        }
        let parts = unpack_nested(parts);
        let (name, used_path, readonly) = match parts.as_slice() {
            [name] => (self.string(name, path)?, None, false),
            [name, flag] if Self::is_flag(flag) || flag.is_null() => {
                (self.string(name, path)?, None, Self::readonly(flag))
            }
            [name, p] => (self.string(name, path)?, self.text(p, path), false),
            [name, p, flag] => (
                self.string(name, path)?,
                self.text(p, path),
                Self::readonly(flag),
            ),
            _ => {
                self.problems.error(
                    element.at,
                    path,
                    "expected name, [name, ro], [name, path] or [name, path, ro]",
                );
                return None;
            }
        };
        Some(Use {
            name,
            path: used_path,
            readonly,
            at: element.at,
        })
    }

    fn link(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Link> {
        if let Some(pairs) = Self::keyword(&parts, element) {
            let container = self.string(Self::field(pairs, "container")?, path)?;
            let alias = match Self::field(pairs, "alias") {
                Some(a) => self.string(a, path),
                None => None,
            };
            return Some(Link {
                container,
                alias,
                at: element.at,
            });
        }
        match parts.as_slice() {
            [container] => Some(Link {
                container: self.string(container, path)?,
                alias: None,
                at: element.at,
            }),
            [container, alias] => Some(Link {
                container: self.string(container, path)?,
                alias: self.string(alias, path),
                at: element.at,
            }),
            _ => {
                self.problems
                    .error(element.at, path, "expected container or [container, alias]");
                None
            }
        }
    }

    fn port_text(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Scalar { text, .. } => Some(text.clone()),
            NodeKind::Null => None,
            _ => {
                self.expected(node, path, "a port");
                None
            }
        }
    }

    fn port(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Port> {
        if let Some(pairs) = Self::keyword(&parts, element) {
            return Some(Port {
                exposed: self.port_text(Self::field(pairs, "exposed_port")?, path)?,
                host_port: Self::field(pairs, "host_port").and_then(|n| self.port_text(n, path)),
                interface: Self::field(pairs, "interface").and_then(|n| self.string(n, path)),
                ipv6: Self::field(pairs, "ipv6").is_some_and(Node::truthy),
            });
        }
        let exposed = self.port_text(parts.first()?, path)?;
        let mut port = Port {
            exposed,
            host_port: None,
            interface: None,
            ipv6: false,
        };
        let rest: Vec<&Node> = match parts.get(1).map(|n| &n.kind) {
            Some(NodeKind::Seq(inner)) => inner.iter().collect(),
            Some(NodeKind::Map(pairs)) => {
                port.host_port =
                    Self::field(pairs, "host_port").and_then(|n| self.port_text(n, path));
                port.interface = Self::field(pairs, "interface").and_then(|n| self.string(n, path));
                port.ipv6 = Self::field(pairs, "ipv6").is_some_and(Node::truthy);
                return Some(port);
            }
            _ => parts[1..].to_vec(),
        };
        if rest.len() > 3 {
            self.problems.error(
                element.at,
                path,
                "expected [port, host_port, interface, ipv6] at most",
            );
            return None;
        }
        port.host_port = rest.first().and_then(|n| self.port_text(n, path));
        port.interface = rest.get(1).and_then(|n| self.string(n, path));
        port.ipv6 = rest.get(2).is_some_and(|n| n.truthy());
        Some(port)
    }

    fn endpoint(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<Endpoint> {
        let mut endpoint = Endpoint {
            network: self.string(parts.first()?, path)?,
            aliases: Vec::new(),
            links: Vec::new(),
            ipv4_address: None,
            ipv6_address: None,
            link_local_ips: Vec::new(),
            at: element.at,
        };
        let Some(rest) = parts.get(1) else {
            return Some(endpoint);
        };
        match &rest.kind {
            NodeKind::Null => {}
            NodeKind::Scalar { text, .. } if text.is_empty() => {}
            NodeKind::Scalar { .. } => endpoint.aliases = self.texts(rest, path),
            NodeKind::Map(pairs) => {
                for (k, v) in pairs {
                    let key = k.text().unwrap_or_default();
                    let p = join(path, key);
                    match key {
                        "aliases" => endpoint.aliases = self.texts(v, &p),
                        "links" => {
                            endpoint.links =
                                self.entries(v, &p, |r, parts, e, p| r.link(parts, e, p))
                        }
                        "ipv4_address" => endpoint.ipv4_address = self.text(v, &p),
                        "ipv6_address" => endpoint.ipv6_address = self.text(v, &p),
                        "link_local_ips" => endpoint.link_local_ips = self.texts(v, &p),
                        other => self.problems.error(
                            k.at,
                            &p,
                            unknown_key(
                                other,
                                &[
                                    "aliases",
                                    "links",
                                    "ipv4_address",
                                    "ipv6_address",
                                    "link_local_ips",
                                ],
                                "network endpoint",
                            ),
                        ),
                    }
                }
            }
            NodeKind::Seq(items) => {
                let fields: Vec<&Node> = items.iter().collect();
                if let Some(n) = fields.first() {
                    endpoint.aliases = self.texts(n, path);
                }
                if let Some(n) = fields.get(1) {
                    endpoint.links = self.entries(n, path, |r, parts, e, p| r.link(parts, e, p));
                }
                endpoint.ipv4_address = fields.get(2).and_then(|n| self.text(n, path));
                endpoint.ipv6_address = fields.get(3).and_then(|n| self.text(n, path));
                if let Some(n) = fields.get(4) {
                    endpoint.link_local_ips = self.texts(n, path);
                }
            }
        }
        Some(endpoint)
    }

    fn exec(&mut self, parts: Vec<&Node>, element: &Node, path: &str) -> Option<ExecCommand> {
        let (command, user, policy) = if let Some(pairs) = Self::keyword(&parts, element) {
            (
                Self::field(pairs, "cmd")?,
                Self::field(pairs, "user"),
                Self::field(pairs, "policy"),
            )
        } else {
            (
                *parts.first()?,
                parts.get(1).copied(),
                parts.get(2).copied(),
            )
        };
        let user = user.and_then(|u| self.text(u, path));
        let policy = match policy.and_then(Node::text) {
            None | Some("restart") => ExecPolicy::Restart,
            Some("initial") => ExecPolicy::Initial,
            Some(other) => {
                self.problems.error(
                    element.at,
                    path,
                    format!("exec policy '{other}' is not one of: restart, initial"),
                );
                return None;
            }
        };
        match &command.kind {
            NodeKind::Seq(argv) => Some(ExecCommand::Argv {
                argv: argv.iter().filter_map(|a| self.string(a, path)).collect(),
                user,
                policy,
            }),
            _ => Some(ExecCommand::Shell {
                command: self.text(command, path)?,
                user,
                policy,
            }),
        }
    }

    fn duration(&mut self, node: &Node, path: &str) -> Option<u64> {
        let text = node.text()?.replace(' ', "");
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let factor = match unit {
            "" | "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            _ => 0,
        };
        match digits.parse::<u64>() {
            Ok(n) if factor > 0 => Some(n * factor),
            _ => {
                self.expected(node, path, "a duration such as 30s, 500ms or 1m");
                None
            }
        }
    }

    fn healthcheck(&mut self, node: &Node, path: &str) -> Option<HealthCheck> {
        let mut check = HealthCheck {
            test: Vec::new(),
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
        };
        let fields: Vec<(String, &Node)> = match &node.kind {
            NodeKind::Scalar { .. } => vec![("test".into(), node)],
            NodeKind::Seq(items) => ["test", "interval", "timeout", "retries", "start_period"]
                .iter()
                .zip(items)
                .map(|(k, v)| ((*k).to_owned(), v))
                .collect(),
            NodeKind::Map(pairs) => pairs
                .iter()
                .map(|(k, v)| (k.text().unwrap_or_default().to_owned(), v))
                .collect(),
            NodeKind::Null => {
                // docker-map raised on null although its documentation calls it "disable": disable it.
                return Some(HealthCheck {
                    test: vec!["NONE".into()],
                    ..check
                });
            }
        };
        for (key, value) in fields {
            let p = join(path, &key);
            match key.as_str() {
                "test" => {
                    check.test = match &value.kind {
                        NodeKind::Seq(argv) => {
                            let argv: Vec<String> =
                                argv.iter().filter_map(|a| self.string(a, &p)).collect();
                            match argv.first().map(String::as_str) {
                                Some("NONE" | "CMD" | "CMD-SHELL") | None => argv,
                                Some(_) => std::iter::once("CMD".to_owned()).chain(argv).collect(),
                            }
                        }
                        _ => match self.string(value, &p).as_deref() {
                            None | Some("") | Some("NONE") => vec!["NONE".into()],
                            Some(line) => vec!["CMD-SHELL".into(), line.to_owned()],
                        },
                    }
                }
                "interval" => check.interval = self.duration(value, &p),
                "timeout" => check.timeout = self.duration(value, &p),
                "start_period" => check.start_period = self.duration(value, &p),
                "retries" => check.retries = self.number(value, &p),
                other => self.problems.error(
                    value.at,
                    &p,
                    unknown_key(
                        other,
                        &["test", "interval", "timeout", "retries", "start_period"],
                        "healthcheck",
                    ),
                ),
            }
        }
        Some(check)
    }

    fn network_mode(&mut self, node: &Node, path: &str) -> Option<NetworkMode> {
        if let NodeKind::Seq(items) = &node.kind {
            return match items.as_slice() {
                [config, instance] => Some(NetworkMode::Config {
                    config: self.string(config, path)?,
                    instance: self.string(instance, path),
                    at: node.at,
                }),
                _ => {
                    self.expected(node, path, "[config, instance]");
                    None
                }
            };
        }
        if !node.truthy() {
            return Some(NetworkMode::Named("none".into()));
        }
        let text = self.string(node, path)?;
        Some(match text.as_str() {
            "disabled" => NetworkMode::Named("none".into()),
            "bridge" | "host" | "none" => NetworkMode::Named(text),
            _ if text.starts_with("container:") => NetworkMode::External(text),
            _ if text.starts_with('/') => {
                NetworkMode::External(format!("container:{}", &text[1..]))
            }
            _ => {
                let (config, instance) = match text.split_once('.') {
                    Some((c, i)) => (c.to_owned(), Some(i.to_owned())),
                    None => (text, None),
                };
                NetworkMode::Config {
                    config,
                    instance,
                    at: node.at,
                }
            }
        })
    }

    pub(crate) fn user(&mut self, node: &Node, path: &str) -> Option<User> {
        match &node.kind {
            // docker-map crashed on a YAML list; `[user, group]` is what the tuple form means.
            NodeKind::Seq(items) => match items.as_slice() {
                [user, group] => Some(User {
                    user: self.text(user, path)?,
                    group: self.text(group, path),
                }),
                [user] => Some(User {
                    user: self.text(user, path)?,
                    group: None,
                }),
                _ => {
                    self.expected(node, path, "user, user:group or [user, group]");
                    None
                }
            },
            _ => match self.text(node, path)? {
                Text::Plain(text) => match text.split_once(':') {
                    Some((u, g)) => Some(User {
                        user: Text::plain(u),
                        group: Some(Text::plain(g)),
                    }),
                    None => Some(User {
                        user: Text::plain(text),
                        group: None,
                    }),
                },
                lazy => Some(User {
                    user: lazy,
                    group: None,
                }),
            },
        }
    }

    /// A mapping of extra API arguments, kept as YAML values.
    pub(crate) fn options(&mut self, node: &Node, path: &str) -> Options {
        match &node.kind {
            NodeKind::Null => Options::new(),
            NodeKind::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| Some((self.string(k, path)?, to_value(v))))
                .collect(),
            _ => {
                self.expected(node, path, "a mapping");
                Options::new()
            }
        }
    }

    /// A `create_options` or `host_config` block, each option checked against docker-py's keywords and its value
    /// against the engine field it becomes, so that a map that loads is one the engine's requests can carry.
    fn engine_options(&mut self, node: &Node, path: &str, block: Block) -> Options {
        let NodeKind::Map(pairs) = &node.kind else {
            return self.options(node, path);
        };
        let mut options = Options::new();
        for (k, v) in pairs {
            let Some(key) = self.string(k, path) else {
                continue;
            };
            let value = to_value(v);
            match translate(block, &key, &value) {
                Ok(_) => {
                    options.insert(key, value);
                }
                Err(error @ OptionError::Value { .. }) => {
                    self.problems
                        .error(v.at, &join(path, &key), error.to_string())
                }
                Err(error) => self
                    .problems
                    .error(k.at, &join(path, &key), error.to_string()),
            }
        }
        options
    }

    fn text_map(&mut self, node: &Node, path: &str) -> BTreeMap<String, Text> {
        match &node.kind {
            NodeKind::Null => BTreeMap::new(),
            NodeKind::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| {
                    let key = self.string(k, path)?;
                    let value = self.text(v, &join(path, &key))?;
                    Some((key, value))
                })
                .collect(),
            _ => {
                self.expected(node, path, "a mapping");
                BTreeMap::new()
            }
        }
    }

    /// Reads one body of a container configuration on top of `config` (later bodies replace key by key).
    pub(crate) fn container(&mut self, body: &Node, path: &str, config: &mut ContainerConfig) {
        let pairs = match &body.kind {
            NodeKind::Null => return,
            NodeKind::Map(pairs) => pairs,
            _ => {
                self.expected(body, path, "a mapping (a container configuration)");
                return;
            }
        };
        for (k, v) in pairs {
            let Some(key) = self.string(k, path) else {
                continue;
            };
            let p = join(path, &key);
            if let Some((_, current)) = LEGACY_KEYS.iter().find(|(old, _)| *old == key) {
                self.problems.warn(
                    k.at,
                    &p,
                    format!("'{key}' is a key of older docker-map versions; use '{current}'"),
                );
            }
            match key.as_str() {
                "abstract" => config.abstract_ = self.bool(v),
                "extends" => {
                    config.extends = self.list(v, &p, |r, n, p| Some((r.string(n, p)?, n.at)))
                }
                "image" => config.image = self.text(v, &p),
                "instances" => config.instances = self.strings(v, &p),
                "clients" => config.clients = self.strings(v, &p),
                "shares" => config.shares = self.texts(v, &p),
                "binds" => config.binds = self.entries(v, &p, |r, parts, e, p| r.bind(parts, e, p)),
                "attaches" => {
                    config.attaches = self.entries(v, &p, |r, parts, e, p| r.attach(parts, e, p))
                }
                "uses" => config.uses = self.entries(v, &p, |r, parts, e, p| r.uses(parts, e, p)),
                "links" => config.links = self.entries(v, &p, |r, parts, e, p| r.link(parts, e, p)),
                "exposes" => {
                    config.exposes = self.entries(v, &p, |r, parts, e, p| r.port(parts, e, p))
                }
                "user" => config.user = self.user(v, &p),
                "permissions" => config.permissions = self.string(v, &p),
                "stop_timeout" => config.stop_timeout = self.number(v, &p),
                "stop_signal" => config.stop_signal = self.string(v, &p),
                "start_delay" => {
                    config.start_delay = match v.text().map(str::parse::<f64>) {
                        Some(Ok(seconds)) => Some(seconds),
                        _ if v.is_null() => None,
                        _ => {
                            self.expected(v, &p, "a number of seconds");
                            None
                        }
                    }
                }
                "network_mode" => config.network_mode = self.network_mode(v, &p),
                "networks" => {
                    config.networks =
                        Some(self.entries(v, &p, |r, parts, e, p| r.endpoint(parts, e, p)))
                }
                "exec_commands" => {
                    config.exec_commands = self.entries(v, &p, |r, parts, e, p| r.exec(parts, e, p))
                }
                "healthcheck" => config.healthcheck = self.healthcheck(v, &p),
                "persistent" => config.persistent = Some(self.bool(v)),
                "create_options" => {
                    config.create_options = self.engine_options(v, &p, Block::Create)
                }
                // docker-map 1.1.1 merges the older start options into the host config.
                "host_config" | "start_options" | "host_config_options" => {
                    let options = self.engine_options(v, &p, Block::Host);
                    config.host_config.extend(options);
                }
                "restart_policy" => {
                    let value = to_value(v);
                    match translate(Block::Host, "restart_policy", &value) {
                        Ok(_) => {
                            config.host_config.insert("restart_policy".into(), value);
                        }
                        Err(e) => self.problems.error(v.at, &p, e.to_string()),
                    }
                }
                other => {
                    let message = match belongs_under(other) {
                        Some(block) => format!(
                            "unknown container key '{other}': it belongs under {}",
                            block.key()
                        ),
                        None => unknown_key(other, &CONTAINER_KEYS[..23], "container"),
                    };
                    self.problems.error(k.at, &p, message)
                }
            }
        }
    }

    fn volume(&mut self, node: &Node, path: &str) -> VolumeConfig {
        let mut volume = VolumeConfig {
            driver: "local".into(),
            ..VolumeConfig::default()
        };
        let NodeKind::Map(pairs) = &node.kind else {
            volume.default_path = self.text(node, path);
            return volume;
        };
        for (k, v) in pairs {
            let key = k.text().unwrap_or_default();
            let p = join(path, key);
            match key {
                "default_path" => volume.default_path = self.text(v, &p),
                "driver" => volume.driver = self.string(v, &p).unwrap_or_else(|| "local".into()),
                "driver_options" => volume.driver_options = self.text_map(v, &p),
                "create_options" => volume.create_options = self.options(v, &p),
                "user" => volume.user = self.user(v, &p),
                "permissions" => volume.permissions = self.string(v, &p),
                other => self
                    .problems
                    .error(k.at, &p, unknown_key(other, &VOLUME_KEYS, "volume")),
            }
        }
        volume
    }

    fn network(&mut self, node: &Node, path: &str) -> NetworkConfig {
        let mut network = NetworkConfig::default();
        let pairs = match &node.kind {
            NodeKind::Null => return network,
            NodeKind::Map(pairs) => pairs,
            _ => {
                self.expected(node, path, "a mapping or null");
                return network;
            }
        };
        for (k, v) in pairs {
            let key = k.text().unwrap_or_default();
            let p = join(path, key);
            match key {
                "driver" => network.driver = self.string(v, &p).unwrap_or_else(|| "bridge".into()),
                "driver_options" => network.driver_options = self.text_map(v, &p),
                "internal" => network.internal = v.truthy(),
                "create_options" => network.create_options = self.options(v, &p),
                other => {
                    self.problems
                        .error(k.at, &p, unknown_key(other, &NETWORK_KEYS, "network"))
                }
            }
        }
        network
    }

    fn host_path(&mut self, node: &Node, path: &str) -> Option<HostPath> {
        match &node.kind {
            NodeKind::Map(_) => Some(HostPath::PerInstance(self.text_map(node, path))),
            _ => self.text(node, path).map(HostPath::Single),
        }
    }

    fn mapping<'n>(&mut self, node: &'n Node, path: &str) -> &'n [(Node, Node)] {
        match &node.kind {
            NodeKind::Map(pairs) => pairs,
            NodeKind::Null => &[],
            _ => {
                self.expected(node, path, "a mapping");
                &[]
            }
        }
    }

    /// Reads a whole map document.
    /// The name is `name` when given and not empty, else the document's `name` key, else `fallback` (a file's
    /// base name).
    pub(crate) fn map(
        &mut self,
        root: &Node,
        name: Option<&str>,
        fallback: Option<&str>,
        source: &str,
    ) -> ContainerMap {
        let mut map = ContainerMap {
            source: source.to_owned(),
            ..ContainerMap::default()
        };
        let pairs = self.mapping(root, "");
        check_duplicate_keys(self.problems, root, "");
        let mut bodies = Bodies::default();
        let mut root_name = None;
        for (k, v) in pairs {
            let Some(key) = self.string(k, "") else {
                continue;
            };
            match key.as_str() {
                "name" => root_name = self.string(v, &key),
                "repository" => map.repository = self.text(v, &key),
                "default_tag" => map.default_tag = self.text(v, &key),
                "host_root" => map.host_root = self.text(v, &key),
                "default_domain" => map.default_domain = self.text(v, &key),
                "set_hostname" => map.set_hostname = Some(v.truthy()),
                "use_attached_parent_name" => map.use_attached_parent_name = v.truthy(),
                "clients" => {
                    map.clients = self.strings(v, &key);
                    map.clients_at = v.at;
                }
                "groups" => {
                    for (g, members) in self.mapping(v, &key) {
                        let Some(group) = self.string(g, &key) else {
                            continue;
                        };
                        let p = join(&key, &group);
                        // A single string is one member (docker-map iterated it per character).
                        let list = self.list(members, &p, |r, n, p| Some((r.string(n, p)?, n.at)));
                        map.groups.insert(group, list);
                    }
                }
                "volumes" => {
                    for (a, body) in self.mapping(v, &key) {
                        let Some(alias) = self.string(a, &key) else {
                            continue;
                        };
                        let volume = self.volume(body, &join(&key, &alias));
                        map.volumes.insert(alias, volume);
                    }
                }
                "host" => {
                    for (a, body) in self.mapping(v, &key) {
                        let Some(alias) = self.string(a, &key) else {
                            continue;
                        };
                        if alias == "root" {
                            map.host_root = self.text(body, "host.root");
                        } else if let Some(host) = self.host_path(body, &join(&key, &alias)) {
                            map.host.insert(alias, host);
                        }
                    }
                }
                "networks" => {
                    for (n, body) in self.mapping(v, &key) {
                        let Some(network) = self.string(n, &key) else {
                            continue;
                        };
                        let p = join(&key, &network);
                        if PREDEFINED_NETWORKS.contains(&network.as_str()) {
                            self.problems.error(
                                n.at,
                                &p,
                                format!(
                                    "'{network}' is predefined by Docker and cannot be configured"
                                ),
                            );
                        }
                        let config = self.network(body, &p);
                        map.networks.insert(network, config);
                    }
                }
                "containers" => {
                    check_duplicate_keys(self.problems, v, "containers");
                    for (c, body) in self.mapping(v, &key) {
                        if let Some(container) = self.string(c, &key) {
                            bodies.add(container, c.at, body);
                        }
                    }
                }
                _ => {
                    if !matches!(v.kind, NodeKind::Map(_) | NodeKind::Null) {
                        // docker-map crashed on these (bug 2, docs/docker-map-semantics.md#bugs-dfab-does-not-repeat):
                        // most are misspelt map keys.
                        let message = match suggestion(&key, &MAP_KEYS) {
                            Some(close) => format!(
                                "unknown map key '{key}'; did you mean '{close}'? (a container configuration would need a mapping)"
                            ),
                            None => format!(
                                "'{key}' is not a map key, and a container configuration needs a mapping, not {}",
                                v.describe()
                            ),
                        };
                        self.problems.error(k.at, &key, message);
                    } else {
                        bodies.add(key, k.at, v);
                    }
                }
            }
        }
        map.name = match name.filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => match root_name.or_else(|| fallback.map(str::to_owned)) {
                Some(name) => name,
                None => {
                    self.problems.error(
                        Position { line: 1, col: 1 },
                        "",
                        "the map has no name: give one when loading it, or a top-level 'name' key",
                    );
                    String::new()
                }
            },
        };
        for (name, at, list) in bodies.list {
            let mut config = ContainerConfig {
                at,
                ..ContainerConfig::default()
            };
            for body in list {
                check_duplicate_keys(self.problems, body, &name);
                self.container(body, &name, &mut config);
            }
            map.containers.push((name, config));
        }
        map
    }
}

/// The bodies of each container configuration, in order of first appearance.
#[derive(Default)]
struct Bodies<'n> {
    list: Vec<(String, Position, Vec<&'n Node>)>,
    index: std::collections::HashMap<String, usize>,
}

impl<'n> Bodies<'n> {
    /// Adds one body; repeated names collect several bodies, applied in order.
    fn add(&mut self, name: String, at: Position, body: &'n Node) {
        match self.index.get(&name) {
            Some(&i) => self.list[i].2.push(body),
            None => {
                self.index.insert(name.clone(), self.list.len());
                self.list.push((name, at, vec![body]));
            }
        }
    }
}

/// `[x, [y]]` and `[x, [y, flag]]` read as `[x, y]` and `[x, y, flag]`.
fn unpack_nested(parts: Vec<&Node>) -> Vec<&Node> {
    match parts.as_slice() {
        [first, second] => match &second.kind {
            NodeKind::Seq(inner) => std::iter::once(*first).chain(inner.iter()).collect(),
            _ => parts,
        },
        _ => parts,
    }
}

/// Reports keys that appear twice in one mapping (YAML forbids it; docker-map kept the last silently).
fn check_duplicate_keys(problems: &mut Problems, node: &Node, path: &str) {
    let Some(pairs) = node.entries() else { return };
    let mut seen: BTreeMap<&str, Position> = BTreeMap::new();
    for (k, _) in pairs {
        let Some(key) = k.text() else { continue };
        if let Some(first) = seen.insert(key, k.at) {
            problems.error(
                k.at,
                &join(path, key),
                format!("duplicate key '{key}' (first at {first})"),
            );
        }
    }
}

/// A node as a YAML value for API options: plain scalars typed, quoted ones strings.
pub(crate) fn to_value(node: &Node) -> serde_yaml::Value {
    match &node.kind {
        NodeKind::Null => serde_yaml::Value::Null,
        NodeKind::Scalar { text, quoted: true } => serde_yaml::Value::String(text.clone()),
        NodeKind::Scalar {
            text,
            quoted: false,
        } => serde_yaml::from_str(text).unwrap_or_else(|_| serde_yaml::Value::String(text.clone())),
        NodeKind::Seq(items) => serde_yaml::Value::Sequence(items.iter().map(to_value).collect()),
        NodeKind::Map(pairs) => serde_yaml::Value::Mapping(
            pairs
                .iter()
                .map(|(k, v)| (to_value(k), to_value(v)))
                .collect(),
        ),
    }
}
