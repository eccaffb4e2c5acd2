//! The dependency graph of a map: what each container needs before it starts, and who needs it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::container_map::ContainerMap;
use super::items::NetworkMode;
use super::naming::config_image;
use super::network::PREDEFINED_NETWORKS;
use crate::env::Env;

/// Something an action works on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// A container: a config and one of its instances.
    Container {
        /// The config.
        config: String,
        /// The instance, if the config has instances.
        instance: Option<String>,
    },
    /// A volume attached by a config.
    Volume {
        /// The attaching config.
        config: String,
        /// The volume alias.
        alias: String,
    },
    /// A user-defined network.
    Network(String),
    /// An image, by full name.
    Image(String),
}

impl Item {
    fn container(config: &str, instance: Option<&str>) -> Item {
        Item::Container {
            config: config.to_owned(),
            instance: instance.map(str::to_owned),
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Container {
                config,
                instance: Some(instance),
            } => write!(f, "{config}.{instance}"),
            Item::Container { config, .. } => f.write_str(config),
            Item::Volume { config, alias } => write!(f, "volume {alias} of {config}"),
            Item::Network(name) => write!(f, "network {name}"),
            Item::Image(name) => write!(f, "image {name}"),
        }
    }
}

/// A dependency cycle, as the list of containers around it (the first repeated at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<Item>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(Item::to_string).collect();
        write!(f, "circular dependency: {}", names.join(" -> "))
    }
}

/// The direct dependencies of every container of a map, and the orders derived from them.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    direct: BTreeMap<Item, Vec<Item>>,
    /// Containers in document order (configs, then instances), which makes every order stable.
    containers: Vec<Item>,
}

impl Graph {
    /// Builds the graph of `map`'s concrete (non-abstract) containers; lazy image names resolve with `env`.
    pub fn new(map: &ContainerMap, env: &Env) -> Result<Graph, Cycle> {
        let mut graph = Graph::default();
        for (name, config) in &map.containers {
            if config.abstract_ {
                continue;
            }
            let direct = direct_dependencies(map, name, env);
            for instance in config.instance_slots() {
                let item = Item::container(name, instance.as_deref());
                graph.containers.push(item.clone());
                graph.direct.insert(item, direct.clone());
            }
        }
        for item in graph.containers.clone() {
            graph.walk(&item, &mut Vec::new(), &mut BTreeSet::new())?;
        }
        Ok(graph)
    }

    /// Depth-first walk that reports the first cycle found.
    fn walk(
        &self,
        item: &Item,
        stack: &mut Vec<Item>,
        done: &mut BTreeSet<Item>,
    ) -> Result<(), Cycle> {
        if done.contains(item) {
            return Ok(());
        }
        if let Some(start) = stack.iter().position(|i| i == item) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(item.clone());
            return Err(Cycle(cycle));
        }
        stack.push(item.clone());
        for next in self.direct.get(item).into_iter().flatten() {
            self.walk(next, stack, done)?;
        }
        stack.pop();
        done.insert(item.clone());
        Ok(())
    }

    /// Every container of the map, in document order.
    pub fn containers(&self) -> &[Item] {
        &self.containers
    }

    /// What `item` needs directly.
    pub fn direct(&self, item: &Item) -> &[Item] {
        self.direct.get(item).map(Vec::as_slice).unwrap_or_default()
    }

    /// Everything `item` needs, deepest first, without `item` itself: the order to create and start them.
    pub fn dependencies(&self, item: &Item) -> Vec<Item> {
        let mut out = Vec::new();
        self.collect_dependencies(item, &mut out);
        out
    }

    fn collect_dependencies(&self, item: &Item, out: &mut Vec<Item>) {
        let direct = self.direct(item);
        for dependency in direct {
            if matches!(dependency, Item::Container { .. }) {
                self.collect_dependencies(dependency, out);
            }
        }
        for dependency in direct {
            if !out.contains(dependency) {
                out.push(dependency.clone());
            }
        }
    }

    /// The containers that need `item`, farthest first, without `item`: the order to stop and remove them.
    pub fn dependents(&self, item: &Item) -> Vec<Item> {
        let mut out = Vec::new();
        self.collect_dependents(item, &mut out);
        out
    }

    fn direct_dependents(&self, item: &Item) -> Vec<&Item> {
        self.containers
            .iter()
            .filter(|c| self.direct(c).contains(item))
            .collect()
    }

    fn collect_dependents(&self, item: &Item, out: &mut Vec<Item>) {
        let direct = self.direct_dependents(item);
        for dependent in &direct {
            self.collect_dependents(dependent, out);
        }
        for dependent in direct {
            if !out.contains(dependent) {
                out.push(dependent.clone());
            }
        }
    }

    /// `items` in groups that may run at the same time: each group only needs items of earlier groups.
    pub fn levels(&self, items: &[Item]) -> Vec<Vec<Item>> {
        let mut depth: BTreeMap<&Item, usize> = BTreeMap::new();
        for item in items {
            let level = self
                .direct(item)
                .iter()
                .filter_map(|d| depth.get(d))
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            depth.insert(item, level);
        }
        let mut levels: Vec<Vec<Item>> = Vec::new();
        for item in items {
            let level = depth[item];
            if levels.len() <= level {
                levels.resize(level + 1, Vec::new());
            }
            levels[level].push(item.clone());
        }
        levels
    }
}

/// Every instance of `config` (or the config itself when it has none).
fn all_instances(map: &ContainerMap, config: &str) -> Vec<Item> {
    match map.container(config) {
        Some(c) => c
            .instance_slots()
            .iter()
            .map(|i| Item::container(config, i.as_deref()))
            .collect(),
        None => Vec::new(),
    }
}

/// `config` or `config.instance` as container items.
fn reference(map: &ContainerMap, name: &str) -> Vec<Item> {
    match name.split_once('.') {
        Some((config, instance)) if !instance.is_empty() => {
            if map.container(config).is_some() {
                vec![Item::container(config, Some(instance))]
            } else {
                Vec::new()
            }
        }
        _ => all_instances(map, name.trim_end_matches('.')),
    }
}

/// docker-map's direct dependency list of a config, in its order (§3.1), duplicates dropped.
fn direct_dependencies(map: &ContainerMap, name: &str, env: &Env) -> Vec<Item> {
    let Some(config) = map.container(name) else {
        return Vec::new();
    };
    let mut out: Vec<Item> = Vec::new();
    let add = |items: Vec<Item>, out: &mut Vec<Item>| {
        for item in items {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    };
    if let Some(NetworkMode::Config {
        config: other,
        instance,
        ..
    }) = &config.network_mode
    {
        let configured = map
            .container(other)
            .is_some_and(|c| instance.as_ref().is_some_and(|i| c.instances.contains(i)));
        let items = if configured {
            vec![Item::container(other, instance.as_deref())]
        } else {
            all_instances(map, other)
        };
        add(items, &mut out);
    }
    for endpoint in config.networks.iter().flatten() {
        if !PREDEFINED_NETWORKS.contains(&endpoint.network.as_str()) {
            add(vec![Item::Network(endpoint.network.clone())], &mut out);
        }
        for link in &endpoint.links {
            add(reference(map, &link.container), &mut out);
        }
    }
    for used in &config.uses {
        let (first, second) = match used.name.split_once('.') {
            Some((a, b)) => (a, b),
            None => (used.name.as_str(), ""),
        };
        let items = if map.use_attached_parent_name {
            match map.container(first) {
                Some(parent)
                    if second.is_empty() || parent.attaches.iter().any(|a| a.alias == second) =>
                {
                    all_instances(map, first)
                }
                Some(_) => vec![Item::container(first, Some(second))],
                None => Vec::new(),
            }
        } else {
            match map
                .containers
                .iter()
                .find(|(_, c)| c.attaches.iter().any(|a| a.alias == first))
            {
                Some((parent, _)) => all_instances(map, parent),
                None => reference(map, &used.name),
            }
        };
        add(items, &mut out);
    }
    for link in &config.links {
        add(reference(map, &link.container), &mut out);
    }
    for attached in &config.attaches {
        add(
            vec![Item::Volume {
                config: name.to_owned(),
                alias: attached.alias.clone(),
            }],
            &mut out,
        );
    }
    let image = config_image(map, name, env).unwrap_or_else(|_| {
        config
            .image
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| name.to_owned())
    });
    add(vec![Item::Image(image)], &mut out);
    // Abstract configs are templates, never containers; a reference to one is reported by the integrity check.
    out.retain(|item| !matches!(item, Item::Container { config, .. } if map.container(config).is_some_and(|c| c.abstract_)));
    out
}
